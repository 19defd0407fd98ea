package web_test

import (
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/inps/sportello/internal/web"
)

// The chooser draws the SPID entry after AgID's button guidelines (blue button, white text,
// the SPID mark on the left, the identity providers in a list below it) and the CIE entry
// likewise, with sportello's own marks; it names the service, and every page has a favicon
// and the INPS name as a text wordmark.
func TestChooserDrawsTheSPIDAndCIEEntries(t *testing.T) {
	r := web.New(map[string]map[string]string{"chooser.service": {"it": "Stai accedendo a:", "en": "You are signing in to:"}})
	data := web.ChooserData{Service: "Servizio demo", Options: []web.ChooserOption{
		{ID: "spid", Method: "spid", Name: "SPID", Button: "Entra con SPID", URL: "/login/x/spid",
			Choices: []web.Choice{{Name: "Dev IdP", URL: "/login/x/spid?hint=a"}}, ChoicesLabel: "Gestori"},
		{ID: "cie", Method: "cie", Name: "CIE", Button: "Entra con CIE", URL: "/login/x/cie"},
		{ID: "pin", Method: "pin", Name: "PIN", Button: "Entra con il PIN INPS", URL: "/login/x/pin"},
	}}
	w := httptest.NewRecorder()
	if err := r.Render(w, 200, r.Page("chooser"), r.NewPage(httptest.NewRequest("GET", "/login/x", nil), "it", "n", "Accedi", data)); err != nil {
		t.Fatal(err)
	}
	body := w.Body.String()
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`<summary class="sp-entry-btn sp-spid-btn"><span class="sp-entry-mark"><svg aria-hidden="true" focusable="false"><use href="/static/[0-9a-f]+/svg/marks.svg#sp-spid">`),
		regexp.MustCompile(`<span class="sp-entry-text">Entra con SPID</span></summary>`),
		regexp.MustCompile(`<a class="sp-entry-btn sp-cie-btn" href="/login/x/cie">.*marks.svg#sp-cie.*Entra con CIE</span></a>`),
		regexp.MustCompile(`<a class="btn btn-primary" href="/login/x/pin">Entra con il PIN INPS</a>`),
		regexp.MustCompile(`Stai accedendo a: <strong>Servizio demo</strong>`),
		regexp.MustCompile(`<link rel="icon" type="image/svg\+xml" href="/static/[0-9a-f]+/img/favicon.svg">`),
		regexp.MustCompile(`<span class="sp-wordmark">INPS</span>`),
	} {
		if !want.MatchString(body) {
			t.Errorf("the chooser lacks %s", want)
		}
	}
	if strings.Contains(body, "it-user") {
		t.Error("the SPID entry still uses a generic icon")
	}
}

// Every mark a template names is drawn in static/svg/marks.svg, and the favicon is served.
func TestMarksAndFaviconAreEmbedded(t *testing.T) {
	marks, err := os.ReadFile("static/svg/marks.svg")
	if err != nil {
		t.Fatal(err)
	}
	tmpl, _ := os.ReadFile("templates/chooser.html")
	found := regexp.MustCompile(`mark "([a-z-]+)"`).FindAllStringSubmatch(string(tmpl), -1)
	if len(found) < 2 {
		t.Fatalf("only %d marks found in the chooser", len(found))
	}
	for _, m := range found {
		if !strings.Contains(string(marks), `<symbol id="`+m[1]+`"`) {
			t.Errorf("mark %s is not drawn in marks.svg", m[1])
		}
	}
	for _, path := range []string{web.Asset("img/favicon.svg"), web.Asset("svg/marks.svg")} {
		w := httptest.NewRecorder()
		web.Static().ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		if w.Code != 200 || w.Header().Get("Content-Type") != "image/svg+xml" {
			t.Errorf("%s: %d %q", path, w.Code, w.Header().Get("Content-Type"))
		}
	}
	w := httptest.NewRecorder()
	web.Favicon().ServeHTTP(w, httptest.NewRequest("GET", "/favicon.ico", nil))
	if w.Code != 200 || w.Header().Get("Content-Type") != "image/svg+xml" || !strings.Contains(w.Body.String(), "<svg") {
		t.Errorf("/favicon.ico: %d %q", w.Code, w.Header().Get("Content-Type"))
	}
}
