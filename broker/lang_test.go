package broker

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// chooserOf starts an authorisation in br (with extra parameters) and returns the chooser's
// URL and body.
func chooserOf(t *testing.T, tb *testBroker, br *browser, extra url.Values) (*url.URL, string) {
	t.Helper()
	q := url.Values{"client_id": {"demo-rp"}, "response_type": {"code"}, "scope": {"openid"},
		"redirect_uri": {"http://127.0.0.1:9000/callback"}, "state": {"s"}}
	for k, v := range extra {
		q[k] = v
	}
	_, resp := br.authorize(t, tb.URL+pathAuthorize+"?"+q.Encode())
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `class="sp-choice"`) {
		t.Fatalf("no chooser: %d %.500s", resp.StatusCode, body)
	}
	return resp.Request.URL, string(body)
}

func langCookieIn(br *browser, base string) string {
	u, _ := url.Parse(base)
	for _, c := range br.Jar.Cookies(u) {
		if c.Name == langCookie {
			return c.Value
		}
	}
	return ""
}

// ui_locales is for the login that asked it; only the person's own choice with the switch is
// remembered for later logins: a login with ui_locales=en does not leave every later login in
// English.
func TestUILocalesIsForThatLoginOnly(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	br := newBrowser(t)
	chooser, body := chooserOf(t, tb, br, url.Values{"ui_locales": {"en"}})
	if !strings.Contains(body, `<html lang="en">`) {
		t.Fatal("ui_locales=en did not give an English chooser")
	}
	if c := langCookieIn(br, tb.URL); c != "" {
		t.Fatalf("ui_locales was remembered in the language cookie (%q)", c)
	}
	// The provider pages of that login (the PIN form names it) speak its language too.
	id := strings.TrimPrefix(chooser.Path, "/login/")
	r := httptest.NewRequest("GET", "/pin/login?login="+url.QueryEscape(id), nil)
	r.Header.Set("Accept-Language", "it-IT")
	if got := tb.Lang(r); got != "en" {
		t.Fatalf("the PIN page of an ui_locales=en login is in %s", got)
	}
	// The next login at another service, without ui_locales: the browser's language again.
	if _, body := chooserOf(t, tb, br, nil); !strings.Contains(body, `<html lang="it">`) {
		t.Fatal("the language asked by an earlier service leaked into a later login")
	}

	// The switch is the person's choice: remembered, and stronger than a later ui_locales.
	resp, err := br.Get(chooser.String() + "?lang=en")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if c := langCookieIn(br, tb.URL); c != "en" {
		t.Fatalf("the switch was not remembered (%q)", c)
	}
	if _, body := chooserOf(t, tb, br, url.Values{"ui_locales": {"it"}}); !strings.Contains(body, `<html lang="en">`) {
		t.Fatal("a relying party's ui_locales overrode the person's own choice")
	}
}
