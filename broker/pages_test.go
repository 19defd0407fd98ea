package broker

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestPageLanguageOrder(t *testing.T) {
	b := newTestBroker(t, memStore(t)).Broker
	tests := []struct {
		name, query, uiLocales, cookie, acceptLanguage, want string
	}{
		{"Italian by default", "", "", "", "", "it"},
		{"the switch wins over everything", "lang=en", "it", "it", "it", "en"},
		{"the language the person chose before the relying party's ui_locales", "", "en-GB it", "it", "it", "it"},
		{"ui_locales before Accept-Language", "", "en-GB it", "", "it-IT", "en"},
		{"the remembered language before Accept-Language", "", "", "en", "it-IT", "en"},
		{"Accept-Language", "", "", "", "en-GB,en;q=0.9", "en"},
		{"Accept-Language picks the first supported", "", "", "", "de-DE,de;q=0.9,en;q=0.5", "en"},
		{"unsupported languages fall back to Italian", "", "fr", "", "de", "it"},
		{"a forged switch value is ignored", "lang=xx", "", "", "en", "en"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/login/x?"+tt.query, nil)
			if tt.cookie != "" {
				r.AddCookie(&http.Cookie{Name: langCookie, Value: tt.cookie})
			}
			if tt.acceptLanguage != "" {
				r.Header.Set("Accept-Language", tt.acceptLanguage)
			}
			if got := b.pickLang(r, tt.uiLocales); got != tt.want {
				t.Fatalf("lang = %s, want %s", got, tt.want)
			}
		})
	}
}

// Outside dev mode every page carries HSTS and every cookie is Secure (dev mode serves plain
// http, so neither applies there: see internal/web's walk of a dev process).
func TestPagesOutsideDevModeSendHSTSAndSecureCookies(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	tb.cfg.Dev = false // after New: the demo clients' http redirect URIs are dev-only
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	q := url.Values{"client_id": {"demo-rp"}, "response_type": {"code"}, "scope": {"openid"},
		"redirect_uri": {"http://127.0.0.1:9000/callback"}, "state": {"state-1"}}
	resp, err := c.Get(tb.URL + pathAuthorize + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	pages := []string{tb.URL + pathAuthorize + "?" + q.Encode(), tb.URL + "/logged-out", tb.URL + "/login/unknown"}
	for _, u := range pages {
		resp, err := c.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if hsts := resp.Header.Get("Strict-Transport-Security"); !strings.Contains(hsts, "max-age=") {
			t.Errorf("%s: no HSTS", u)
		}
		for _, ck := range resp.Cookies() {
			if !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode {
				t.Errorf("%s: cookie %s Secure=%v HttpOnly=%v SameSite=%v", u, ck.Name, ck.Secure, ck.HttpOnly, ck.SameSite)
			}
		}
	}
	// The language cookie too.
	resp, err = c.Get(tb.URL + "/login/unknown?lang=en")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	rec := httptest.NewRecorder()
	tb.rememberChosenLang(rec, httptest.NewRequest("GET", "/?lang=en", nil))
	if ck := rec.Result().Cookies(); len(ck) != 1 || !ck[0].Secure || !ck[0].HttpOnly || ck[0].SameSite != http.SameSiteLaxMode {
		t.Fatalf("language cookie: %+v", ck)
	}
}

// When the idle timeout has closed the session, the next chooser says so, once.
func TestIdleSessionIsExplainedOnTheChooser(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	br := newBrowser(t)
	q := url.Values{"client_id": {"demo-rp"}, "response_type": {"code"}, "scope": {"openid"},
		"redirect_uri": {"http://127.0.0.1:9000/callback"}, "state": {"first"}, "idp": {"RSSMRA80A01H501U:2"}}
	if cb, _ := br.authorize(t, tb.URL+pathAuthorize+"?"+q.Encode()); cb == nil {
		t.Fatal("login failed")
	}
	base, _ := url.Parse(tb.URL)
	var sid string
	for _, ck := range br.Jar.Cookies(base) {
		if ck.Name == cookieSession {
			sid = ck.Value
		}
	}
	if sid == "" {
		t.Fatal("no session cookie")
	}
	if err := tb.store.Delete(t.Context(), "sess:"+tokenHash(sid)); err != nil { // what the idle TTL does
		t.Fatal(err)
	}
	q.Del("idp")
	q.Set("state", "second")
	q.Set("lang", "en")
	chooser := func() string {
		_, resp := br.authorize(t, tb.URL+pathAuthorize+"?"+q.Encode())
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	if body := chooser(); !strings.Contains(body, "your session was closed after 30 minutes without activity") {
		t.Fatalf("no idle notice: %.2000s", body)
	}
	if body := chooser(); strings.Contains(body, "without activity") {
		t.Fatal("the idle notice is shown again")
	}
}

// An error page answering a POST has no language switch (it would replay the POST as a GET);
// one answering a GET keeps it, with the request's query.
func TestErrorPageSwitchOnlyForGET(t *testing.T) {
	b := newTestBroker(t, memStore(t)).Broker
	for _, tt := range []struct {
		method string
		want   bool
	}{{"GET", true}, {"POST", false}} {
		rec := httptest.NewRecorder()
		b.renderError(rec, httptest.NewRequest(tt.method, "/spid/acs?x=1", nil), http.StatusBadRequest, "login.expired", nil, "", "")
		body := rec.Body.String()
		if got := strings.Contains(body, `hreflang="en"`); got != tt.want {
			t.Errorf("%s: switch shown = %v", tt.method, got)
		}
		if tt.want && !strings.Contains(body, `href="/spid/acs?lang=en&amp;x=1"`) {
			t.Errorf("GET switch does not keep the query: %s", body)
		}
		if rec.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("%s: an error page may be cached", tt.method)
		}
	}
}

// FuzzPickLang: whatever the switch, ui_locales, cookie and Accept-Language say (outside
// input), the page language is Italian or English.
func FuzzPickLang(f *testing.F) {
	f.Add("en", "it", "en", "en-GB,en;q=0.9")
	f.Add("", "en-US it", "", "")
	f.Add("xx", "", "de", "*;q=0.1, fr-CH, de;q=0.7")
	f.Add("", "", "", "it-IT;q=abc,,;;")
	b := &Broker{}
	f.Fuzz(func(t *testing.T, lang, uiLocales, cookie, accept string) {
		r := httptest.NewRequest("GET", "/login/x", nil)
		r.URL.RawQuery = url.Values{"lang": {lang}}.Encode()
		if cookie != "" {
			r.AddCookie(&http.Cookie{Name: langCookie, Value: url.QueryEscape(cookie)})
		}
		r.Header.Set("Accept-Language", accept)
		if got := b.pickLang(r, uiLocales); got != "it" && got != "en" {
			t.Fatalf("pickLang = %q", got)
		}
	})
}
