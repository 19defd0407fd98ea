package broker

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// RFC 9207: every authorization response names the issuer in iss, the errors as much as the
// codes (a mix-up attacker forges errors too), and discovery says so. The broker answers in
// query mode only (response_modes_supported), so the query is where iss must be.
func TestAuthorizationResponsesCarryIss(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	base := url.Values{"client_id": {"demo-rp"}, "response_type": {"code"}, "scope": {"openid"}, "state": {"s"},
		"redirect_uri": {"http://127.0.0.1:9000/callback"}}
	with := func(extra url.Values) string {
		q := url.Values{}
		for k, v := range base {
			q[k] = v
		}
		for k, v := range extra {
			q[k] = v
		}
		return q.Encode()
	}
	t.Run("a code", func(t *testing.T) {
		cb, resp := newBrowser(t).authorize(t, tb.URL+pathAuthorize+"?"+with(url.Values{"idp": {"RSSMRA80A01H501U:2"}}))
		if cb.Get("code") == "" || cb.Get("iss") != tb.URL || cb.Get("state") != "s" {
			t.Fatalf("got %d %v", resp.StatusCode, cb)
		}
	})
	for _, tt := range []struct{ name, query, want string }{
		{"login_required of prompt=none", with(url.Values{"prompt": {"none"}}), "login_required"},
		{"invalid_scope", with(url.Values{"scope": {"profile"}}), "invalid_scope"},
		{"unsupported_response_type", with(url.Values{"response_type": {"token"}}), "unsupported_response_type"},
		{"a repeated parameter", with(nil) + "&state=t", "invalid_request"},
	} {
		t.Run("an error: "+tt.name, func(t *testing.T) {
			resp, _ := authorizeRaw(t, tb, tt.query, "")
			loc, _ := url.Parse(resp.Header.Get("Location"))
			if resp.StatusCode != http.StatusFound || loc == nil || loc.Host != "127.0.0.1:9000" {
				t.Fatalf("got %d %q", resp.StatusCode, resp.Header.Get("Location"))
			}
			if q := loc.Query(); q.Get("error") != tt.want || q.Get("iss") != tb.URL || len(q["iss"]) != 1 {
				t.Fatalf("callback %v", q)
			}
		})
	}
	t.Run("the way back from a failed login", func(t *testing.T) {
		cb, resp := newBrowser(t).authorize(t, tb.URL+pathAuthorize+"?"+with(url.Values{"idp": {"cancel"}}))
		if cb != nil {
			t.Fatalf("a cancelled login went back at once: %v", cb)
		}
		body, _ := io.ReadAll(resp.Body)
		back := "http://127.0.0.1:9000/callback?error=access_denied"
		if !strings.Contains(string(body), htmlEscape(back)) || !strings.Contains(string(body), htmlEscape("iss="+url.QueryEscape(tb.URL))) {
			t.Fatalf("the failure page's way back lacks iss: %.2000s", body)
		}
	})
	t.Run("an iss already in the redirect URI is replaced, never doubled", func(t *testing.T) {
		u, _ := url.Parse(tb.errorRedirectURL("http://127.0.0.1:9000/callback?iss=https%3A%2F%2Fevil.example&x=1", "s", errUnsupportedResponseType()))
		if q := u.Query(); len(q["iss"]) != 1 || q.Get("iss") != tb.URL || q.Get("x") != "1" {
			t.Fatalf("got %v", q)
		}
	})
	t.Run("discovery", func(t *testing.T) {
		var d map[string]any
		if err := json.Unmarshal(tb.discovery, &d); err != nil {
			t.Fatal(err)
		}
		if d["authorization_response_iss_parameter_supported"] != true {
			t.Fatalf("authorization_response_iss_parameter_supported = %v", d["authorization_response_iss_parameter_supported"])
		}
	})
}
