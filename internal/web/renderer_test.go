package web_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/inps/sportello/internal/web"
)

func TestLanguageSwitchKeepsTheLoginInProgress(t *testing.T) {
	r := web.New()
	tests := []struct {
		name, url, lang, want string
	}{
		{"Italian page offers English", "/login/abc?hint=x", "it", "/login/abc?hint=x&lang=en"},
		{"English page offers Italian", "/pin/login?lang=en&login=L1", "en", "/pin/login?lang=it&login=L1"},
		{"unknown language falls back to Italian", "/login/abc", "de", "/login/abc?lang=en"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := r.NewPage(httptest.NewRequest("GET", tt.url, nil), tt.lang, "n", "T", nil)
			if p.SwitchURL != tt.want {
				t.Fatalf("switch = %q, want %q", p.SwitchURL, tt.want)
			}
		})
	}
}

func TestSAMLPostFormSubmitsWithoutInlineScript(t *testing.T) {
	r := web.New()
	w := httptest.NewRecorder()
	if err := r.WritePostForm(w, httptest.NewRequest("GET", "/login/x/spid", nil), "en", "https://idp.example/sso",
		map[string]string{"SAMLRequest": "PHNhbWw+", "RelayState": "rs"}); err != nil {
		t.Fatal(err)
	}
	body := w.Body.String()
	for _, want := range []string{`<form method="post" action="https://idp.example/sso" data-autosubmit>`,
		`name="SAMLRequest" value="PHNhbWw&#43;"`, `<button type="submit"`, `js/autosubmit.js`, `lang="en"`} {
		if !strings.Contains(body, want) {
			t.Errorf("post form lacks %s:\n%s", want, body)
		}
	}
	if strings.Contains(body, "<script>") || strings.Contains(body, "onload") {
		t.Fatal("inline script in the post form")
	}
	if w.Header().Get("Cache-Control") != "no-store" {
		t.Fatal("post form may be cached")
	}
}

func TestStaticFilesAreHashedAndCachedForAYear(t *testing.T) {
	h := web.Static()
	tests := []struct {
		name, path string
		status     int
		cache      string
	}{
		{"current version is immutable", web.Asset("css/bootstrap-italia.min.css"), 200, "immutable"},
		{"font", web.Asset("fonts/titillium-web-v10-latin-ext_latin-600.woff2"), 200, "immutable"},
		{"an old version is served without long caching", "/static/000000000000/css/sportello.css", 200, "no-cache"},
		{"no directory listing", web.Asset("css"), 404, ""},
		{"no directory listing with slash", web.Asset("css/"), 404, ""},
		{"no escape from the folder", "/static/" + web.Version() + "/../static.go", 404, ""},
		{"missing file", web.Asset("css/nope.css"), 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest("GET", tt.path, nil))
			if w.Code != tt.status || !strings.Contains(w.Header().Get("Cache-Control"), tt.cache) {
				t.Fatalf("%s: %d %q", tt.path, w.Code, w.Header().Get("Cache-Control"))
			}
		})
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, web.Asset("css/sportello.css"), nil))
	if w.Code != http.StatusMethodNotAllowed {
		t.Fatalf("POST: %d", w.Code)
	}
}

func TestMissingKeyNeverShowsTheRawKey(t *testing.T) {
	r := web.New(map[string]map[string]string{"broker.error": {"it": "Errore imprevisto.", "en": "Unexpected error."}})
	if got := r.T("en", "no.such.key"); got != "Unexpected error." {
		t.Fatalf("T = %q", got)
	}
	if got := r.T("en", "page.skip"); got != "Skip to content" {
		t.Fatalf("T = %q", got)
	}
}
