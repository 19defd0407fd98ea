package delegation

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/inps/sportello/providers"
)

// A refused registration says what is wrong at each field: its own message,
// aria-invalid and aria-describedby on that field only, a summary linking to it, what was
// typed kept, and every field marked required or optional.
func TestRegistrationErrorsAreShownAtEachField(t *testing.T) {
	fx := newWebFixture(t)
	fx.session = rossi
	status, body := fx.do(t, "POST", "/deleghe/register", form("fiscal_code", "CNTCHR83T41D969X", "given_name", "Chiara",
		"end", "31/02/2030"), "it")
	if status != http.StatusBadRequest {
		t.Fatalf("status %d", status)
	}
	input := func(name string) string {
		m := regexp.MustCompile(`<input[^>]* id="f-` + name + `"[^>]*>`).FindString(body)
		if m == "" {
			t.Fatalf("no field %s:\n%s", name, body)
		}
		return m
	}
	for name, msg := range map[string]string{"fiscal_code": "non è valido", "family_name": "Compila questo campo", "end": "data futura"} {
		in := input(name)
		if !strings.Contains(in, `aria-invalid="true"`) || !strings.Contains(in, "f-"+name+"-error") {
			t.Errorf("%s is not marked invalid with its message: %s", name, in)
		}
		if !regexp.MustCompile(`id="f-` + name + `-error"[^>]*>.*` + msg).MatchString(body) {
			t.Errorf("%s lacks its message %q", name, msg)
		}
		if !strings.Contains(body, `<a href="#f-`+name+`">`) {
			t.Errorf("the summary does not link to %s", name)
		}
	}
	for _, name := range []string{"given_name", "email"} {
		if in := input(name); strings.Contains(in, "aria-invalid") {
			t.Errorf("%s has no error but is marked invalid: %s", name, in)
		}
	}
	if !strings.Contains(input("fiscal_code"), `value="CNTCHR83T41D969X"`) || !strings.Contains(input("given_name"), `value="Chiara"`) ||
		!strings.Contains(input("end"), `value="31/02/2030"`) {
		t.Error("what was typed is not kept")
	}
	if !regexp.MustCompile(`for="f-fiscal_code">[^<]+<span class="sp-need">\(obbligatorio\)`).MatchString(body) ||
		!regexp.MustCompile(`for="f-email">[^<]+<span class="sp-need">\(facoltativo\)`).MatchString(body) ||
		!strings.Contains(input("given_name"), `aria-required="true"`) {
		t.Error("required and optional fields are not marked")
	}
	if given, _ := fx.reg.Given(ctx, rossi.FiscalNumber); len(given) != 0 {
		t.Fatal("a refused form registered a delegation")
	}
}

// Without a session, or with one below level 2, the page offers the sign-in that comes back
// to it: no page is a dead end after a logout.
func TestPagesOfferTheSignIn(t *testing.T) {
	fx := newWebFixture(t)
	web, err := NewWeb(fx.reg, Deps{CSRF: csrf{}, Session: func(*http.Request) (*providers.Identity, error) { return fx.session, nil },
		LoginURL: func(next string) string { return "/accedi?next=" + next }})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*providers.Identity{nil, person(DevDelegatorCF, "Giuseppe", "Verdi", 1)} {
		fx.session = s
		rec := httptest.NewRecorder()
		web.ServeHTTP(rec, httptest.NewRequest("GET", "/deleghe/", nil))
		if !strings.Contains(rec.Body.String(), `href="/accedi?next=/deleghe/">Accedi per gestire le deleghe</a>`) {
			t.Fatalf("no sign-in link (%d):\n%s", rec.Code, rec.Body)
		}
	}
}

// An unknown address or a wrong method under /deleghe/ is a page of the layout, in the
// person's language, not Go's bare text.
func TestUnknownAndWrongMethodAreLayoutPages(t *testing.T) {
	fx := newWebFixture(t)
	fx.session = verdi
	status, body := fx.do(t, "GET", "/deleghe/nonexistent", nil, "en")
	if status != http.StatusNotFound || !strings.Contains(body, `<html lang="en">`) || !strings.Contains(body, "Page not found") ||
		!strings.Contains(body, "bootstrap-italia.min.css") {
		t.Fatalf("404: %d %s", status, body)
	}
	req, _ := http.NewRequest(http.MethodPut, fx.srv.URL+"/deleghe/", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, POST" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("405: %d %q %q", resp.StatusCode, resp.Header.Get("Allow"), resp.Header.Get("Content-Type"))
	}
	if status, body := fx.do(t, "POST", "/deleghe/", form(), "it"); status != http.StatusMethodNotAllowed || !strings.Contains(body, "Richiesta non valida") {
		t.Fatalf("POST to the list: %d %s", status, body)
	}
}
