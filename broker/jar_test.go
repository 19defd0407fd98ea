package broker

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/inps/sportello/config"
)

// objectKeys gives demo-rp a registered request-object key (jwks_file) and, when signed,
// require_signed_request_object; it returns the private key.
func objectKeys(t *testing.T, signed bool) (*ecdsa.PrivateKey, brokerOpt) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "rp1", Use: "sig", Algorithm: "ES256"}}})
	file := filepath.Join(t.TempDir(), "demo-rp.jwks.json")
	if err := os.WriteFile(file, set, 0o600); err != nil {
		t.Fatal(err)
	}
	return key, func(c *config.Config) {
		for i := range c.Clients {
			if c.Clients[i].ID == "demo-rp" {
				c.Clients[i].JWKSFile = file
				c.Clients[i].RequireSignedRequestObject = signed
			}
		}
	}
}

// objectClaims are demo-rp's request object for tb, with edit applied.
func objectClaims(tb *testBroker, edit func(map[string]any)) map[string]any {
	now := time.Now()
	c := map[string]any{"iss": "demo-rp", "aud": tb.URL, "client_id": "demo-rp", "jti": randomJTI(),
		"nbf": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "response_type": "code", "scope": "openid fiscal_number",
		"redirect_uri": "http://127.0.0.1:9000/callback", "state": "inside", "nonce": "n-inside", "idp": "RSSMRA80A01H501U:2"}
	if edit != nil {
		edit(c)
	}
	return c
}

func randomJTI() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func signObject(t *testing.T, alg jose.SignatureAlgorithm, key any, claims map[string]any) string {
	t.Helper()
	sg, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: "rp1"}}, (&jose.SignerOptions{}).WithType("oauth-authz-req+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := sg.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := jws.CompactSerialize()
	return s
}

// unsignedObject is an alg none request object.
func unsignedObject(claims map[string]any) string {
	head := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"oauth-authz-req+jwt"}`))
	payload, _ := json.Marshal(claims)
	return head + "." + base64.RawURLEncoding.EncodeToString(payload) + "."
}

func TestRequestObjects(t *testing.T) {
	key, opt := objectKeys(t, false)
	tb := newTestBroker(t, memStore(t), opt)
	authorizeSigned := func(obj string) string {
		// The outer parameters beside the object are ignored (RFC 9101 §6.3).
		return url.Values{"client_id": {"demo-rp"}, "request": {obj}, "state": {"outside"}, "scope": {"openid"},
			"response_type": {"code"}, "redirect_uri": {"http://localhost:9000/callback"}}.Encode()
	}
	t.Run("at /authorize: the object's parameters, not the outer ones", func(t *testing.T) {
		cb, resp := newBrowser(t).authorize(t, tb.URL+pathAuthorize+"?"+authorizeSigned(signObject(t, jose.ES256, key, objectClaims(tb, nil))))
		if cb.Get("code") == "" || cb.Get("state") != "inside" || cb.Get("iss") != tb.URL {
			t.Fatalf("got %d %v", resp.StatusCode, cb)
		}
		st, tok := postForm(t, tb.URL+pathToken, url.Values{"grant_type": {"authorization_code"}, "code": {cb.Get("code")},
			"redirect_uri": {"http://127.0.0.1:9000/callback"}}, "demo-rp", "demo-secret")
		if st != http.StatusOK || jwtClaims(t, tok["id_token"].(string))["nonce"] != "n-inside" {
			t.Fatalf("code exchange: %d %v", st, tok)
		}
	})
	t.Run("at the push, then redeemed", func(t *testing.T) {
		resp, out := pushReq(t, tb, url.Values{"request": {signObject(t, jose.ES256, key, objectClaims(tb, nil))}, "state": {"outside"}}, "demo-rp", "demo-secret")
		uri, _ := out["request_uri"].(string)
		if resp.StatusCode != http.StatusCreated || uri == "" {
			t.Fatalf("push: %d %v", resp.StatusCode, out)
		}
		if cb, r := newBrowser(t).authorize(t, tb.URL+authorizePushed("demo-rp", uri)); cb.Get("code") == "" || cb.Get("state") != "inside" {
			t.Fatalf("got %d %v", r.StatusCode, cb)
		}
	})

	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	replayed := signObject(t, jose.ES256, key, objectClaims(tb, nil))
	if cb, resp := newBrowser(t).authorize(t, tb.URL+pathAuthorize+"?"+authorizeSigned(replayed)); cb.Get("code") == "" {
		t.Fatalf("first use: %d %v", resp.StatusCode, cb)
	}
	hmacKey := []byte(strings.Repeat("demo-secret", 4))
	refusals := []struct{ name, obj string }{
		{"signed by another key", signObject(t, jose.ES256, other, objectClaims(tb, nil))},
		{"alg none", unsignedObject(objectClaims(tb, nil))},
		{"HS256 (with a secret)", signObject(t, jose.HS256, hmacKey, objectClaims(tb, nil))},
		{"a replayed jti", replayed},
		{"an aud that is not the issuer", signObject(t, jose.ES256, key, objectClaims(tb, func(c map[string]any) { c["aud"] = "https://other.example" }))},
		{"an iss that is not the client", signObject(t, jose.ES256, key, objectClaims(tb, func(c map[string]any) { c["iss"] = "demo-spa" }))},
		{"expired", signObject(t, jose.ES256, key, objectClaims(tb, func(c map[string]any) {
			c["nbf"], c["exp"] = time.Now().Add(-10*time.Minute).Unix(), time.Now().Add(-5*time.Minute).Unix()
		}))},
		{"no jti", signObject(t, jose.ES256, key, objectClaims(tb, func(c map[string]any) { delete(c, "jti") }))},
		{"a request_uri inside", signObject(t, jose.ES256, key, objectClaims(tb, func(c map[string]any) { c["request_uri"] = "urn:x" }))},
	}
	for _, tt := range refusals {
		t.Run("at /authorize, refused: "+tt.name, func(t *testing.T) {
			resp, body := authorizeRaw(t, tb, authorizeSigned(tt.obj), "")
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" ||
				!strings.Contains(body, htmlEscape(tb.catalogue.T("it", "oauth.request_object"))) {
				t.Fatalf("got %d %q: %.300s", resp.StatusCode, resp.Header.Get("Location"), body)
			}
		})
		t.Run("at the push, refused: "+tt.name, func(t *testing.T) {
			resp, out := pushReq(t, tb, url.Values{"request": {tt.obj}}, "demo-rp", "demo-secret")
			if resp.StatusCode != http.StatusBadRequest || out["error"] != "invalid_request_object" || out["request_uri"] != nil {
				t.Fatalf("got %d %v", resp.StatusCode, out)
			}
		})
	}
	t.Run("another client's object is refused at /authorize", func(t *testing.T) {
		q := url.Values{"client_id": {"demo-spa"}, "request": {signObject(t, jose.ES256, key, objectClaims(tb, nil))}}
		resp, body := authorizeRaw(t, tb, q.Encode(), "")
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" || !strings.Contains(body, htmlEscape(tb.catalogue.T("it", "oauth.request_object"))) {
			t.Fatalf("got %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
	t.Run("request and request_uri together are refused", func(t *testing.T) {
		resp, out := pushReq(t, tb, url.Values{"request": {signObject(t, jose.ES256, key, objectClaims(tb, nil))}, "request_uri": {"urn:ietf:params:oauth:request_uri:x"}}, "demo-rp", "demo-secret")
		if resp.StatusCode != http.StatusBadRequest || out["error"] != "invalid_request" {
			t.Fatalf("got %d %v", resp.StatusCode, out)
		}
	})
	t.Run("discovery", func(t *testing.T) {
		var d map[string]any
		_ = json.Unmarshal(tb.discovery, &d)
		algs, _ := json.Marshal(d["request_object_signing_alg_values_supported"])
		if d["request_parameter_supported"] != true || string(algs) != `["ES256","PS256","EdDSA"]` {
			t.Fatalf("discovery: %v %s", d["request_parameter_supported"], algs)
		}
	})
}

// RFC 9101 §10.5: a client registered with require_signed_request_object gets its requests
// refused unless they come in a request object, at /authorize as at the push.
func TestSignedRequestObjectRequired(t *testing.T) {
	key, opt := objectKeys(t, true)
	tb := newTestBroker(t, memStore(t), opt)
	t.Run("a plain request is refused at /authorize", func(t *testing.T) {
		cb, resp := newBrowser(t).authorize(t, tb.URL+pathAuthorize+"?"+pushedParams(url.Values{"client_id": {"demo-rp"}}).Encode())
		if cb == nil || cb.Get("error") != "invalid_request" || cb.Get("code") != "" || !strings.Contains(cb.Get("error_description"), "signed request object") {
			t.Fatalf("got %d %v", resp.StatusCode, cb)
		}
	})
	t.Run("a plain push is refused", func(t *testing.T) {
		resp, out := pushReq(t, tb, pushedParams(nil), "demo-rp", "demo-secret")
		if resp.StatusCode != http.StatusBadRequest || out["error"] != "invalid_request" || out["request_uri"] != nil {
			t.Fatalf("got %d %v", resp.StatusCode, out)
		}
	})
	t.Run("a signed push is redeemed", func(t *testing.T) {
		resp, out := pushReq(t, tb, url.Values{"request": {signObject(t, jose.ES256, key, objectClaims(tb, nil))}}, "demo-rp", "demo-secret")
		uri, _ := out["request_uri"].(string)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("push: %d %v", resp.StatusCode, out)
		}
		if cb, r := newBrowser(t).authorize(t, tb.URL+authorizePushed("demo-rp", uri)); cb.Get("code") == "" {
			t.Fatalf("got %d %v", r.StatusCode, cb)
		}
	})
	t.Run("another client is not concerned", func(t *testing.T) {
		_, challenge := pkce()
		q := pushedParams(url.Values{"client_id": {"demo-spa"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}})
		if cb, r := newBrowser(t).authorize(t, tb.URL+pathAuthorize+"?"+q.Encode()); cb.Get("code") == "" {
			t.Fatalf("got %d %v", r.StatusCode, cb)
		}
	})
}
