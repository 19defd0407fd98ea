package broker

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/inps/sportello/config"
)

// assertionKeys are the keys of the test private_key_jwt client "jwt-service".
type assertionKeys struct {
	es256 *ecdsa.PrivateKey
	es384 *ecdsa.PrivateKey
	ed    ed25519.PrivateKey
}

// withAssertionClients registers "jwt-service" (private_key_jwt: an ES256 key, an ES384 key,
// an Ed25519 key without alg) and "post-service" (client_secret_post).
func withAssertionClients(t testing.TB) (brokerOpt, *assertionKeys) {
	t.Helper()
	k := &assertionKeys{}
	k.es256, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	k.es384, _ = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	_, k.ed, _ = ed25519.GenerateKey(rand.Reader)
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &k.es256.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"},
		{Key: &k.es384.PublicKey, KeyID: "k384", Algorithm: "ES384", Use: "sig"},
		{Key: k.ed.Public(), KeyID: "ed", Use: "sig"},
	}}
	raw, _ := json.Marshal(set)
	path := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return func(c *config.Config) {
		c.Clients = append(c.Clients,
			config.Client{ID: "jwt-service", AuthMethod: "private_key_jwt", JWKSFile: path,
				GrantTypes: []string{"client_credentials"}, Scopes: []string{"inps:services"}},
			config.Client{ID: "post-service", AuthMethod: "client_secret_post", Secret: config.Secret{Value: "post-service-secret"},
				GrantTypes: []string{"client_credentials"}, Scopes: []string{"inps:services"}})
	}, k
}

// signAssertion signs claims with alg and key (kid in the header). "Ed25519" is signed by
// hand: go-jose knows only the name EdDSA.
func signAssertion(t testing.TB, alg jose.SignatureAlgorithm, kid string, key crypto.Signer, claims map[string]any) string {
	t.Helper()
	if alg == algEd25519 {
		h, _ := json.Marshal(map[string]string{"alg": "Ed25519", "kid": kid, "typ": "JWT"})
		p, _ := json.Marshal(claims)
		input := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p)
		return input + "." + base64.RawURLEncoding.EncodeToString(ed25519.Sign(key.(ed25519.PrivateKey), []byte(input)))
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jwt.Signed(s).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var jtiCounter atomic.Int64

// assertionClaims are valid claims of jwt-service for tb, changed by edit.
func assertionClaims(tb *testBroker, edit func(map[string]any)) map[string]any {
	now := time.Now()
	c := map[string]any{"iss": "jwt-service", "sub": "jwt-service", "aud": tb.URL + pathToken,
		"jti": fmt.Sprintf("jti-%d", jtiCounter.Add(1)),
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}
	if edit != nil {
		edit(c)
	}
	return c
}

func clientCreds(form url.Values, hdr http.Header) *op.Request[op.ClientCredentials] {
	cc := &op.ClientCredentials{ClientID: form.Get("client_id"), ClientSecret: form.Get("client_secret"),
		ClientAssertion: form.Get("client_assertion"), ClientAssertionType: form.Get("client_assertion_type")}
	if id, secret, ok := (&http.Request{Header: hdr}).BasicAuth(); ok {
		cc.ClientID, cc.ClientSecret = id, secret
	}
	return &op.Request[op.ClientCredentials]{Header: hdr, Form: form, Data: cc}
}

// Each client authenticates with the method it is registered for, and with no other.
func TestRegisteredAuthMethodIsEnforced(t *testing.T) {
	opt, keys := withAssertionClients(t)
	tb := newTestBroker(t, memStore(t), opt)
	basic := func(id, secret string) http.Header { return http.Header{"Authorization": {basicAuth(id, secret)}} }
	post := func(id, secret string) url.Values { return url.Values{"client_id": {id}, "client_secret": {secret}} }
	// An assertion naming a client registered for client_secret_basic.
	assertion := signAssertion(t, "ES256", "k1", keys.es256, assertionClaims(tb, func(m map[string]any) { m["iss"], m["sub"] = "demo-service", "demo-service" }))
	cases := []struct {
		name string
		form url.Values
		hdr  http.Header
		want error
	}{
		{"client_secret_basic with Basic", nil, basic("demo-service", "demo-service-secret"), nil},
		{"client_secret_basic with the secret in the body", post("demo-service", "demo-service-secret"), nil, errWrongAuthMethod},
		{"client_secret_post in the body", post("post-service", "post-service-secret"), nil, nil},
		{"client_secret_post with Basic", nil, basic("post-service", "post-service-secret"), errWrongAuthMethod},
		{"client_secret_basic, wrong secret", nil, basic("demo-service", "wrong"), errWrongSecret},
		{"unknown client", nil, basic("nobody", "x"), errUnknownClient},
		{"private_key_jwt with a secret", nil, basic("jwt-service", "x"), errWrongAuthMethod},
		{"public client with a secret", post("demo-spa", "x"), nil, errWrongAuthMethod},
		{"public client without a secret", url.Values{"client_id": {"demo-spa"}}, nil, nil},
		{"client_secret_basic with an assertion", url.Values{"client_assertion": {assertion}}, nil, errWrongAuthMethod},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.form == nil {
				c.form = url.Values{}
			}
			_, err := tb.VerifyClient(context.Background(), clientCreds(c.form, c.hdr))
			if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
	t.Run("over HTTP: the secret of a Basic client in the body is invalid_client", func(t *testing.T) {
		r := apiCall(t, http.MethodPost, tb.URL+pathToken, url.Values{"grant_type": {"client_credentials"},
			"client_id": {"demo-service"}, "client_secret": {"demo-service-secret"}})
		if r.status != http.StatusUnauthorized || r.body["error"] != "invalid_client" {
			t.Fatalf("got %d %v", r.status, r.body)
		}
	})
}

// The rules of a private_key_jwt assertion, each refused for its own reason.
func TestClientAssertionRules(t *testing.T) {
	opt, keys := withAssertionClients(t)
	tb := newTestBroker(t, memStore(t), opt)
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	hmacKey := []byte(strings.Repeat("k", 32))
	hs, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: hmacKey}, nil)
	hs256, _ := jwt.Signed(hs).Claims(assertionClaims(tb, nil)).Serialize()
	es := func(edit func(map[string]any)) string {
		return signAssertion(t, "ES256", "k1", keys.es256, assertionClaims(tb, edit))
	}
	yearsAhead := func(m map[string]any) { m["exp"] = time.Now().AddDate(3, 0, 0).Unix(); delete(m, "iat") }
	cases := []struct {
		name, assertion, clientID string
		want                      error
	}{
		{"ES256", es(nil), "", nil},
		{"ES256 naming the same client_id", es(nil), "jwt-service", nil},
		{"EdDSA", signAssertion(t, jose.EdDSA, "ed", keys.ed, assertionClaims(tb, nil)), "", nil},
		{"Ed25519 (RFC 9864)", signAssertion(t, algEd25519, "ed", keys.ed, assertionClaims(tb, nil)), "", nil},
		{"audience the issuer", es(func(m map[string]any) { m["aud"] = tb.URL }), "", nil},
		{"exp years ahead without iat", es(yearsAhead), "", errAssertionLifetime},
		{"exp 10 minutes ahead", es(func(m map[string]any) { m["exp"] = time.Now().Add(10 * time.Minute).Unix() }), "", errAssertionLifetime},
		{"no exp", es(func(m map[string]any) { delete(m, "exp") }), "", errAssertionLifetime},
		{"issued 10 minutes ago", es(func(m map[string]any) { m["iat"] = time.Now().Add(-10 * time.Minute).Unix() }), "", errAssertionLifetime},
		{"expired", es(func(m map[string]any) { m["exp"] = time.Now().Add(-time.Minute).Unix() }), "", errAssertionTime},
		{"issued in the future", es(func(m map[string]any) { m["iat"] = time.Now().Add(2 * time.Minute).Unix() }), "", errAssertionTime},
		{"client_id other than iss", es(nil), "demo-service", errAssertionClientID},
		{"sub other than iss", es(func(m map[string]any) { m["sub"] = "demo-service" }), "", errAssertionClaims},
		{"no jti", es(func(m map[string]any) { delete(m, "jti") }), "", errAssertionClaims},
		{"an oversized jti", es(func(m map[string]any) { m["jti"] = strings.Repeat("j", maxJTILength+1) }), "", errAssertionClaims},
		{"another audience", es(func(m map[string]any) { m["aud"] = "https://other.example" }), "", errAssertionAudience},
		{"ES384 (not advertised)", signAssertion(t, "ES384", "k384", keys.es384, assertionClaims(tb, nil)), "", errAssertionAlg},
		{"HS256", hs256, "", errAssertionAlg},
		{"signed by another key", signAssertion(t, "ES256", "k1", otherKey, assertionClaims(tb, nil)), "", errAssertionKey},
		{"Ed25519 with a tampered payload", tamper(signAssertion(t, algEd25519, "ed", keys.ed, assertionClaims(tb, nil))), "", errAssertionKey},
		{"Ed25519 under the ES256 key id", signAssertion(t, algEd25519, "k1", keys.ed, assertionClaims(tb, nil)), "", errAssertionKey},
		{"with whitespace", " " + es(nil), "", errBadAssertion},
		{"not a JWT", "a.b.c", "", errBadAssertion},
		{"unknown issuer", es(func(m map[string]any) { m["iss"], m["sub"] = "nobody", "nobody" }), "", errUnknownClient},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := tb.verifyClientAssertion(context.Background(), c.assertion, c.clientID)
			if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
	t.Run("a replayed assertion", func(t *testing.T) {
		a := es(nil)
		if _, err := tb.verifyClientAssertion(context.Background(), a, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := tb.verifyClientAssertion(context.Background(), a, ""); !errors.Is(err, errAssertionReplay) {
			t.Fatalf("got %v, want %v", err, errAssertionReplay)
		}
	})
	t.Run("the jti is kept no longer than the assertion lives", func(t *testing.T) {
		claims := assertionClaims(tb, nil)
		if _, err := tb.verifyClientAssertion(context.Background(), signAssertion(t, "ES256", "k1", keys.es256, claims), ""); err != nil {
			t.Fatal(err)
		}
		ttl, err := tb.store.TTL(context.Background(), "jti:jwt-service:"+claims["jti"].(string))
		if err != nil || ttl <= 0 || ttl > time.Minute+assertionLeeway {
			t.Fatalf("jti kept %v (%v), want at most exp + %v", ttl, err, assertionLeeway)
		}
	})
	t.Run("over HTTP: a client_id other than the assertion's issuer is invalid_client", func(t *testing.T) {
		r := apiCall(t, http.MethodPost, tb.URL+pathToken, url.Values{"grant_type": {"client_credentials"}, "client_id": {"demo-service"},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {es(nil)}})
		if r.status != http.StatusUnauthorized || r.body["error"] != "invalid_client" {
			t.Fatalf("got %d %v", r.status, r.body)
		}
	})
	t.Run("over HTTP: an Ed25519 assertion gets a token", func(t *testing.T) {
		r := apiCall(t, http.MethodPost, tb.URL+pathToken, url.Values{"grant_type": {"client_credentials"},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
			"client_assertion":      {signAssertion(t, algEd25519, "ed", keys.ed, assertionClaims(tb, nil))}})
		if r.status != http.StatusOK || r.body["access_token"] == nil {
			t.Fatalf("got %d %v", r.status, r.body)
		}
	})
}

// tamper changes one character of a JWS payload.
func tamper(jws string) string {
	parts := strings.Split(jws, ".")
	p, _ := base64.RawURLEncoding.DecodeString(parts[1])
	p = []byte(strings.Replace(string(p), "jti-", "jtj-", 1))
	return parts[0] + "." + base64.RawURLEncoding.EncodeToString(p) + "." + parts[2]
}

// FuzzClientAssertion feeds arbitrary assertions to the private_key_jwt check: it never
// panics, and nothing but a correctly signed assertion of the client passes.
func FuzzClientAssertion(f *testing.F) {
	opt, keys := withAssertionClients(f)
	tb := newTestBroker(f, memStore(f), opt)
	good := signAssertion(f, algEd25519, "ed", keys.ed, assertionClaims(tb, nil))
	for _, s := range []string{good, tamper(good), "a.b.c", "", "..", "e30.e30.", signAssertion(f, "ES256", "k1", keys.es256, assertionClaims(tb, nil))} {
		f.Add(s, "")
	}
	f.Add(good, "jwt-service")
	f.Fuzz(func(t *testing.T, assertion, clientID string) {
		cl, err := tb.verifyClientAssertion(context.Background(), assertion, clientID)
		if err == nil && (cl == nil || cl.GetID() != "jwt-service") {
			t.Fatalf("accepted for %v", cl)
		}
	})
}
