package broker

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/inps/sportello/config"
)

// withFAPI2Clients registers fapi2 clients as the configuration fills them (ApplyDefaults):
// fapi-jwt (private_key_jwt with an ES256 and an RS256 key) and fapi-mtls (tls_client_auth,
// the mtlsPKI client certificate).
func withFAPI2Clients(t testing.TB, pki *mtlsPKI, k *assertionKeys) (brokerOpt, *rsa.PrivateKey) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &k.es256.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"},
		{Key: &rsaKey.PublicKey, KeyID: "rs", Use: "sig"},
	}}
	raw, _ := json.Marshal(set)
	dir := t.TempDir()
	jwks := filepath.Join(dir, "jwks.json")
	if err := os.WriteFile(jwks, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	ca := writePEM(t, dir, "ca.pem", pki.ca.cert)
	rp := func(id string) config.Client {
		return config.Client{ID: id, Profile: config.ProfileFAPI2, RedirectURIs: []string{"http://127.0.0.1:9000/callback"},
			Scopes: []string{"openid", "fiscal_number", "offline_access"}}
	}
	return func(c *config.Config) {
		j := rp("fapi-jwt")
		j.JWKSFile = jwks
		m := rp("fapi-mtls")
		m.TLSClientAuthCAFile, m.TLSClientAuthSANDNS = ca, "svc.example.it"
		c.Clients = append(c.Clients, j, m)
		c.ApplyDefaults()
	}, rsaKey
}

// TestFAPI2Profile: a fapi2 client's authorization requests come only pushed, with PKCE
// S256; it authenticates with private_key_jwt (ES256/PS256) or its certificate, never a
// secret; its tokens are certificate-bound, so a token request without the certificate is
// refused.
func TestFAPI2Profile(t *testing.T) {
	pki := newMTLSPKI(t)
	assertionOpt, keys := withAssertionClients(t)
	fapiOpt, rsaKey := withFAPI2Clients(t, pki, keys)
	tb := newTestBroker(t, memStore(t), assertionOpt, fapiOpt)
	mtls := mtlsListener(t, tb)
	certClient := mtlsClient(&pki.client)
	verifier, challenge := pkce()
	redirect := "http://127.0.0.1:9000/callback"

	assertion := func(alg jose.SignatureAlgorithm, aud string) url.Values {
		c := assertionClaims(tb, func(c map[string]any) { c["iss"], c["sub"], c["aud"] = "fapi-jwt", "fapi-jwt", aud })
		kid, key := "k1", crypto.Signer(keys.es256)
		if alg != jose.ES256 {
			kid, key = "rs", rsaKey
		}
		return url.Values{"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
			"client_assertion": {signAssertion(t, alg, kid, key, c)}}
	}
	pushed := func(extra url.Values) url.Values {
		q := pushedParams(url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}})
		for k, v := range extra {
			q[k] = v
		}
		return q
	}
	withAssertion := func(form url.Values, alg jose.SignatureAlgorithm) url.Values {
		for k, v := range assertion(alg, tb.URL) {
			form[k] = v
		}
		return form
	}

	t.Run("a plain authorization request is refused", func(t *testing.T) {
		q := url.Values{"client_id": {"fapi-jwt"}, "response_type": {"code"}, "scope": {"openid"}, "redirect_uri": {redirect},
			"state": {"s"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}, "idp": {"RSSMRA80A01H501U:2"}}
		cb, resp := newBrowser(t).authorize(t, tb.URL+pathAuthorize+"?"+q.Encode())
		if cb.Get("code") != "" || (cb.Get("error") != "invalid_request" && resp.StatusCode != http.StatusBadRequest) {
			t.Fatalf("got %d %v", resp.StatusCode, cb)
		}
	})
	t.Run("a push without PKCE is refused", func(t *testing.T) {
		form := withAssertion(pushedParams(nil), jose.ES256)
		resp, out := pushReq(t, tb, form, "", "")
		if resp.StatusCode != http.StatusBadRequest || out["error"] != "invalid_request" {
			t.Fatalf("got %d %v", resp.StatusCode, out)
		}
	})
	t.Run("a client assertion signed RS256 is refused", func(t *testing.T) {
		resp, out := pushReq(t, tb, withAssertion(pushed(nil), jose.RS256), "", "")
		if resp.StatusCode != http.StatusUnauthorized || out["error"] != "invalid_client" {
			t.Fatalf("got %d %v", resp.StatusCode, out)
		}
	})
	t.Run("a client assertion signed PS256 is accepted", func(t *testing.T) {
		if resp, out := pushReq(t, tb, withAssertion(pushed(nil), jose.PS256), "", ""); resp.StatusCode != http.StatusCreated {
			t.Fatalf("got %d %v", resp.StatusCode, out)
		}
	})
	t.Run("client_secret_basic is refused", func(t *testing.T) {
		resp, out := pushReq(t, tb, pushed(nil), "fapi-jwt", "any-secret")
		if resp.StatusCode != http.StatusUnauthorized || out["error"] != "invalid_client" {
			t.Fatalf("got %d %v", resp.StatusCode, out)
		}
	})
	t.Run("pushed with PKCE, the code is redeemed only with a certificate, and the tokens are bound to it", func(t *testing.T) {
		resp, out := pushReq(t, tb, withAssertion(pushed(nil), jose.ES256), "", "")
		uri, _ := out["request_uri"].(string)
		if resp.StatusCode != http.StatusCreated || uri == "" {
			t.Fatalf("push: %d %v", resp.StatusCode, out)
		}
		cb, r := newBrowser(t).authorize(t, tb.URL+authorizePushed("fapi-jwt", uri))
		if cb.Get("code") == "" || cb.Get("iss") != tb.URL {
			t.Fatalf("no code: %d %v", r.StatusCode, cb)
		}
		form := url.Values{"grant_type": {"authorization_code"}, "code": {cb.Get("code")}, "redirect_uri": {redirect}, "code_verifier": {verifier}}
		if st, out := postWith(t, http.DefaultClient, tb.URL+pathToken, withAssertion(cloneValues(form), jose.ES256)); st != http.StatusBadRequest || out["error"] != "invalid_request" {
			t.Fatalf("token request without a certificate: %d %v", st, out)
		}
		st, tok := postWith(t, mtlsClient(&pki.stranger), mtls+pathToken, withAssertion(cloneValues(form), jose.ES256))
		if st != http.StatusOK || cnfOf(t, tok["access_token"].(string)) != certThumbprint(pki.stranger.Leaf) {
			t.Fatalf("token request with a certificate: %d %v", st, tok)
		}
		if h := jwtHeader(t, tok["id_token"].(string)); h["alg"] != "ES256" {
			t.Fatalf("ID token alg %v", h["alg"])
		}
	})
	t.Run("the mutual-TLS client runs the same flow with its certificate", func(t *testing.T) {
		st, out := postWith(t, certClient, mtls+pathPAR, pushed(url.Values{"client_id": {"fapi-mtls"}}))
		uri, _ := out["request_uri"].(string)
		if st != http.StatusCreated || uri == "" {
			t.Fatalf("push: %d %v", st, out)
		}
		cb, r := newBrowser(t).authorize(t, tb.URL+authorizePushed("fapi-mtls", uri))
		if cb.Get("code") == "" {
			t.Fatalf("no code: %d %v", r.StatusCode, cb)
		}
		st, tok := postWith(t, certClient, mtls+pathToken, url.Values{"grant_type": {"authorization_code"}, "code": {cb.Get("code")},
			"redirect_uri": {redirect}, "code_verifier": {verifier}, "client_id": {"fapi-mtls"}})
		if st != http.StatusOK || cnfOf(t, tok["access_token"].(string)) != certThumbprint(pki.client.Leaf) {
			t.Fatalf("token: %d %v", st, tok)
		}
	})
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
