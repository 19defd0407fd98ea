package broker

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// RP-initiated logout ends the SSO session and returns only to a registered URI.
func TestEndSession(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	br := newBrowser(t)
	q := url.Values{"client_id": {"demo-rp"}, "response_type": {"code"}, "scope": {"openid"},
		"redirect_uri": {"http://127.0.0.1:9000/callback"}, "state": {"s"}, "idp": {"RSSMRA80A01H501U:2"}}
	cb, _ := br.authorize(t, tb.URL+pathAuthorize+"?"+q.Encode())
	_, out := postForm(t, tb.URL+pathToken, url.Values{"grant_type": {"authorization_code"}, "code": {cb.Get("code")},
		"redirect_uri": {"http://127.0.0.1:9000/callback"}}, "demo-rp", "demo-secret")
	idToken := out["id_token"].(string)

	t.Run("unregistered post_logout_redirect_uri is refused with a page", func(t *testing.T) {
		lq := url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {"http://evil.example/"}}
		resp, err := br.Get(tb.URL + pathEndSession + "?" + lq.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("got %d", resp.StatusCode)
		}
	})
	t.Run("a forged id_token_hint is refused", func(t *testing.T) {
		lq := url.Values{"id_token_hint": {forgeToken(t)}, "post_logout_redirect_uri": {"http://127.0.0.1:9000/"}}
		resp, err := br.Get(tb.URL + pathEndSession + "?" + lq.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("got %d", resp.StatusCode)
		}
	})
	t.Run("logout returns to the registered URI with state and ends the session", func(t *testing.T) {
		lq := url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {"http://127.0.0.1:9000/"}, "state": {"bye"}}
		resp, err := br.Get(tb.URL + pathEndSession + "?" + lq.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); loc != "http://127.0.0.1:9000/?state=bye" {
			t.Fatalf("logout redirect = %q (%d)", loc, resp.StatusCode)
		}
		q.Del("idp")
		q.Set("prompt", "none")
		if cb, _ := br.authorize(t, tb.URL+pathAuthorize+"?"+q.Encode()); cb == nil || cb.Get("error") != "login_required" {
			t.Fatalf("the session survived the logout: %v", cb)
		}
	})
}

// max_age: a session older than max_age is not reused; auth_time stays the original login's.
func TestMaxAge(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	br := newBrowser(t)
	q := url.Values{"client_id": {"demo-rp"}, "response_type": {"code"}, "scope": {"openid"},
		"redirect_uri": {"http://127.0.0.1:9000/callback"}, "state": {"s"}, "idp": {"RSSMRA80A01H501U:2"}}
	if cb, _ := br.authorize(t, tb.URL+pathAuthorize+"?"+q.Encode()); cb == nil {
		t.Fatal("login failed")
	}
	q.Del("idp")
	q.Set("max_age", "3600")
	cb, _ := br.authorize(t, tb.URL+pathAuthorize+"?"+q.Encode())
	if cb == nil {
		t.Fatal("a fresh session did not satisfy max_age=3600")
	}
	_, out := postForm(t, tb.URL+pathToken, url.Values{"grant_type": {"authorization_code"}, "code": {cb.Get("code")},
		"redirect_uri": {"http://127.0.0.1:9000/callback"}}, "demo-rp", "demo-secret")
	if at, _ := numericClaim(jwtClaims(t, out["id_token"].(string)), "auth_time"); at == 0 || time.Since(time.Unix(at, 0)) > time.Minute {
		t.Fatalf("auth_time = %v", at)
	}
	tb.now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	defer func() { tb.now = time.Now }()
	if cb, _ := br.authorize(t, tb.URL+pathAuthorize+"?"+q.Encode()); cb != nil {
		t.Fatal("a session older than max_age answered without a new login")
	}
}

// Without an id_token_hint, logout asks for confirmation (a CSRF-protected POST): a link on
// another site cannot end the session by itself.
func TestLogoutWithoutHintNeedsConfirmation(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	br := newBrowser(t)
	q := url.Values{"client_id": {"demo-rp"}, "response_type": {"code"}, "scope": {"openid"},
		"redirect_uri": {"http://127.0.0.1:9000/callback"}, "state": {"s"}, "idp": {"RSSMRA80A01H501U:2"}}
	if cb, _ := br.authorize(t, tb.URL+pathAuthorize+"?"+q.Encode()); cb == nil {
		t.Fatal("login failed")
	}
	resp, err := br.Get(tb.URL + pathEndSession)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `name="csrf"`) {
		t.Fatalf("no confirmation page: %d", resp.StatusCode)
	}
	q.Del("idp")
	q.Set("prompt", "none")
	if cb, _ := br.authorize(t, tb.URL+pathAuthorize+"?"+q.Encode()); cb == nil || cb.Get("code") == "" {
		t.Fatal("a GET without id_token_hint ended the session")
	}
	if st, _ := postForm(t, tb.URL+pathEndSession, url.Values{}, "", ""); st != http.StatusForbidden {
		t.Fatalf("a POST without the CSRF token: %d", st)
	}
	csrf := csrfField.FindStringSubmatch(string(body))[1]
	post, err := br.PostForm(tb.URL+pathEndSession, url.Values{"csrf": {csrf}})
	if err != nil {
		t.Fatal(err)
	}
	post.Body.Close()
	if cb, _ := br.authorize(t, tb.URL+pathAuthorize+"?"+q.Encode()); cb == nil || cb.Get("error") != "login_required" {
		t.Fatalf("the confirmed logout left the session: %v", cb)
	}
}
