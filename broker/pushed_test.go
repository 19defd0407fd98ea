package broker

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/inps/sportello/config"
	"github.com/inps/sportello/internal/store/memory"
	"github.com/inps/sportello/internal/store/redistest"
)

// pushReq posts form to the pushed authorization request endpoint and returns the response
// and its decoded body.
func pushReq(t *testing.T, tb *testBroker, form url.Values, user, pass string) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, tb.URL+pathPAR, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(body, &out)
	return resp, out
}

// pushedParams is demo-rp's authorization request, to push.
func pushedParams(extra url.Values) url.Values {
	q := url.Values{"response_type": {"code"}, "scope": {"openid fiscal_number"}, "state": {"p4r"}, "nonce": {"n"},
		"redirect_uri": {"http://127.0.0.1:9000/callback"}, "idp": {"RSSMRA80A01H501U:2"}}
	for k, v := range extra {
		q[k] = v
	}
	return q
}

// push pushes demo-rp's request and returns the request_uri.
func push(t *testing.T, tb *testBroker, extra url.Values) string {
	t.Helper()
	resp, out := pushReq(t, tb, pushedParams(extra), "demo-rp", "demo-secret")
	uri, _ := out["request_uri"].(string)
	if resp.StatusCode != http.StatusCreated || uri == "" {
		t.Fatalf("push: %d %v", resp.StatusCode, out)
	}
	return uri
}

func authorizePushed(clientID, uri string) string {
	return pathAuthorize + "?" + url.Values{"client_id": {clientID}, "request_uri": {uri}}.Encode()
}

// wantRequestURIPage checks that /authorize answered with the invalid-request page, never a
// redirect.
func wantRequestURIPage(t *testing.T, tb *testBroker, resp *http.Response, body string) {
	t.Helper()
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" ||
		!strings.Contains(body, htmlEscape(tb.catalogue.T("it", "oauth.request_uri"))) {
		t.Fatalf("got %d %q: %.300s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
}

func TestPushedAuthorizationRequests(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Now().UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()) }
	st := memory.New(memory.Options{Now: clock})
	t.Cleanup(func() { _ = st.Close() })
	tb := newTestBroker(t, st)

	t.Run("pushed, then redeemed at /authorize with client_id and request_uri alone", func(t *testing.T) {
		resp, out := pushReq(t, tb, pushedParams(nil), "demo-rp", "demo-secret")
		if resp.StatusCode != http.StatusCreated || resp.Header.Get("Cache-Control") != "no-store" ||
			!strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || out["expires_in"] != float64(60) {
			t.Fatalf("push: %d %v %v", resp.StatusCode, resp.Header, out)
		}
		uri, _ := out["request_uri"].(string)
		if !strings.HasPrefix(uri, "urn:ietf:params:oauth:request_uri:") {
			t.Fatalf("request_uri %q", uri)
		}
		cb, r := newBrowser(t).authorize(t, tb.URL+authorizePushed("demo-rp", uri))
		if cb.Get("code") == "" || cb.Get("state") != "p4r" || cb.Get("iss") != tb.URL {
			t.Fatalf("no code: %d %v", r.StatusCode, cb)
		}
		st, tok := postForm(t, tb.URL+pathToken, url.Values{"grant_type": {"authorization_code"}, "code": {cb.Get("code")},
			"redirect_uri": {"http://127.0.0.1:9000/callback"}}, "demo-rp", "demo-secret")
		if st != http.StatusOK || tok["id_token"] == nil {
			t.Fatalf("code exchange: %d %v", st, tok)
		}
		if claims := jwtClaims(t, tok["id_token"].(string)); claims["nonce"] != "n" {
			t.Fatalf("the pushed nonce is not the ID token's: %v", claims["nonce"])
		}
	})
	t.Run("a request_uri is single use", func(t *testing.T) {
		uri := push(t, tb, nil)
		if cb, r := newBrowser(t).authorize(t, tb.URL+authorizePushed("demo-rp", uri)); cb.Get("code") == "" {
			t.Fatalf("first use: %d %v", r.StatusCode, cb)
		}
		resp, body := authorizeRaw(t, tb, strings.TrimPrefix(authorizePushed("demo-rp", uri), pathAuthorize+"?"), "")
		wantRequestURIPage(t, tb, resp, body)
	})
	t.Run("an expired request_uri is refused", func(t *testing.T) {
		uri := push(t, tb, nil)
		now.Add(int64(61 * time.Second))
		resp, body := authorizeRaw(t, tb, strings.TrimPrefix(authorizePushed("demo-rp", uri), pathAuthorize+"?"), "")
		wantRequestURIPage(t, tb, resp, body)
	})
	t.Run("another client's request_uri is refused, and spent", func(t *testing.T) {
		uri := push(t, tb, nil)
		resp, body := authorizeRaw(t, tb, strings.TrimPrefix(authorizePushed("demo-spa", uri), pathAuthorize+"?"), "")
		wantRequestURIPage(t, tb, resp, body)
		resp, body = authorizeRaw(t, tb, strings.TrimPrefix(authorizePushed("demo-rp", uri), pathAuthorize+"?"), "")
		wantRequestURIPage(t, tb, resp, body)
	})
	t.Run("parameters beside request_uri are refused, and do not spend it", func(t *testing.T) {
		uri := push(t, tb, nil)
		for _, extra := range []string{"&scope=openid", "&redirect_uri=http%3A%2F%2F127.0.0.1%3A9000%2Fcallback", "&state=x", "&request_uri=" + url.QueryEscape(uri)} {
			resp, body := authorizeRaw(t, tb, strings.TrimPrefix(authorizePushed("demo-rp", uri), pathAuthorize+"?")+extra, "")
			wantRequestURIPage(t, tb, resp, body)
		}
		resp, body := authorizeRaw(t, tb, strings.TrimPrefix(authorizePushed("demo-rp", uri), pathAuthorize+"?"), "nonce=x")
		wantRequestURIPage(t, tb, resp, body)
		if cb, r := newBrowser(t).authorize(t, tb.URL+authorizePushed("demo-rp", uri)); cb.Get("code") == "" {
			t.Fatalf("the request_uri was spent by a refused request: %d %v", r.StatusCode, cb)
		}
	})
	t.Run("a request_uri not issued here, or without client_id, is a page", func(t *testing.T) {
		for _, q := range []string{"client_id=demo-rp&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3Aabc",
			"client_id=demo-rp&request_uri=https%3A%2F%2Frp.example%2Freq", "request_uri=" + url.QueryEscape(push(t, tb, nil))} {
			resp, body := authorizeRaw(t, tb, q, "")
			wantRequestURIPage(t, tb, resp, body)
		}
	})
}

func TestPushRefusals(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	_, challenge := pkce()
	for _, tt := range []struct {
		name       string
		form       url.Values
		user, pass string
		status     int
		code, desc string
	}{
		{"a wrong secret", pushedParams(nil), "demo-rp", "wrong", http.StatusUnauthorized, "invalid_client", ""},
		{"no client authentication", pushedParams(url.Values{"client_id": {"demo-rp"}}), "", "", http.StatusUnauthorized, "invalid_client", ""},
		{"an unknown client", pushedParams(nil), "nobody", "x", http.StatusUnauthorized, "invalid_client", ""},
		{"two authentication methods", pushedParams(url.Values{"client_secret": {"demo-secret"}}), "demo-rp", "demo-secret", http.StatusBadRequest, "invalid_request", ""},
		{"a client_id that is not the authenticated client", pushedParams(url.Values{"client_id": {"demo-spa"}}), "demo-rp", "demo-secret", http.StatusBadRequest, "invalid_request", ""},
		{"a request_uri pushed", pushedParams(url.Values{"request_uri": {"urn:ietf:params:oauth:request_uri:x"}}), "demo-rp", "demo-secret", http.StatusBadRequest, "invalid_request", "request_uri must not be pushed"},
		{"a repeated parameter", pushedParams(url.Values{"state": {"a", "b"}}), "demo-rp", "demo-secret", http.StatusBadRequest, "invalid_request", ""},
		{"a redirect_uri not registered", pushedParams(url.Values{"redirect_uri": {"https://evil.example/cb"}}), "demo-rp", "demo-secret", http.StatusBadRequest, "invalid_request", "redirect_uri is not registered for the client"},
		{"no redirect_uri", pushedParams(url.Values{"redirect_uri": nil}), "demo-rp", "demo-secret", http.StatusBadRequest, "invalid_request", "redirect_uri is not registered for the client"},
		{"a scope the client may not have", pushedParams(url.Values{"scope": {"openid inps:services"}}), "demo-rp", "demo-secret", http.StatusBadRequest, "invalid_scope", ""},
		{"response_type token", pushedParams(url.Values{"response_type": {"token"}}), "demo-rp", "demo-secret", http.StatusBadRequest, "unsupported_response_type", ""},
		{"a public client without PKCE", pushedParams(url.Values{"client_id": {"demo-spa"}}), "", "", http.StatusBadRequest, "invalid_request", "PKCE (code_challenge with S256) is required for public clients"},
		{"a public client with a secret", pushedParams(url.Values{"client_id": {"demo-spa"}, "client_secret": {"x"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}), "", "", http.StatusUnauthorized, "invalid_client", ""},
		{"a client without the code flow", pushedParams(url.Values{"scope": {"openid"}}), "demo-service", "demo-service-secret", http.StatusBadRequest, "unauthorized_client", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, out := pushReq(t, tb, tt.form, tt.user, tt.pass)
			if resp.StatusCode != tt.status || out["error"] != tt.code || (tt.desc != "" && out["error_description"] != tt.desc) || out["request_uri"] != nil {
				t.Fatalf("got %d %v", resp.StatusCode, out)
			}
			if resp.StatusCode == http.StatusUnauthorized && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic ") {
				t.Fatalf("401 without a Basic challenge: %v", resp.Header)
			}
			if resp.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("Cache-Control %q", resp.Header.Get("Cache-Control"))
			}
		})
	}
	t.Run("a public client with PKCE pushes", func(t *testing.T) {
		resp, out := pushReq(t, tb, pushedParams(url.Values{"client_id": {"demo-spa"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}), "", "")
		if resp.StatusCode != http.StatusCreated || out["request_uri"] == nil {
			t.Fatalf("got %d %v", resp.StatusCode, out)
		}
	})
	t.Run("credentials in the URL are refused", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, tb.URL+pathPAR+"?client_secret=demo-secret", strings.NewReader(pushedParams(url.Values{"client_id": {"demo-rp"}}).Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("got %d", resp.StatusCode)
		}
	})
	t.Run("GET is refused", func(t *testing.T) {
		resp, err := http.Get(tb.URL + pathPAR)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != http.MethodPost {
			t.Fatalf("got %d %v", resp.StatusCode, resp.Header)
		}
	})
}

// RFC 9126 §6: a client registered with require_pushed_authorization_requests (or every client,
// with par.required) gets invalid_request for a request that was not pushed.
func TestPushedRequestsRequired(t *testing.T) {
	plain := "client_id=demo-rp&response_type=code&scope=openid&state=s&idp=RSSMRA80A01H501U%3A2&redirect_uri=http%3A%2F%2F127.0.0.1%3A9000%2Fcallback"
	for _, tt := range []struct {
		name string
		opt  brokerOpt
	}{
		{"per client", func(c *config.Config) {
			for i := range c.Clients {
				if c.Clients[i].ID == "demo-rp" {
					c.Clients[i].RequirePushedAuthorizationRequests = true
				}
			}
		}},
		{"for every client", func(c *config.Config) { c.PAR.Required = true }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tb := newTestBroker(t, memStore(t), tt.opt)
			resp, _ := authorizeRaw(t, tb, plain, "")
			loc, _ := url.Parse(resp.Header.Get("Location"))
			if resp.StatusCode != http.StatusFound || loc == nil || loc.Host != "127.0.0.1:9000" {
				t.Fatalf("got %d %q", resp.StatusCode, resp.Header.Get("Location"))
			}
			if q := loc.Query(); q.Get("error") != "invalid_request" || q.Get("code") != "" || q.Get("iss") != tb.URL ||
				!strings.Contains(q.Get("error_description"), "PAR") {
				t.Fatalf("callback %v", q)
			}
			if cb, r := newBrowser(t).authorize(t, tb.URL+authorizePushed("demo-rp", push(t, tb, nil))); cb.Get("code") == "" {
				t.Fatalf("a pushed request is refused: %d %v", r.StatusCode, cb)
			}
			var d map[string]any
			_ = json.Unmarshal(tb.discovery, &d)
			if want := tt.name == "for every client"; d["require_pushed_authorization_requests"] != want {
				t.Fatalf("discovery require_pushed_authorization_requests = %v, want %v", d["require_pushed_authorization_requests"], want)
			}
		})
	}
	t.Run("another client is not concerned", func(t *testing.T) {
		tb := newTestBroker(t, memStore(t), func(c *config.Config) {
			for i := range c.Clients {
				if c.Clients[i].ID == "demo-spa" {
					c.Clients[i].RequirePushedAuthorizationRequests = true
				}
			}
		})
		if cb, r := newBrowser(t).authorize(t, tb.URL+pathAuthorize+"?"+plain); cb.Get("code") == "" {
			t.Fatalf("got %d %v", r.StatusCode, cb)
		}
	})
}

func TestDiscoveryAdvertisesPAR(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	var d map[string]any
	if err := json.Unmarshal(tb.discovery, &d); err != nil {
		t.Fatal(err)
	}
	if d["pushed_authorization_request_endpoint"] != tb.URL+pathPAR || d["require_pushed_authorization_requests"] != false {
		t.Fatalf("discovery: %v %v", d["pushed_authorization_request_endpoint"], d["require_pushed_authorization_requests"])
	}
}

// Two replicas on one Redis: a request pushed to one is redeemed at the other, once; a
// request object's jti used at one is refused at the other.
func TestPushedRequestsAcrossReplicasOnRedis(t *testing.T) {
	srv := redistest.Start(t)
	dir := t.TempDir()
	key, opt := objectKeys(t, false)
	a := newTestBrokerIn(t, redisStore(t, srv), dir, opt)
	b := newTestBrokerIn(t, redisStore(t, srv), dir, withIssuer(a.URL), opt)
	uri := push(t, a, nil)
	if cb, r := newBrowser(t).authorize(t, b.URL+authorizePushed("demo-rp", uri)); cb.Get("code") == "" {
		t.Fatalf("pushed at one replica, not redeemed at the other: %d %v", r.StatusCode, cb)
	}
	resp, body := authorizeRaw(t, a, strings.TrimPrefix(authorizePushed("demo-rp", uri), pathAuthorize+"?"), "")
	wantRequestURIPage(t, a, resp, body)

	obj := signObject(t, jose.ES256, key, objectClaims(a, nil))
	if resp, out := pushReq(t, a, url.Values{"request": {obj}}, "demo-rp", "demo-secret"); resp.StatusCode != http.StatusCreated {
		t.Fatalf("push: %d %v", resp.StatusCode, out)
	}
	if resp, out := pushReq(t, b, url.Values{"request": {obj}}, "demo-rp", "demo-secret"); resp.StatusCode != http.StatusBadRequest || out["error"] != "invalid_request_object" {
		t.Fatalf("a request object replayed at another replica: %d %v", resp.StatusCode, out)
	}
}
