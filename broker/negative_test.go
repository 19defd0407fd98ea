package broker

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// postForm posts to the token endpoint and returns status and decoded body.
func postForm(t *testing.T, endpoint string, form url.Values, user, pass string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	body, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(body, &out)
	return resp.StatusCode, out
}

// codeFor runs a login and returns the code.
func codeFor(t *testing.T, tb *testBroker, clientID string, extra url.Values) string {
	t.Helper()
	q := url.Values{"client_id": {clientID}, "response_type": {"code"}, "scope": {"openid fiscal_number offline_access"},
		"redirect_uri": {"http://127.0.0.1:9000/callback"}, "state": {"s"}, "idp": {"RSSMRA80A01H501U:2"}}
	for k, v := range extra {
		q[k] = v
	}
	cb, resp := newBrowser(t).authorize(t, tb.URL+pathAuthorize+"?"+q.Encode())
	if cb == nil || cb.Get("code") == "" {
		t.Fatalf("no code: %d %v", resp.StatusCode, cb)
	}
	return cb.Get("code")
}

func TestTokenEndpointRefusals(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	tokenURL := tb.URL + pathToken
	verifier, challenge := pkce()
	redirect := "http://127.0.0.1:9000/callback"

	t.Run("unknown client is invalid_client (401)", func(t *testing.T) {
		st, out := postForm(t, tokenURL, url.Values{"grant_type": {"client_credentials"}}, "nobody", "x")
		if st != http.StatusUnauthorized || out["error"] != "invalid_client" {
			t.Fatalf("got %d %v", st, out)
		}
	})
	t.Run("wrong secret is invalid_client (401)", func(t *testing.T) {
		st, out := postForm(t, tokenURL, url.Values{"grant_type": {"client_credentials"}}, "demo-service", "wrong")
		if st != http.StatusUnauthorized || out["error"] != "invalid_client" {
			t.Fatalf("got %d %v", st, out)
		}
	})
	t.Run("client_secret_post is refused for a client_secret_basic client", func(t *testing.T) {
		st, out := postForm(t, tokenURL, url.Values{"grant_type": {"client_credentials"}, "client_id": {"demo-service"}, "client_secret": {"demo-service-secret"}}, "", "")
		if st != http.StatusUnauthorized || out["error"] != "invalid_client" {
			t.Fatalf("got %d %v", st, out)
		}
	})
	t.Run("scope not allowed for the client is invalid_scope", func(t *testing.T) {
		st, out := postForm(t, tokenURL, url.Values{"grant_type": {"client_credentials"}, "scope": {"offline_access"}}, "demo-service", "demo-service-secret")
		if st != http.StatusBadRequest || out["error"] != "invalid_scope" {
			t.Fatalf("got %d %v", st, out)
		}
	})
	t.Run("grant not allowed for the client is unauthorized_client", func(t *testing.T) {
		st, out := postForm(t, tokenURL, url.Values{"grant_type": {"client_credentials"}}, "demo-rp", "demo-secret")
		if out["error"] != "unauthorized_client" {
			t.Fatalf("got %d %v", st, out)
		}
	})
	t.Run("wrong PKCE verifier is invalid_grant", func(t *testing.T) {
		code := codeFor(t, tb, "demo-spa", url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}})
		_, out := postForm(t, tokenURL, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect},
			"client_id": {"demo-spa"}, "code_verifier": {verifier + "x"}}, "", "")
		if out["error"] != "invalid_grant" {
			t.Fatalf("got %v", out)
		}
	})
	t.Run("public client with the right verifier gets tokens", func(t *testing.T) {
		code := codeFor(t, tb, "demo-spa", url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}})
		st, out := postForm(t, tokenURL, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect},
			"client_id": {"demo-spa"}, "code_verifier": {verifier}}, "", "")
		if st != http.StatusOK || out["id_token"] == nil {
			t.Fatalf("got %d %v", st, out)
		}
	})
	t.Run("code used twice fails and revokes what the first use issued", func(t *testing.T) {
		code := codeFor(t, tb, "demo-rp", nil)
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}}
		st, first := postForm(t, tokenURL, form, "demo-rp", "demo-secret")
		if st != http.StatusOK {
			t.Fatalf("first use: %d %v", st, first)
		}
		_, second := postForm(t, tokenURL, form, "demo-rp", "demo-secret")
		if second["error"] != "invalid_grant" {
			t.Fatalf("second use: %v", second)
		}
		_, refreshed := postForm(t, tokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first["refresh_token"].(string)}}, "demo-rp", "demo-secret")
		if refreshed["error"] != "invalid_grant" {
			t.Fatalf("refresh token of a replayed code still works: %v", refreshed)
		}
		if _, ui := userinfo(t, tb, first["access_token"].(string)); ui == http.StatusOK {
			t.Fatal("access token of a replayed code still works at userinfo")
		}
	})
	t.Run("expired code is invalid_grant", func(t *testing.T) {
		code := codeFor(t, tb, "demo-rp", nil)
		tb.now = func() time.Time { return time.Now().Add(2 * time.Minute) }
		defer func() { tb.now = time.Now }()
		_, out := postForm(t, tokenURL, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}}, "demo-rp", "demo-secret")
		if out["error"] != "invalid_grant" {
			t.Fatalf("got %v", out)
		}
	})
	t.Run("code of another client is invalid_grant", func(t *testing.T) {
		code := codeFor(t, tb, "demo-rp", nil)
		_, out := postForm(t, tokenURL, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect},
			"client_id": {"demo-spa"}, "code_verifier": {verifier}}, "", "")
		if out["error"] != "invalid_grant" {
			t.Fatalf("got %v", out)
		}
	})
	t.Run("refresh token of another client is invalid_grant", func(t *testing.T) {
		code := codeFor(t, tb, "demo-rp", nil)
		_, first := postForm(t, tokenURL, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}}, "demo-rp", "demo-secret")
		_, out := postForm(t, tokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first["refresh_token"].(string)}, "client_id": {"demo-spa"}}, "", "")
		if out["error"] != "invalid_grant" {
			t.Fatalf("got %v", out)
		}
	})
	t.Run("introspection refused to a client not allowed to introspect", func(t *testing.T) {
		st, out := postForm(t, tb.URL+pathIntrospect, url.Values{"token": {"x"}}, "demo-rp", "demo-secret")
		if st != http.StatusForbidden || out["error"] != "unauthorized_client" {
			t.Fatalf("got %d %v", st, out)
		}
	})
}

func userinfo(t *testing.T, tb *testBroker, at string) (map[string]any, int) {
	req, _ := http.NewRequest(http.MethodGet, tb.URL+pathUserinfo, nil)
	req.Header.Set("Authorization", "Bearer "+at)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return out, resp.StatusCode
}

func TestAuthorizeRefusals(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	_, challenge := pkce()
	base := url.Values{"client_id": {"demo-rp"}, "response_type": {"code"}, "scope": {"openid"},
		"redirect_uri": {"http://127.0.0.1:9000/callback"}, "state": {"s"}, "idp": {"RSSMRA80A01H501U:2"}}
	with := func(k, v string) url.Values {
		q := url.Values{}
		for kk, vv := range base {
			q[kk] = vv
		}
		if v == "" {
			q.Del(k)
		} else {
			q.Set(k, v)
		}
		return q
	}
	pages := []struct {
		name string
		q    url.Values
	}{
		{"unknown client gets a page, no redirect", with("client_id", "nobody")},
		{"unregistered redirect URI gets a page, no redirect", with("redirect_uri", "http://evil.example/callback")},
		{"redirect URI prefix is not a match", with("redirect_uri", "http://127.0.0.1:9000/callback/x")},
	}
	for _, tt := range pages {
		t.Run(tt.name, func(t *testing.T) {
			cb, resp := newBrowser(t).authorize(t, tb.URL+pathAuthorize+"?"+tt.q.Encode())
			if cb != nil || resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
				t.Fatalf("got %d, callback %v", resp.StatusCode, cb)
			}
		})
	}
	spa := func(k, v string) url.Values {
		q := with("client_id", "demo-spa")
		if v == "" {
			q.Del(k)
		} else {
			q.Set(k, v)
		}
		return q
	}
	redirects := []struct {
		name, want string
		q          url.Values
	}{
		{"public client without PKCE", "invalid_request", spa("code_challenge", "")},
		{"plain PKCE refused", "invalid_request", func() url.Values {
			q := spa("code_challenge", challenge)
			q.Set("code_challenge_method", "plain")
			return q
		}()},
		{"scope not allowed", "invalid_scope", with("scope", "openid inps:services")},
		{"response_type token refused", "unsupported_response_type", with("response_type", "token")},
		{"prompt=none without a session", "login_required", with("prompt", "none")},
		{"cancelled login is access_denied", "access_denied", with("idp", "cancel")},
		{"level below acr_values is unmet_authentication_requirements", "unmet_authentication_requirements", func() url.Values {
			q := with("idp", "RSSMRA80A01H501U:2")
			q.Set("acr_values", "https://www.spid.gov.it/SpidL3")
			return q
		}()},
	}
	for _, tt := range redirects {
		t.Run(tt.name, func(t *testing.T) {
			br := newBrowser(t)
			cb, resp := br.authorize(t, tb.URL+pathAuthorize+"?"+tt.q.Encode())
			if cb == nil && resp.StatusCode == http.StatusForbidden {
				// A failure page offers the way back with the OAuth error.
				body, _ := io.ReadAll(resp.Body)
				if !strings.Contains(string(body), "error="+tt.want) {
					t.Fatalf("page without the %s way back: %s", tt.want, body)
				}
				return
			}
			if cb == nil || cb.Get("error") != tt.want || cb.Get("state") != "s" {
				t.Fatalf("got %d %v, want error %s", resp.StatusCode, cb, tt.want)
			}
		})
	}
}

// An SSO session answers a second authorisation without a login; prompt=login and a higher
// acr force a new one.
func TestSessionPromptAndMaxAge(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	br := newBrowser(t)
	q := url.Values{"client_id": {"demo-rp"}, "response_type": {"code"}, "scope": {"openid"},
		"redirect_uri": {"http://127.0.0.1:9000/callback"}, "state": {"s"}, "idp": {"RSSMRA80A01H501U:2"}}
	if cb, _ := br.authorize(t, tb.URL+pathAuthorize+"?"+q.Encode()); cb == nil {
		t.Fatal("first login failed")
	}
	q.Del("idp")
	if cb, resp := br.authorize(t, tb.URL+pathAuthorize+"?"+q.Encode()); cb == nil || cb.Get("code") == "" {
		t.Fatalf("session did not answer: %d", resp.StatusCode)
	}
	q.Set("prompt", "none")
	if cb, _ := br.authorize(t, tb.URL+pathAuthorize+"?"+q.Encode()); cb == nil || cb.Get("code") == "" {
		t.Fatal("prompt=none with a session must answer with a code")
	}
	q.Set("prompt", "login")
	if cb, _ := br.authorize(t, tb.URL+pathAuthorize+"?"+q.Encode()); cb != nil {
		t.Fatal("prompt=login must force a new login, not answer from the session")
	}
	q.Del("prompt")
	q.Set("acr_values", "https://www.spid.gov.it/SpidL3")
	if cb, _ := br.authorize(t, tb.URL+pathAuthorize+"?"+q.Encode()); cb != nil {
		t.Fatal("an L2 session must not answer an L3 request")
	}
}

func TestOversizedBodyRefused(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	big := url.Values{"grant_type": {"client_credentials"}, "pad": {strings.Repeat("x", 3<<20)}}
	st, _ := postForm(t, tb.URL+pathToken, big, "demo-service", "demo-service-secret")
	if st == http.StatusOK || st >= 500 {
		t.Fatalf("a 3 MiB token request got %d", st)
	}
}
