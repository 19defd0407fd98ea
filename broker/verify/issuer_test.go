package verify_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// testIssuer is a stand-in issuer for unit tests and examples: discovery, a JWKS it can
// rotate, and signing with its keys (the broker itself is exercised in broker_test.go).
type testIssuer struct {
	srv       *httptest.Server
	mu        sync.Mutex
	keys      map[string]crypto.Signer // kid → key
	algs      map[string]jose.SignatureAlgorithm
	published []string
	jwksHits  atomic.Int32
}

func newTestIssuer() *testIssuer {
	is := &testIssuer{keys: map[string]crypto.Signer{}, algs: map[string]jose.SignatureAlgorithm{}}
	is.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			json.NewEncoder(w).Encode(map[string]string{"issuer": is.srv.URL, "jwks_uri": is.srv.URL + "/jwks"})
		case "/jwks":
			is.jwksHits.Add(1)
			is.mu.Lock()
			var set jose.JSONWebKeySet
			for _, kid := range is.published {
				set.Keys = append(set.Keys, jose.JSONWebKey{Key: is.keys[kid].Public(), KeyID: kid, Algorithm: string(is.algs[kid]), Use: "sig"})
			}
			is.mu.Unlock()
			json.NewEncoder(w).Encode(set)
		default:
			http.NotFound(w, r)
		}
	}))
	is.addKey("es-1", jose.ES256, true)
	is.addKey("rs-1", jose.RS256, true)
	return is
}

func (is *testIssuer) URL() string { return is.srv.URL }
func (is *testIssuer) Close()      { is.srv.Close() }

// addKey creates a key; published ones appear in the JWKS.
func (is *testIssuer) addKey(kid string, alg jose.SignatureAlgorithm, publish bool) {
	var k crypto.Signer
	if alg == jose.RS256 {
		k, _ = rsa.GenerateKey(rand.Reader, 2048)
	} else {
		k, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	is.mu.Lock()
	defer is.mu.Unlock()
	is.keys[kid], is.algs[kid] = k, alg
	if publish {
		is.published = append(is.published, kid)
	}
}

// sign signs claims with key kid and header typ.
func (is *testIssuer) sign(kid, typ string, claims map[string]any) string {
	is.mu.Lock()
	k, alg := is.keys[kid], is.algs[kid]
	is.mu.Unlock()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: k, KeyID: kid}},
		(&jose.SignerOptions{}).WithType(jose.ContentType(typ)))
	if err != nil {
		panic(err)
	}
	b, _ := json.Marshal(claims)
	jws, err := s.Sign(b)
	if err != nil {
		panic(err)
	}
	out, _ := jws.CompactSerialize()
	return out
}

// claims are a citizen's access token for audience aud, valid for 5 minutes from now.
func (is *testIssuer) claims(aud string, now time.Time) map[string]any {
	return map[string]any{"iss": is.srv.URL, "sub": "sub-of-verdi", "aud": []string{aud}, "client_id": "demo-rp",
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "jti": "j1", "scope": "openid fiscal_number",
		"fiscal_number": "VRDGPP40C15L219U", "acr": "https://www.spid.gov.it/SpidL2", "amr": []string{"pwd", "mfa"},
		"auth_method": "spid", "spid_idp": "https://idp.example", "auth_time": now.Add(-time.Minute).Unix()}
}
