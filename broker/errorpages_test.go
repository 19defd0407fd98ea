package broker

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// An address no route serves is a page of the layout, with lang and a reference, in the
// person's language; API paths keep answering JSON. (Go's bare "404 page not found" has no
// layout and fails two axe rules.)
func TestUnknownAddressIsALayoutPage(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	for _, tt := range []struct{ path, lang, want string }{
		{"/no-such-page", "it-IT", "Pagina non trovata"},
		{"/logn", "en-GB", "Page not found"},
		{"/pin-typo/login?x=1", "en", "Page not found"},
	} {
		req, _ := http.NewRequest("GET", tb.URL+tt.path, nil)
		req.Header.Set("Accept-Language", tt.lang)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body := string(b)
		if resp.StatusCode != http.StatusNotFound || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
			!strings.Contains(body, `<html lang="`+tt.lang[:2]+`">`) || !strings.Contains(body, tt.want) ||
			!strings.Contains(body, `<main id="main"`) || !strings.Contains(body, `class="sp-ref"`) ||
			!strings.Contains(resp.Header.Get("Content-Security-Policy"), "nonce-") {
			t.Errorf("%s: %d %q\n%.800s", tt.path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
	for _, path := range []string{"/oauth/nope", "/.well-known/nope", "/admin/nope"} {
		resp, err := http.Get(tb.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		var out map[string]string
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || err != nil || out["error"] != "not_found" {
			t.Errorf("%s: %d %v %v", path, resp.StatusCode, out, err)
		}
	}
}

// A page route asked with the wrong method is a layout page with Allow.
func TestWrongMethodOnAPageRoute(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	resp, err := http.Get(tb.URL + "/login/act")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != http.MethodPost || !strings.Contains(string(b), `<html lang="it">`) {
		t.Fatalf("%d %q %.300s", resp.StatusCode, resp.Header.Get("Allow"), b)
	}
}

// A login cancelled at the identity provider (SPID nr25) is a page of the broker's own: what
// happened, "try again" back to the chooser of the same login, and "back to the service"
// with access_denied; the browser is not sent straight back.
func TestCancelledLoginIsAPageWithBothWaysOn(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	br := newBrowser(t)
	q := url.Values{"client_id": {"demo-rp"}, "response_type": {"code"}, "scope": {"openid"},
		"redirect_uri": {"http://127.0.0.1:9000/callback"}, "state": {"st-1"}, "idp": {"cancel"}}
	cb, resp := br.authorize(t, tb.URL+pathAuthorize+"?"+q.Encode())
	if cb != nil {
		t.Fatalf("sent straight back to the service: %v", cb)
	}
	b, _ := io.ReadAll(resp.Body)
	body := string(b)
	if !strings.Contains(body, "Accesso annullato") || !strings.Contains(body, "Hai annullato l&#39;accesso") {
		t.Fatalf("no cancellation page: %d %.2000s", resp.StatusCode, body)
	}
	if !strings.Contains(body, `href="http://127.0.0.1:9000/callback?error=access_denied`) || !strings.Contains(body, "state=st-1") {
		t.Fatal("no way back to the service with access_denied")
	}
	i := strings.Index(body, `href="`+tb.URL+`/login/`)
	if i < 0 {
		t.Fatal("no way to try again")
	}
	retry := body[i+len(`href="`):]
	retry = retry[:strings.IndexByte(retry, '"')]
	// Trying again shows the chooser of the same login, still pending.
	_, resp = br.authorize(t, retry)
	b, _ = io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `class="sp-choice"`) {
		t.Fatalf("try again: %d %.500s", resp.StatusCode, b)
	}
}

// No page is drawn on the mutual-TLS origin: every refusal there is a redirect to the issuer
// origin, which shows the page in the login's language, reloadable and switchable. (The mTLS
// listener has no keep-alive: pages drawn there lose their fonts, about 2 in 10.)
func TestMTLSOriginHandsEveryPageBack(t *testing.T) {
	cp := &certProvider{}
	tb := newTestBrokerWith(t, memStore(t), func(o *Options) { o.Providers = append(o.Providers, cp) })
	mtls := tb.MTLSHandler()
	br := noFollowBrowser(newBrowser(t))
	q := url.Values{"client_id": {"demo-rp"}, "response_type": {"code"}, "scope": {"openid"}, "ui_locales": {"en"},
		"redirect_uri": {"http://127.0.0.1:9000/callback"}, "state": {"s"}, "idp": {"card"}}
	resp, err := br.Get(tb.URL + pathAuthorize + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	step := url.QueryEscape(loc.Query().Get("step"))
	for _, tt := range []struct {
		name, path string
		status     int
		want       string
	}{
		{"no certificate", "/mtls/card?step=" + step, http.StatusBadRequest, "The browser presented no certificate"},
		{"unknown step", "/mtls/card?step=nope", http.StatusBadRequest, "expired"},
		{"unknown provider", "/mtls/nope?step=" + step, http.StatusNotFound, "not available"},
		{"unknown path", "/favicon.ico", http.StatusNotFound, "not a page"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("GET", tt.path, nil)
			req.Header.Set("Accept-Language", "en")
			mtls.ServeHTTP(rec, req)
			status, body := handedBack(t, rec)
			if status != tt.status || !strings.Contains(body, tt.want) || !strings.Contains(body, "bootstrap-italia.min.css") {
				t.Fatalf("%d %.1500s", status, body)
			}
			if tt.name == "no certificate" {
				// The login's ui_locales holds on the issuer origin, and the page can be reloaded
				// in the other language.
				if !strings.Contains(body, `<html lang="en">`) {
					t.Fatal("not in the login's language")
				}
				again, _ := http.Get(rec.Header().Get("Location") + "&lang=it")
				b, _ := io.ReadAll(again.Body)
				again.Body.Close()
				if again.StatusCode != tt.status || !strings.Contains(string(b), "non ha presentato alcun certificato") {
					t.Fatalf("switch: %d %.500s", again.StatusCode, b)
				}
			}
		})
	}
	rec := httptest.NewRecorder()
	tb.loginErrorHTTP(rec, httptest.NewRequest("GET", pathLoginError+"?ref=forged", nil))
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("a forged reference: %d", rec.Code)
	}
}

// When the store cannot keep a page for the hand-back, the issuer origin still says what is
// true — the service is temporarily unavailable (503, Retry-After) — and shows nothing of the
// query but a language and a well-formed reference: a crafted link carries no text of its own.
func TestTheUnavailablePageShowsOnlyItsOwnMessage(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	for _, tt := range []struct{ name, query, lang, want, never string }{
		{"in the login's language with the reference", "ui_locales=en&ref=abc-12", "", "temporarily unavailable", ""},
		{"in Italian by default", "ref=abc-12", "", "temporaneamente non disponibile", ""},
		{"a reference with markup is replaced", "ui_locales=en&ref=" + url.QueryEscape(`<b>call 0000</b>`), "", "temporarily unavailable", "call 0000"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Get(tb.URL + pathLoginUnavailable + "?" + tt.query)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body := string(b)
			if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "30" || !strings.Contains(body, tt.want) {
				t.Fatalf("%d Retry-After %q %.1500s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
			}
			if tt.never != "" && strings.Contains(body, tt.never) {
				t.Fatalf("the page shows the query's text:\n%s", body)
			}
			if tt.never == "" && !strings.Contains(body, `class="sp-ref">abc-12<`) {
				t.Fatalf("no reference:\n%s", body)
			}
		})
	}
}
