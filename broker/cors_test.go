package broker

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/inps/sportello/config"
)

// corsRequest sends method to path with the given headers and returns the answer's headers
// and status.
func corsRequest(t *testing.T, tb *testBroker, method, path string, hdr map[string]string, body url.Values) *http.Response {
	t.Helper()
	var req *http.Request
	var err error
	if body != nil {
		req, err = http.NewRequest(method, tb.URL+path, strings.NewReader(body.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req, err = http.NewRequest(method, tb.URL+path, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// The token-side endpoints let only the public clients' own origins read their answers, never
// with credentials; a hostile page's Origin is not reflected.
func TestCORSOnlyForPublicClientOrigins(t *testing.T) {
	tb := newTestBroker(t, memStore(t), func(c *config.Config) {
		// A confidential client's redirect origin: its server calls the token endpoint, not a browser.
		c.Clients = append(c.Clients, config.Client{ID: "server-rp", Secret: config.Secret{Value: "server-secret"},
			RedirectURIs: []string{"https://rp.example/cb"}, Scopes: []string{"openid"}})
	})
	service := url.Values{"grant_type": {"client_credentials"}, "client_id": {"demo-service"}, "client_secret": {"demo-service-secret"}}
	endpoints := []struct {
		path string
		body url.Values
	}{
		{pathToken, service},
		{pathIntrospect, url.Values{"token": {"x"}, "client_id": {"demo-service"}, "client_secret": {"demo-service-secret"}}},
		{pathRevoke, url.Values{"token": {"x"}, "client_id": {"demo-spa"}}},
		{pathUserinfo, url.Values{"access_token": {"x"}}},
	}
	noCORS := func(t *testing.T, resp *http.Response) {
		t.Helper()
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("Access-Control-Allow-Origin = %q", got)
		}
		if got := resp.Header.Get("Access-Control-Allow-Credentials"); got != "" {
			t.Errorf("Access-Control-Allow-Credentials = %q", got)
		}
	}
	for _, ep := range endpoints {
		t.Run(ep.path, func(t *testing.T) {
			for _, hostile := range []string{"https://evil.example", "null", "http://127.0.0.1:9001", "https://rp.example", "http://127.0.0.1:9000.evil.example"} {
				resp := corsRequest(t, tb, http.MethodPost, ep.path, map[string]string{"Origin": hostile}, ep.body)
				noCORS(t, resp)
				if !strings.Contains(strings.Join(resp.Header.Values("Vary"), ","), "Origin") {
					t.Errorf("no Vary: Origin for %s", hostile)
				}
			}
			for _, own := range []string{"http://127.0.0.1:9000", "http://localhost:9000"} {
				resp := corsRequest(t, tb, http.MethodPost, ep.path, map[string]string{"Origin": own}, ep.body)
				if got := resp.Header.Get("Access-Control-Allow-Origin"); got != own {
					t.Errorf("Access-Control-Allow-Origin for %s = %q", own, got)
				}
				if got := resp.Header.Get("Access-Control-Allow-Credentials"); got != "" {
					t.Errorf("credentials allowed for %s: %q", own, got)
				}
			}
		})
	}
	preflight := func(path, origin, method, headers string) *http.Response {
		h := map[string]string{"Origin": origin, "Access-Control-Request-Method": method}
		if headers != "" {
			h["Access-Control-Request-Headers"] = headers
		}
		return corsRequest(t, tb, http.MethodOptions, path, h, nil)
	}
	t.Run("preflight of a registered origin is answered", func(t *testing.T) {
		for _, tt := range []struct{ path, method, headers string }{
			{pathToken, "POST", "content-type,dpop"},
			{pathRevoke, "POST", "Content-Type"},
			{pathUserinfo, "GET", "authorization"},
			{pathUserinfo, "POST", "authorization, content-type"},
		} {
			resp := preflight(tt.path, "http://localhost:9000", tt.method, tt.headers)
			if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "http://localhost:9000" ||
				!strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), tt.method) ||
				resp.Header.Get("Access-Control-Allow-Headers") != "Authorization, Content-Type, DPoP" ||
				resp.Header.Get("Access-Control-Allow-Credentials") != "" {
				t.Errorf("%s %s: %d %v", tt.path, tt.method, resp.StatusCode, resp.Header)
			}
		}
	})
	t.Run("other preflights are refused without CORS headers", func(t *testing.T) {
		for _, tt := range []struct{ name, path, origin, method, headers string }{
			{"hostile origin", pathToken, "https://evil.example", "POST", "content-type"},
			{"a confidential client's origin", pathToken, "https://rp.example", "POST", ""},
			{"a method the endpoint does not answer", pathToken, "http://127.0.0.1:9000", "PUT", ""},
			{"GET on the token endpoint", pathToken, "http://127.0.0.1:9000", "GET", ""},
			{"a header outside the list", pathToken, "http://127.0.0.1:9000", "POST", "content-type, x-evil"},
			{"the Cookie header", pathUserinfo, "http://127.0.0.1:9000", "GET", "cookie"},
		} {
			resp := preflight(tt.path, tt.origin, tt.method, tt.headers)
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s: status %d", tt.name, resp.StatusCode)
			}
			noCORS(t, resp)
		}
	})
	t.Run("no preflight is answered for the browser's own pages", func(t *testing.T) {
		for _, path := range []string{pathAuthorize, "/login/x", pathEndSession} {
			noCORS(t, preflight(path, "http://127.0.0.1:9000", "POST", "content-type"))
		}
	})
	t.Run("discovery and JWKS stay public", func(t *testing.T) {
		for _, path := range []string{pathDiscovery, pathJWKS} {
			resp := corsRequest(t, tb, http.MethodGet, path, map[string]string{"Origin": "https://evil.example"}, nil)
			if resp.Header.Get("Access-Control-Allow-Origin") != "*" || resp.Header.Get("Access-Control-Allow-Credentials") != "" {
				t.Errorf("%s: %v", path, resp.Header)
			}
		}
	})
}

func TestWebOrigin(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:9000/callback":   "http://127.0.0.1:9000",
		"https://App.Example/cb?x=1":       "https://app.example",
		"https://app.example:443/cb":       "https://app.example",
		"http://app.example:80/cb":         "http://app.example",
		"https://app.example:8443/cb":      "https://app.example:8443",
		"com.example.app:/oauth2redirect":  "",
		"https://user:pw@app.example/cb":   "",
		"not a url at all\x7f":             "",
		"https:///no-host":                 "",
		"http://[::1]:9000/cb":             "http://[::1]:9000",
		"javascript://app.example/%0aevil": "",
	} {
		if got := webOrigin(in); got != want {
			t.Errorf("webOrigin(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzCORSPolicy: whatever a request says (Origin, method, preflight headers), only a
// registered origin is ever allowed, never with credentials, and every answer varies on Origin.
func FuzzCORSPolicy(f *testing.F) {
	p := &corsPolicy{origins: map[string]bool{"http://127.0.0.1:9000": true}}
	h := p.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) }), http.MethodPost)
	for _, s := range [][4]string{
		{"OPTIONS", "http://127.0.0.1:9000", "POST", "content-type, dpop"},
		{"OPTIONS", "http://127.0.0.1:9000", "POST", "Content-Type,,X-Evil"},
		{"OPTIONS", "https://evil.example", "POST", ""},
		{"POST", "http://127.0.0.1:9000", "", ""},
		{"POST", "null", "", ""},
		{"OPTIONS", "http://127.0.0.1:9000\x00", "PUT", "authorization"},
	} {
		f.Add(s[0], s[1], s[2], s[3])
	}
	f.Fuzz(func(t *testing.T, method, origin, reqMethod, reqHeaders string) {
		req := httptest.NewRequest(http.MethodGet, "/oauth/token", nil)
		req.Method = method
		req.Header["Origin"] = []string{origin}
		req.Header["Access-Control-Request-Method"] = []string{reqMethod}
		req.Header["Access-Control-Request-Headers"] = []string{reqHeaders}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		got := w.Header().Get("Access-Control-Allow-Origin")
		if got != "" && (got != origin || !p.origins[origin]) {
			t.Fatalf("origin %q allowed as %q", origin, got)
		}
		if w.Header().Get("Access-Control-Allow-Credentials") != "" || !strings.Contains(strings.Join(w.Header().Values("Vary"), ","), "Origin") {
			t.Fatalf("headers %v", w.Header())
		}
		if w.Code == http.StatusNoContent && (!corsHeadersAllowed([]string{reqHeaders}) || reqMethod != http.MethodPost) {
			t.Fatalf("preflight for %q %q answered", reqMethod, reqHeaders)
		}
	})
}
