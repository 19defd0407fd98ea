package broker

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// apiResponse is a raw answer of a token-side endpoint.
type apiResponse struct {
	status int
	header http.Header
	body   map[string]any
}

// apiCall sends method to target with form as the body (nil: none) and hdr as header pairs.
func apiCall(t *testing.T, method, target string, form url.Values, hdr ...string) apiResponse {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &out)
	return apiResponse{status: resp.StatusCode, header: resp.Header, body: out}
}

func basicAuth(id, secret string) string {
	req, _ := http.NewRequest(http.MethodGet, "/", nil)
	req.SetBasicAuth(id, secret)
	return req.Header.Get("Authorization")
}

// Every answer of the token, introspection, revocation and userinfo endpoints, success or
// error, carries Cache-Control: no-store and Pragma: no-cache (RFC 6749 §5.1).
func TestTokenSideAnswersAreNeverCached(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	user := loginTokens(t, tb, "openid fiscal_number")
	at := user["access_token"].(string)
	service := basicAuth("demo-service", "demo-service-secret")
	cases := []struct {
		name   string
		method string
		path   string
		form   url.Values
		hdr    []string
		status int
	}{
		{"token", http.MethodPost, pathToken, url.Values{"grant_type": {"client_credentials"}}, []string{"Authorization", service}, 200},
		{"token error", http.MethodPost, pathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"nope"}},
			[]string{"Authorization", basicAuth("demo-rp", "demo-secret")}, 400},
		{"token client error", http.MethodPost, pathToken, url.Values{"grant_type": {"client_credentials"}}, []string{"Authorization", basicAuth("demo-service", "x")}, 401},
		{"introspection", http.MethodPost, pathIntrospect, url.Values{"token": {at}}, []string{"Authorization", service}, 200},
		{"revocation", http.MethodPost, pathRevoke, url.Values{"token": {"unknown"}}, []string{"Authorization", service}, 200},
		{"userinfo", http.MethodGet, pathUserinfo, nil, []string{"Authorization", "Bearer " + at}, 200},
		{"userinfo error", http.MethodGet, pathUserinfo, nil, []string{"Authorization", "Bearer " + forgeToken(t)}, 401},
		{"method refused", http.MethodGet, pathToken, nil, nil, 405},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := apiCall(t, c.method, tb.URL+c.path, c.form, c.hdr...)
			if r.status != c.status {
				t.Fatalf("status %d %v, want %d", r.status, r.body, c.status)
			}
			if cc, p := r.header.Get("Cache-Control"), r.header.Get("Pragma"); cc != "no-store" || p != "no-cache" {
				t.Fatalf("Cache-Control %q, Pragma %q: want no-store, no-cache", cc, p)
			}
		})
	}
}

// Token, introspection and revocation answer POST only; userinfo GET and POST: anything else
// is 405 with Allow and an OAuth error body.
func TestTokenSideEndpointsRefuseOtherMethods(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	cases := []struct{ method, path, allow string }{
		{http.MethodGet, pathToken + "?grant_type=client_credentials", "POST"},
		{http.MethodGet, pathIntrospect, "POST"},
		{http.MethodGet, pathRevoke, "POST"},
		{http.MethodPut, pathToken, "POST"},
		{http.MethodDelete, pathUserinfo, "GET, POST"},
	}
	for _, c := range cases {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			r := apiCall(t, c.method, tb.URL+c.path, nil, "Authorization", basicAuth("demo-service", "demo-service-secret"))
			if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != c.allow || r.body["error"] != "invalid_request" {
				t.Fatalf("got %d Allow %q %v, want 405 Allow %q invalid_request", r.status, r.header.Get("Allow"), r.body, c.allow)
			}
		})
	}
}

// A client secret or a token in the URL is refused (invalid_request), whatever the body
// holds; other query parameters are not read.
func TestCredentialsInTheURLAreRefused(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	at := loginTokens(t, tb, "openid")["access_token"].(string)
	cc := url.Values{"grant_type": {"client_credentials"}}
	refusals := []struct {
		name, target, param string
		form                url.Values
		hdr                 []string
	}{
		{"client secret at the token endpoint", pathToken + "?client_id=demo-service&client_secret=demo-service-secret", "client_secret", cc, nil},
		{"client secret at introspection", pathIntrospect + "?client_secret=demo-service-secret", "client_secret",
			url.Values{"token": {at}, "client_id": {"demo-service"}}, nil},
		{"client secret at revocation", pathRevoke + "?client_secret=demo-secret", "client_secret", url.Values{"token": {at}, "client_id": {"demo-rp"}}, nil},
		{"client assertion", pathToken + "?client_assertion=x", "client_assertion", cc, nil},
		{"token to introspect", pathIntrospect + "?token=" + at, "token", url.Values{}, []string{"Authorization", basicAuth("demo-service", "demo-service-secret")}},
		{"access token at userinfo", pathUserinfo + "?access_token=" + at, "access_token", nil, nil},
		{"access token at userinfo, in capitals", pathUserinfo + "?ACCESS_TOKEN=" + at, "access_token", nil, nil},
		{"client secret in mixed case", pathToken + "?client_id=demo-service&Client_Secret=demo-service-secret", "client_secret", cc, nil},
	}
	for _, c := range refusals {
		t.Run(c.name, func(t *testing.T) {
			method := http.MethodPost
			if c.form == nil {
				method = http.MethodGet
			}
			r := apiCall(t, method, tb.URL+c.target, c.form, c.hdr...)
			if r.status != http.StatusBadRequest || r.body["error"] != "invalid_request" || r.body["error_description"] != c.param+" must not be sent in the URL" {
				t.Fatalf("got %d %v, want 400 invalid_request naming %s", r.status, r.body, c.param)
			}
		})
	}
	t.Run("other query parameters are not read", func(t *testing.T) {
		r := apiCall(t, http.MethodPost, tb.URL+pathToken+"?grant_type=client_credentials", url.Values{}, "Authorization", basicAuth("demo-service", "demo-service-secret"))
		if r.status != http.StatusBadRequest || r.body["error"] != "invalid_request" || r.body["error_description"] != "grant_type missing" {
			t.Fatalf("got %d %v, want grant_type missing (the query is ignored)", r.status, r.body)
		}
	})
	t.Run("a userinfo token sent twice", func(t *testing.T) {
		r := apiCall(t, http.MethodPost, tb.URL+pathUserinfo, url.Values{"access_token": {at}}, "Authorization", "Bearer "+at)
		if r.status != http.StatusBadRequest || r.body["error_description"] != "send the access token in one way only" {
			t.Fatalf("got %d %v", r.status, r.body)
		}
	})
	t.Run("the userinfo token in a POST body is accepted", func(t *testing.T) {
		if r := apiCall(t, http.MethodPost, tb.URL+pathUserinfo, url.Values{"access_token": {at}}); r.status != http.StatusOK {
			t.Fatalf("got %d %v", r.status, r.body)
		}
	})
}

// A 401 names its authentication scheme: Basic at the token-side endpoints (RFC 6749 §5.2),
// Bearer with the error at userinfo (RFC 6750 §3), none of the error for a missing token.
func TestUnauthorizedNamesTheScheme(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	realm := `realm="` + tb.URL + `"`
	cc := url.Values{"grant_type": {"client_credentials"}}
	// A user's token narrowed by token exchange to a scope without openid.
	_, ex := postForm(t, tb.URL+pathToken, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"},
		"subject_token": {loginTokens(t, tb, "openid fiscal_number")["access_token"].(string)}, "scope": {"fiscal_number"},
		"subject_token_type": {"urn:ietf:params:oauth:token-type:access_token"}, "audience": {"inps-pensioni"}}, "demo-service", "demo-service-secret")
	noOpenID, _ := ex["access_token"].(string)
	cases := []struct {
		name, method, path string
		form               url.Values
		hdr                []string
		status             int
		want               string
	}{
		{"token endpoint, wrong Basic secret", http.MethodPost, pathToken, cc, []string{"Authorization", basicAuth("demo-service", "wrong")}, 401, "Basic " + realm},
		{"token endpoint, unknown client in the body", http.MethodPost, pathToken, url.Values{"grant_type": {"client_credentials"},
			"client_id": {"nobody"}, "client_secret": {"x"}}, nil, 401, "Basic " + realm},
		{"introspection, wrong secret", http.MethodPost, pathIntrospect, url.Values{"token": {"x"}}, []string{"Authorization", basicAuth("demo-service", "wrong")}, 401, "Basic " + realm},
		{"revocation, wrong secret", http.MethodPost, pathRevoke, url.Values{"token": {"x"}}, []string{"Authorization", basicAuth("demo-rp", "wrong")}, 401, "Basic " + realm},
		{"introspection without client authentication", http.MethodPost, pathIntrospect, url.Values{"token": {"x"}, "client_id": {"demo-spa"}}, nil, 401, "Basic " + realm},
		{"token endpoint, a Basic header that does not decode", http.MethodPost, pathToken, cc, []string{"Authorization", basicAuth("demo%zz", "x")}, 401, "Basic " + realm},
		{"userinfo, forged token", http.MethodGet, pathUserinfo, nil, []string{"Authorization", "Bearer " + forgeToken(t)}, 401,
			"Bearer " + realm + `, error="invalid_token", error_description="invalid access token"`},
		{"userinfo, no token", http.MethodGet, pathUserinfo, nil, nil, 401, "Bearer " + realm},
		{"userinfo, token without openid", http.MethodGet, pathUserinfo, nil, []string{"Authorization", "Bearer " + noOpenID}, 403,
			"Bearer " + realm + `, error="insufficient_scope", error_description="the openid scope is required"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := apiCall(t, c.method, tb.URL+c.path, c.form, c.hdr...)
			if r.status != c.status || r.header.Get("WWW-Authenticate") != c.want {
				t.Fatalf("got %d WWW-Authenticate %q (%v), want %d %q", r.status, r.header.Get("WWW-Authenticate"), r.body, c.status, c.want)
			}
		})
	}
	t.Run("a successful answer has no challenge", func(t *testing.T) {
		if r := apiCall(t, http.MethodPost, tb.URL+pathToken, cc, "Authorization", basicAuth("demo-service", "demo-service-secret")); r.status != 200 ||
			r.header.Get("WWW-Authenticate") != "" {
			t.Fatalf("got %d %q", r.status, r.header.Get("WWW-Authenticate"))
		}
	})
}

func TestQuoteAuthParamKeepsOnlyAllowedCharacters(t *testing.T) {
	if got := quoteAuthParam("a \"b\"\\c\n\tè~"); got != `"a bc~"` {
		t.Fatalf("got %s", got)
	}
}

// FuzzOAuthEndpoint sends arbitrary methods, query strings and bodies through the token-side
// HTTP rules: no panic, every answer uncacheable, and no credential in a URL ever reaches the
// endpoint behind them.
func FuzzOAuthEndpoint(f *testing.F) {
	tb := newTestBroker(f, memStore(f))
	for _, s := range [][3]string{{"POST", "client_secret=x", "grant_type=client_credentials"}, {"GET", "", ""},
		{"POST", "a=%zz", "b=%zz"}, {"POST", "CLIENT_SECRET=x&client_secret", "access_token=t"}, {"PUT", "token=t", ""}} {
		f.Add(s[0], s[1], s[2], false)
		f.Add(s[0], s[1], s[2], true)
	}
	f.Fuzz(func(t *testing.T, method, query, body string, userinfo bool) {
		path := pathToken
		if userinfo {
			path = pathUserinfo
		}
		var reached *http.Request
		next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			reached = r
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"invalid_token","error_description":"` + query + `"}`))
		})
		req, err := http.NewRequest(method, "http://broker"+path, strings.NewReader(body))
		if err != nil {
			return
		}
		req.URL.RawQuery = query
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := newRecorder()
		tb.oauthEndpoint(next, path, tb.issuer).ServeHTTP(w, req)
		if w.Header().Get("Cache-Control") != "no-store" {
			t.Fatal("answer without no-store")
		}
		if reached != nil && reached.URL.RawQuery != "" {
			t.Fatalf("the query string %q reached the endpoint", reached.URL.RawQuery)
		}
		if v := w.Header().Get("WWW-Authenticate"); strings.ContainsAny(v, "\r\n") {
			t.Fatalf("header injection: %q", v)
		}
	})
}
