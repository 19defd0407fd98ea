package broker

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/inps/sportello/internal/loa"
)

// Step-up: with an L2 session, an L3 request re-authenticates without losing the relying
// party's request, and the tokens then say L3 with a new auth_time.
func TestStepUpKeepsTheRequest(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	br := newBrowser(t)
	q := url.Values{"client_id": {"demo-rp"}, "response_type": {"code"}, "scope": {"openid"},
		"redirect_uri": {"http://127.0.0.1:9000/callback"}, "state": {"first"}, "idp": {"RSSMRA80A01H501U:2"}}
	if cb, _ := br.authorize(t, tb.URL+pathAuthorize+"?"+q.Encode()); cb == nil {
		t.Fatal("L2 login failed")
	}
	q.Del("idp")
	q.Set("state", "second")
	q.Set("acr_values", loa.SpidL3)
	cb, resp := br.authorize(t, tb.URL+pathAuthorize+"?"+q.Encode())
	if cb != nil {
		t.Fatal("an L2 session answered an L3 request")
	}
	chooser := resp.Request.URL
	body, _ := io.ReadAll(resp.Body)
	if !strings.HasPrefix(chooser.Path, "/login/") || !strings.Contains(string(body), "SPID L3") {
		t.Fatalf("expected the chooser asking for L3, got %s", chooser)
	}
	cb, resp = br.authorize(t, tb.URL+chooser.Path+"/test?hint="+url.QueryEscape("RSSMRA80A01H501U:3"))
	if cb == nil || cb.Get("state") != "second" {
		t.Fatalf("step-up did not complete the original request: %d %v", resp.StatusCode, cb)
	}
	st, out := postForm(t, tb.URL+pathToken, url.Values{"grant_type": {"authorization_code"}, "code": {cb.Get("code")},
		"redirect_uri": {"http://127.0.0.1:9000/callback"}}, "demo-rp", "demo-secret")
	if st != http.StatusOK || jwtClaims(t, out["id_token"].(string))["acr"] != loa.SpidL3 {
		t.Fatalf("after step-up: %d %v", st, out)
	}
}

// The claims parameter asking acr essential raises the level like acr_values.
func TestClaimsParameterACR(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	claims := `{"id_token":{"acr":{"essential":true,"values":["https://www.spid.gov.it/SpidL3"]}}}`
	q := url.Values{"client_id": {"demo-rp"}, "response_type": {"code"}, "scope": {"openid"}, "claims": {claims},
		"redirect_uri": {"http://127.0.0.1:9000/callback"}, "state": {"s"}, "idp": {"RSSMRA80A01H501U:2"}}
	cb, resp := newBrowser(t).authorize(t, tb.URL+pathAuthorize+"?"+q.Encode())
	body, _ := io.ReadAll(resp.Body)
	if cb != nil || !strings.Contains(string(body), "unmet_authentication_requirements") {
		t.Fatalf("an L2 login satisfied an essential L3 acr claim: %v", cb)
	}
	q.Set("claims", "{not json")
	if cb, _ := newBrowser(t).authorize(t, tb.URL+pathAuthorize+"?"+q.Encode()); cb == nil || cb.Get("error") != "invalid_request" {
		t.Fatalf("malformed claims parameter: %v", cb)
	}
}

// A client's minimum level applies even when the relying party asks less.
func TestClientMinimumLevel(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	tb.clientMap()["demo-rp"].minACR = loa.SpidL3
	q := url.Values{"client_id": {"demo-rp"}, "response_type": {"code"}, "scope": {"openid"}, "acr_values": {loa.SpidL1},
		"redirect_uri": {"http://127.0.0.1:9000/callback"}, "state": {"s"}, "idp": {"RSSMRA80A01H501U:2"}}
	cb, _ := newBrowser(t).authorize(t, tb.URL+pathAuthorize+"?"+q.Encode())
	if cb != nil {
		t.Fatal("an L2 login passed a client whose minimum is L3")
	}
}

func FuzzClaimsParameter(f *testing.F) {
	for _, s := range []string{``, `{}`, `{"id_token":{"acr":{"essential":true,"values":["x"]}}}`, `{"userinfo":{"email":null}}`, `{"id_token":{"acr":{"value":1}}}`, `[`, `null`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, ui, acr, err := parseClaimsParam(s)
		if err != nil && (id != nil || ui != nil || acr != nil) {
			t.Fatal("partial result with an error")
		}
	})
}

// FuzzAuthorize sends hostile query strings to /authorize: never a server error, and never a
// redirect anywhere but a registered redirect URI or the broker itself.
func FuzzAuthorize(f *testing.F) {
	tb := newTestBroker(f, memStore(f))
	for _, s := range []string{
		"client_id=demo-rp&response_type=code&scope=openid&redirect_uri=http%3A%2F%2F127.0.0.1%3A9000%2Fcallback",
		"client_id=demo-spa&response_type=code&scope=openid&redirect_uri=http%3A%2F%2F127.0.0.1%3A9000%2Fcallback&code_challenge=abc&code_challenge_method=plain",
		"client_id=demo-rp&redirect_uri=http%3A%2F%2Fevil.example%2F&response_type=code",
		"client_id=demo-rp&response_type=code&scope=openid&redirect_uri=http%3A%2F%2F127.0.0.1%3A9000%2Fcallback&max_age=-1&prompt=none+login&claims=%7B",
		"%zz&&==", "request=eyJ&client_id=demo-rp",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, query string) {
		req := httptestRequest(http.MethodGet, "/authorize")
		req.URL.RawQuery = query
		w := newRecorder()
		tb.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("server error %d for %q", w.Code, query)
		}
		if loc := w.Header().Get("Location"); loc != "" {
			u, err := url.Parse(loc)
			if err != nil {
				t.Fatalf("bad Location %q", loc)
			}
			base := u.Scheme + "://" + u.Host + u.Path
			if base != "http://127.0.0.1:9000/callback" && base != "http://localhost:9000/callback" && !strings.HasPrefix(loc, tb.URL) {
				t.Fatalf("redirect to %q for %q", loc, query)
			}
		}
	})
}

// The claims parameter cannot reach beyond the client's scopes: a client allowed only openid
// asking for fiscal_number, names and email by name gets none of them.
func TestClaimsParameterCannotWidenScopes(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	tb.clientMap()["demo-rp"].scopes = []string{"openid"}
	claims := `{"id_token":{"fiscal_number":null,"given_name":null,"email":null,"birthdate":null}}`
	q := url.Values{"client_id": {"demo-rp"}, "response_type": {"code"}, "scope": {"openid"}, "claims": {claims},
		"redirect_uri": {"http://127.0.0.1:9000/callback"}, "state": {"s"}, "idp": {"RSSMRA80A01H501U:2"}}
	cb, _ := newBrowser(t).authorize(t, tb.URL+pathAuthorize+"?"+q.Encode())
	if cb == nil {
		t.Fatal("login failed")
	}
	_, out := postForm(t, tb.URL+pathToken, url.Values{"grant_type": {"authorization_code"}, "code": {cb.Get("code")},
		"redirect_uri": {"http://127.0.0.1:9000/callback"}}, "demo-rp", "demo-secret")
	c := jwtClaims(t, out["id_token"].(string))
	for _, k := range []string{"fiscal_number", "given_name", "email", "birthdate"} {
		if c[k] != nil {
			t.Errorf("%s released through the claims parameter: %v", k, c[k])
		}
	}
	if c["acr"] == nil {
		t.Error("acr missing")
	}
}
