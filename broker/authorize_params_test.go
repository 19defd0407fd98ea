package broker

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// s256 is the S256 challenge of a verifier, whatever its shape.
func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// authorizeRaw sends a raw query (and, for a POST, a raw body) to /authorize and returns the
// answer without following it.
func authorizeRaw(t *testing.T, tb *testBroker, query, body string) (*http.Response, string) {
	t.Helper()
	method, rd := http.MethodGet, io.Reader(nil)
	if body != "" {
		method, rd = http.MethodPost, strings.NewReader(body)
	}
	req, err := http.NewRequest(method, tb.URL+pathAuthorize+"?"+query, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	c := *newBrowser(t).Client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// RFC 6749 §3.1: parameters MUST NOT be included more than once. A repeated client_id or
// redirect_uri is a page, never a redirect (there is no single address to trust); any other
// repeated parameter goes back to the registered redirect URI as invalid_request.
func TestAuthorizeRefusesRepeatedParameters(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	const base = "response_type=code&scope=openid&state=s&idp=RSSMRA80A01H501U%3A2"
	const rp = "client_id=demo-rp&redirect_uri=http%3A%2F%2F127.0.0.1%3A9000%2Fcallback"
	pageText := tb.catalogue.T("it", "oauth.repeated_param")
	pages := []struct{ name, query, body string }{
		{"client_id twice: the code would go to the second client", base + "&client_id=demo-rp&client_id=demo-spa&redirect_uri=http%3A%2F%2F127.0.0.1%3A9000%2Fcallback", ""},
		{"the same client_id twice", base + "&" + rp + "&client_id=demo-rp", ""},
		{"redirect_uri twice", base + "&" + rp + "&redirect_uri=http%3A%2F%2Flocalhost%3A9000%2Fcallback", ""},
		{"client_id in the query and in the body", base + "&client_id=demo-rp&redirect_uri=http%3A%2F%2F127.0.0.1%3A9000%2Fcallback", "client_id=demo-spa"},
	}
	for _, tt := range pages {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := authorizeRaw(t, tb, tt.query, tt.body)
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
				t.Fatalf("got %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
			}
			if !strings.Contains(body, htmlEscape(pageText)) {
				t.Fatalf("not the repeated-parameter page: %.400s", body)
			}
		})
	}
	redirects := []struct{ name, query, body, param string }{
		{"response_type twice", base + "&" + rp + "&response_type=code", "", "response_type"},
		{"scope twice", base + "&" + rp + "&scope=openid%20fiscal_number", "", "scope"},
		{"state twice", base + "&" + rp + "&state=t", "", "state"},
		{"code_challenge twice", base + "&" + rp + "&code_challenge=" + s256("a") + "&code_challenge=" + s256("b") + "&code_challenge_method=S256", "", "code_challenge"},
		{"acr_values twice", base + "&" + rp + "&acr_values=https%3A%2F%2Fwww.spid.gov.it%2FSpidL1&acr_values=https%3A%2F%2Fwww.spid.gov.it%2FSpidL3", "", "acr_values"},
		{"nonce in the query and in the body", base + "&" + rp + "&nonce=n1", "nonce=n2", "nonce"},
		{"the idp hint twice", base + "&" + rp + "&idp=cancel", "", "idp"},
	}
	for _, tt := range redirects {
		t.Run(tt.name, func(t *testing.T) {
			resp, _ := authorizeRaw(t, tb, tt.query, tt.body)
			loc, _ := url.Parse(resp.Header.Get("Location"))
			if resp.StatusCode != http.StatusFound || loc == nil || loc.Host != "127.0.0.1:9000" {
				t.Fatalf("got %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
			}
			q := loc.Query()
			if q.Get("error") != "invalid_request" || q.Get("code") != "" ||
				q.Get("error_description") != "parameter "+tt.param+" is repeated" {
				t.Fatalf("callback %v", q)
			}
		})
	}
	t.Run("each parameter once still gets a code", func(t *testing.T) {
		if cb, resp := newBrowser(t).authorize(t, tb.URL+pathAuthorize+"?"+base+"&"+rp); cb.Get("code") == "" {
			t.Fatalf("no code: %d %v", resp.StatusCode, cb)
		}
	})
}

// A request object (RFC 9101) is verified before anything else and a pushed request_uri (RFC
// 9126) has nothing beside client_id; a bad one is a page (there is no redirect URI to trust
// yet), never ignored.
func TestAuthorizeRefusesRequestObjects(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	const rp = "response_type=code&scope=openid&state=s&idp=RSSMRA80A01H501U%3A2&client_id=demo-rp&redirect_uri=http%3A%2F%2F127.0.0.1%3A9000%2Fcallback"
	t.Run("an unsigned request object of a client without keys gets a page, never ignored", func(t *testing.T) {
		resp, body := authorizeRaw(t, tb, rp+"&request=eyJhbGciOiJub25lIn0.e30.", "")
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" ||
			!strings.Contains(body, htmlEscape(tb.catalogue.T("it", "oauth.request_object"))) {
			t.Fatalf("got %d %q: %.300s", resp.StatusCode, resp.Header.Get("Location"), body)
		}
	})
	t.Run("request_uri beside the other parameters gets a page, never ignored", func(t *testing.T) {
		resp, body := authorizeRaw(t, tb, rp+"&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3Aabc", "")
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" ||
			!strings.Contains(body, htmlEscape(tb.catalogue.T("it", "oauth.request_uri"))) {
			t.Fatalf("got %d %q: %.300s", resp.StatusCode, resp.Header.Get("Location"), body)
		}
	})
	t.Run("an unknown pushed-request reference gets a page", func(t *testing.T) {
		resp, body := authorizeRaw(t, tb, "client_id=demo-rp&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3Aabc", "")
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" ||
			!strings.Contains(body, htmlEscape(tb.catalogue.T("it", "oauth.request_uri"))) {
			t.Fatalf("got %d %q: %.300s", resp.StatusCode, resp.Header.Get("Location"), body)
		}
	})
}

// RFC 7636 §4.2: an S256 code_challenge is BASE64URL(SHA-256(verifier)), exactly 43
// characters; anything else is refused at /authorize instead of making the login unusable.
func TestAuthorizeRefusesMalformedCodeChallenge(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	good := s256(strings.Repeat("v", 43))
	for _, tt := range []struct{ name, challenge string }{
		{"128 characters (a verifier sent as the challenge)", strings.Repeat("a", 128)},
		{"44 characters", good + "A"},
		{"42 characters", good[:42]},
		{"standard base64 alphabet", "+" + good[1:]},
		{"padding", good[:42] + "="},
		{"stray bits in the last character", good[:42] + "B"},
		{"a space", good[:20] + " " + good[21:]},
	} {
		t.Run(tt.name, func(t *testing.T) {
			q := url.Values{"client_id": {"demo-spa"}, "response_type": {"code"}, "scope": {"openid"}, "state": {"s"},
				"redirect_uri": {"http://127.0.0.1:9000/callback"}, "idp": {"RSSMRA80A01H501U:2"},
				"code_challenge": {tt.challenge}, "code_challenge_method": {"S256"}}
			cb, resp := newBrowser(t).authorize(t, tb.URL+pathAuthorize+"?"+q.Encode())
			if cb == nil || cb.Get("error") != "invalid_request" || !strings.HasPrefix(cb.Get("error_description"), "malformed code_challenge") {
				t.Fatalf("got %d %v", resp.StatusCode, cb)
			}
		})
	}
}

// RFC 7636 §4.1: the code_verifier is 43–128 unreserved characters. A verifier of another
// shape is refused even when its hash matches the challenge.
func TestTokenRefusesMalformedCodeVerifier(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	for _, tt := range []struct{ name, verifier string }{
		{"42 characters", strings.Repeat("a", 42)},
		{"129 characters", strings.Repeat("a", 129)},
		{"a character outside the unreserved set", strings.Repeat("a", 42) + "+"},
		{"a space", strings.Repeat("a", 21) + " " + strings.Repeat("a", 21)},
		{"non-ASCII", strings.Repeat("a", 42) + "é"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code := codeFor(t, tb, "demo-spa", url.Values{"code_challenge": {s256(tt.verifier)}, "code_challenge_method": {"S256"}})
			st, out := postForm(t, tb.URL+pathToken, url.Values{"grant_type": {"authorization_code"}, "code": {code},
				"redirect_uri": {"http://127.0.0.1:9000/callback"}, "client_id": {"demo-spa"}, "code_verifier": {tt.verifier}}, "", "")
			desc, _ := out["error_description"].(string)
			if st != http.StatusBadRequest || out["error"] != "invalid_grant" || !strings.HasPrefix(desc, "malformed code_verifier") {
				t.Fatalf("got %d %v", st, out)
			}
		})
	}
	t.Run("43 and 128 unreserved characters are accepted", func(t *testing.T) {
		for _, v := range []string{strings.Repeat("A-._~", 8) + "abc", strings.Repeat("z9", 64)} {
			code := codeFor(t, tb, "demo-spa", url.Values{"code_challenge": {s256(v)}, "code_challenge_method": {"S256"}})
			st, out := postForm(t, tb.URL+pathToken, url.Values{"grant_type": {"authorization_code"}, "code": {code},
				"redirect_uri": {"http://127.0.0.1:9000/callback"}, "client_id": {"demo-spa"}, "code_verifier": {v}}, "", "")
			if st != http.StatusOK || out["id_token"] == nil {
				t.Fatalf("verifier of %d characters: %d %v", len(v), st, out)
			}
		}
	})
}

// htmlEscape is how html/template writes a message into a page.
func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "'", "&#39;", "<", "&lt;", ">", "&gt;", `"`, "&#34;").Replace(s)
}
