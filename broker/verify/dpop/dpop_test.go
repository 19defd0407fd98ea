package dpop_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/inps/sportello/broker/verify/dpop"
)

var ctx = context.Background()

// replay is an in-memory ReplayCache.
type replay struct {
	mu   sync.Mutex
	seen map[string]time.Time
	err  error
}

func (r *replay) Seen(_ context.Context, key string, exp time.Time) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return false, r.err
	}
	if r.seen == nil {
		r.seen = map[string]time.Time{}
	}
	if _, ok := r.seen[key]; ok {
		return true, nil
	}
	r.seen[key] = exp
	return false, nil
}

// client holds a DPoP key and signs proofs.
type client struct {
	alg jose.SignatureAlgorithm
	key crypto.Signer
}

func newClient(t testing.TB, alg jose.SignatureAlgorithm) *client {
	t.Helper()
	var k crypto.Signer
	var err error
	switch alg {
	case jose.ES256:
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jose.ES384:
		k, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case jose.PS256, jose.RS256:
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	case jose.EdDSA:
		_, k, err = ed25519.GenerateKey(rand.Reader)
	}
	if err != nil || k == nil {
		t.Fatalf("key for %s: %v", alg, err)
	}
	return &client{alg: alg, key: k}
}

func (c *client) jwk() jose.JSONWebKey { return jose.JSONWebKey{Key: c.key.Public()} }

func (c *client) jkt(t testing.TB) string {
	t.Helper()
	s, err := dpop.Thumbprint(c.jwk())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// proof signs claims with extra protected headers; typ dpop+jwt and the jwk are set unless
// headers override them (a nil value removes a header).
func (c *client) proof(t testing.TB, claims map[string]any, headers map[string]any) string {
	t.Helper()
	opts := &jose.SignerOptions{EmbedJWK: true}
	opts.WithType("dpop+jwt")
	for k, v := range headers {
		if k == "jwk" && v == nil {
			opts.EmbedJWK = false
			continue
		}
		if k == "typ" && v == nil {
			delete(opts.ExtraHeaders, jose.HeaderType)
			continue
		}
		opts.WithHeader(jose.HeaderKey(k), v)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: c.alg, Key: c.key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(claims)
	jws, err := s.Sign(b)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func claimsAt(now time.Time, method, uri string) map[string]any {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return map[string]any{"jti": base64.RawURLEncoding.EncodeToString(b), "htm": method, "htu": uri, "iat": now.Unix()}
}

func rawJWT(header, claims map[string]any, sig string) string {
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c) + "." + sig
}

const tokenURI = "https://login.inps.it/oauth/token"

func newChecker(t testing.TB, now time.Time, mod func(*dpop.Options)) *dpop.Checker {
	t.Helper()
	o := dpop.Options{Replay: &replay{}, Now: func() time.Time { return now }}
	if mod != nil {
		mod(&o)
	}
	c, err := dpop.NewChecker(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestAProofOfEachDefaultAlgorithmIsAccepted(t *testing.T) {
	now := time.Now()
	for _, alg := range dpop.DefaultAlgorithms {
		t.Run(string(alg), func(t *testing.T) {
			cl := newClient(t, alg)
			p, err := newChecker(t, now, nil).Check(ctx, cl.proof(t, claimsAt(now, "POST", tokenURI), nil), dpop.Request{Method: "POST", URI: tokenURI})
			if err != nil {
				t.Fatal(err)
			}
			if p.JKT != cl.jkt(t) || p.ID == "" || !p.IssuedAt.Equal(time.Unix(now.Unix(), 0)) {
				t.Fatalf("proof %+v, want jkt %s", p, cl.jkt(t))
			}
		})
	}
}

// TestThumbprintIsRFC7638 checks the thumbprint against the example of RFC 7638 §3.1.
func TestThumbprintIsRFC7638(t *testing.T) {
	var k jose.JSONWebKey
	const example = `{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}`
	if err := k.UnmarshalJSON([]byte(example)); err != nil {
		t.Fatal(err)
	}
	got, err := dpop.Thumbprint(k)
	if err != nil {
		t.Fatal(err)
	}
	if want := "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"; got != want {
		t.Fatalf("thumbprint %s, want %s", got, want)
	}
}

func TestProofRules(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	es := newClient(t, jose.ES256)
	rs := newClient(t, jose.RS256)
	es384 := newClient(t, jose.ES384)
	good := func() map[string]any { return claimsAt(now, "POST", tokenURI) }
	with := func(k string, v any) map[string]any {
		c := good()
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	priv, _ := json.Marshal(jose.JSONWebKey{Key: es.key})
	var privMap map[string]any
	_ = json.Unmarshal(priv, &privMap)
	sym, _ := json.Marshal(jose.JSONWebKey{Key: []byte("0123456789abcdef0123456789abcdef")})
	var symMap map[string]any
	_ = json.Unmarshal(sym, &symMap)
	other := newClient(t, jose.ES256)
	otherJWK, _ := json.Marshal(other.jwk())
	var otherMap map[string]any
	_ = json.Unmarshal(otherJWK, &otherMap)
	hs := func() string {
		s, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte("0123456789abcdef0123456789abcdef")}, (&jose.SignerOptions{}).WithType("dpop+jwt").WithHeader("jwk", symMap))
		b, _ := json.Marshal(good())
		j, _ := s.Sign(b)
		out, _ := j.CompactSerialize()
		return out
	}
	tampered := func() string {
		p := strings.Split(es.proof(t, good(), nil), ".")
		b, _ := json.Marshal(with("htu", "https://evil.example/token"))
		return p[0] + "." + base64.RawURLEncoding.EncodeToString(b) + "." + p[2]
	}
	for _, tc := range []struct {
		rule  string
		proof string
		want  error
	}{
		{"a good proof is accepted", es.proof(t, good(), nil), nil},
		{"the typ must be dpop+jwt", es.proof(t, good(), map[string]any{"typ": "JWT"}), dpop.ErrType},
		{"a proof without typ is refused", es.proof(t, good(), map[string]any{"typ": nil}), dpop.ErrType},
		{"alg none is refused", rawJWT(map[string]any{"alg": "none", "typ": "dpop+jwt", "jwk": otherMap}, good(), ""), dpop.ErrAlgorithm},
		{"an HMAC is refused", hs(), dpop.ErrAlgorithm},
		{"an algorithm outside the allow-list is refused (RS256)", rs.proof(t, good(), nil), dpop.ErrAlgorithm},
		{"an algorithm outside the allow-list is refused (ES384)", es384.proof(t, good(), nil), dpop.ErrAlgorithm},
		{"a proof without jwk is refused", es.proof(t, good(), map[string]any{"jwk": nil}), dpop.ErrKey},
		{"a jwk with a private part is refused", rawJWT(map[string]any{"alg": "ES256", "typ": "dpop+jwt", "jwk": privMap}, good(), "AAAA"), dpop.ErrKey},
		{"a signature by another key than jwk is refused", rawJWT(map[string]any{"alg": "ES256", "typ": "dpop+jwt", "jwk": otherMap}, good(), strings.Split(es.proof(t, good(), map[string]any{"jwk": nil}), ".")[2]), dpop.ErrSignature},
		{"a tampered payload is refused", tampered(), dpop.ErrSignature},
		{"a crit header is refused", es.proof(t, good(), map[string]any{"crit": []string{"exp"}}), dpop.ErrMalformed},
		{"jti is required", es.proof(t, with("jti", nil), nil), dpop.ErrClaim},
		{"an empty jti is refused", es.proof(t, with("jti", ""), nil), dpop.ErrClaim},
		{"an oversized jti is refused", es.proof(t, with("jti", strings.Repeat("j", 300)), nil), dpop.ErrClaim},
		{"htm is required", es.proof(t, with("htm", nil), nil), dpop.ErrClaim},
		{"htu is required", es.proof(t, with("htu", nil), nil), dpop.ErrClaim},
		{"iat is required", es.proof(t, with("iat", nil), nil), dpop.ErrClaim},
		{"iat must be a number", es.proof(t, with("iat", "1700000000"), nil), dpop.ErrClaim},
		{"a huge iat is refused", es.proof(t, with("iat", 1e300), nil), dpop.ErrClaim},
		{"htm must match the method", es.proof(t, with("htm", "GET"), nil), dpop.ErrMethod},
		{"htm is case-sensitive", es.proof(t, with("htm", "post"), nil), dpop.ErrMethod},
		{"htu must match the URI", es.proof(t, with("htu", "https://login.inps.it/oauth/authorize"), nil), dpop.ErrURI},
		{"htu of another host is refused", es.proof(t, with("htu", "https://login.inps.it.evil.example/oauth/token"), nil), dpop.ErrURI},
		{"htu over http does not match https", es.proof(t, with("htu", "http://login.inps.it/oauth/token"), nil), dpop.ErrURI},
		{"a stale iat is refused", es.proof(t, with("iat", now.Add(-dpop.DefaultMaxAge-time.Second).Unix()), nil), dpop.ErrIssuedAt},
		{"an iat too far in the future is refused", es.proof(t, with("iat", now.Add(dpop.DefaultSkew+time.Second).Unix()), nil), dpop.ErrIssuedAt},
		{"an iat at the edge of the past window is accepted", es.proof(t, with("iat", now.Add(-dpop.DefaultMaxAge).Unix()), nil), nil},
		{"an iat a little ahead is accepted", es.proof(t, with("iat", now.Add(dpop.DefaultSkew).Unix()), nil), nil},
		{"two signatures are refused", "a.b.c.d", dpop.ErrMalformed},
		{"garbage is refused", "not a jwt", dpop.ErrMalformed},
		{"an oversized proof is refused", strings.Repeat("a", 20<<10) + "..", dpop.ErrMalformed},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			_, err := newChecker(t, now, nil).Check(ctx, tc.proof, dpop.Request{Method: "POST", URI: tokenURI})
			if tc.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if !errors.Is(err, dpop.ErrInvalidProof) || dpop.ErrorCode(err) != dpop.CodeInvalidProof {
				t.Fatalf("%v does not wrap ErrInvalidProof", err)
			}
		})
	}
}

func TestAJWKNamingAnotherAlgorithmIsRefused(t *testing.T) {
	now := time.Now()
	cl := newClient(t, jose.ES256)
	k := cl.jwk()
	k.Algorithm = "ES384"
	b, _ := json.Marshal(k)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	p := cl.proof(t, claimsAt(now, "POST", tokenURI), map[string]any{"jwk": nil})
	parts := strings.Split(p, ".")
	// Re-sign with the jwk that names ES384.
	opts := (&jose.SignerOptions{}).WithType("dpop+jwt").WithHeader("jwk", m)
	s, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: cl.key}, opts)
	pl, _ := base64.RawURLEncoding.DecodeString(parts[1])
	j, _ := s.Sign(pl)
	out, _ := j.CompactSerialize()
	if _, err := newChecker(t, now, nil).Check(ctx, out, dpop.Request{Method: "POST", URI: tokenURI}); !errors.Is(err, dpop.ErrKey) {
		t.Fatalf("got %v, want ErrKey", err)
	}
}

func TestAWeakRSAKeyIsRefused(t *testing.T) {
	now := time.Now()
	k, err := rsa.GenerateKey(rand.Reader, 1024) //nolint:gosec // the weak key under test
	if err != nil {
		t.Fatal(err)
	}
	cl := &client{alg: jose.PS256, key: k}
	if _, err := newChecker(t, now, nil).Check(ctx, cl.proof(t, claimsAt(now, "POST", tokenURI), nil), dpop.Request{Method: "POST", URI: tokenURI}); !errors.Is(err, dpop.ErrKey) {
		t.Fatalf("got %v, want ErrKey", err)
	}
}

func TestAReplayedJTIIsRefused(t *testing.T) {
	now := time.Now()
	cl := newClient(t, jose.ES256)
	c := newChecker(t, now, nil)
	p := cl.proof(t, claimsAt(now, "POST", tokenURI), nil)
	if _, err := c.Check(ctx, p, dpop.Request{Method: "POST", URI: tokenURI}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Check(ctx, p, dpop.Request{Method: "POST", URI: tokenURI}); !errors.Is(err, dpop.ErrReplay) {
		t.Fatalf("replay: got %v", err)
	}
	// The same jti under another key is another proof.
	c2 := claimsAt(now, "POST", tokenURI)
	c2["jti"] = "shared"
	c3 := claimsAt(now, "POST", tokenURI)
	c3["jti"] = "shared"
	if _, err := c.Check(ctx, cl.proof(t, c2, nil), dpop.Request{Method: "POST", URI: tokenURI}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Check(ctx, newClient(t, jose.ES256).proof(t, c3, nil), dpop.Request{Method: "POST", URI: tokenURI}); err != nil {
		t.Fatalf("the same jti by another key: %v", err)
	}
}

func TestARefusedProofDoesNotSpendItsJTI(t *testing.T) {
	now := time.Now()
	r := &replay{}
	c := newChecker(t, now, func(o *dpop.Options) { o.Replay = r })
	cl := newClient(t, jose.ES256)
	if _, err := c.Check(ctx, cl.proof(t, claimsAt(now, "GET", tokenURI), nil), dpop.Request{Method: "POST", URI: tokenURI}); !errors.Is(err, dpop.ErrMethod) {
		t.Fatal(err)
	}
	if len(r.seen) != 0 {
		t.Fatalf("a refused proof was recorded: %v", r.seen)
	}
}

func TestAReplayCacheFailureIsNotTheClientsFault(t *testing.T) {
	now := time.Now()
	outage := errors.New("store down")
	c := newChecker(t, now, func(o *dpop.Options) { o.Replay = &replay{err: outage} })
	_, err := c.Check(ctx, newClient(t, jose.ES256).proof(t, claimsAt(now, "POST", tokenURI), nil), dpop.Request{Method: "POST", URI: tokenURI})
	if !errors.Is(err, outage) || errors.Is(err, dpop.ErrInvalidProof) || dpop.ErrorCode(err) != "" {
		t.Fatalf("got %v", err)
	}
}

func TestTheReplayEntryLastsAsLongAsTheProofCouldBeAccepted(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	r := &replay{}
	c := newChecker(t, now, func(o *dpop.Options) { o.Replay = r })
	if _, err := c.Check(ctx, newClient(t, jose.ES256).proof(t, claimsAt(now, "POST", tokenURI), nil), dpop.Request{Method: "POST", URI: tokenURI}); err != nil {
		t.Fatal(err)
	}
	for k, exp := range r.seen {
		if len(k) != 43 || !exp.Equal(now.Add(dpop.DefaultMaxAge)) {
			t.Fatalf("entry %q until %v", k, exp)
		}
	}
}

func TestAccessTokenHash(t *testing.T) {
	now := time.Now()
	cl := newClient(t, jose.ES256)
	const at = "eyJ.access.token"
	for _, tc := range []struct {
		rule string
		ath  any
		want error
	}{
		{"the hash of the presented token is accepted", dpop.TokenHash(at), nil},
		{"a proof without ath is refused with a token", nil, dpop.ErrTokenHash},
		{"the hash of another token is refused", dpop.TokenHash(at + "x"), dpop.ErrTokenHash},
		{"a non-string ath is refused", 42, dpop.ErrClaim},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			c := claimsAt(now, "GET", "https://api.inps.it/pensioni")
			if tc.ath != nil {
				c["ath"] = tc.ath
			}
			_, err := newChecker(t, now, nil).Check(ctx, cl.proof(t, c, nil), dpop.Request{Method: "GET", URI: "https://api.inps.it/pensioni?x=1", AccessToken: at})
			if !errors.Is(err, tc.want) && (err != nil || tc.want != nil) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	// RFC 9449 §7.1's example: the hash of its access token.
	if got := dpop.TokenHash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"); got != "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo" {
		t.Fatalf("TokenHash = %s", got)
	}
}

func TestTheKeyMustBeTheOneTheTokenIsBoundTo(t *testing.T) {
	now := time.Now()
	cl, other := newClient(t, jose.ES256), newClient(t, jose.EdDSA)
	c := newChecker(t, now, nil)
	req := dpop.Request{Method: "POST", URI: tokenURI, JKT: cl.jkt(t)}
	if _, err := c.Check(ctx, other.proof(t, claimsAt(now, "POST", tokenURI), nil), req); !errors.Is(err, dpop.ErrKeyMismatch) {
		t.Fatalf("other key: %v", err)
	}
	if _, err := c.Check(ctx, cl.proof(t, claimsAt(now, "POST", tokenURI), nil), req); err != nil {
		t.Fatalf("bound key: %v", err)
	}
}

func TestServerNonces(t *testing.T) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	key := []byte("0123456789abcdef0123456789abcdef")
	nonces, err := dpop.NewNonces(key, time.Minute, clock)
	if err != nil {
		t.Fatal(err)
	}
	c := newChecker(t, now, func(o *dpop.Options) { o.Nonces = nonces; o.Now = clock })
	cl := newClient(t, jose.ES256)
	check := func(nonce any) error {
		claims := claimsAt(now, "POST", tokenURI)
		if nonce != nil {
			claims["nonce"] = nonce
		}
		_, err := c.Check(ctx, cl.proof(t, claims, nil), dpop.Request{Method: "POST", URI: tokenURI})
		return err
	}
	err = check(nil)
	var ne *dpop.NonceError
	if !errors.As(err, &ne) || ne.Nonce != nonces.Current() || dpop.ErrorCode(err) != dpop.CodeUseNonce || errors.Is(err, dpop.ErrInvalidProof) {
		t.Fatalf("no nonce: %v", err)
	}
	first := ne.Nonce
	if c.Nonce() != first {
		t.Fatal("Checker.Nonce is not the current nonce")
	}
	if err := check(first); err != nil {
		t.Fatalf("current nonce: %v", err)
	}
	if err := check("made-up"); !errors.As(err, &ne) {
		t.Fatalf("made-up nonce: %v", err)
	}
	other, _ := dpop.NewNonces([]byte("another key, another replica set!"), time.Minute, clock)
	if err := check(other.Current()); !errors.As(err, &ne) {
		t.Fatalf("nonce under another key: %v", err)
	}
	// A replica sharing the key accepts it: no state beyond the key.
	replica, _ := dpop.NewNonces(key, time.Minute, clock)
	if !replica.Valid(first) {
		t.Fatal("a replica with the same key refuses the nonce")
	}
	now = now.Add(time.Minute) // next window: the previous nonce still holds
	if err := check(first); err != nil {
		t.Fatalf("previous window's nonce: %v", err)
	}
	if nonces.Current() == first {
		t.Fatal("the nonce did not rotate")
	}
	now = now.Add(time.Minute) // two windows on: it is stale
	if err := check(first); !errors.As(err, &ne) || ne.Nonce == first {
		t.Fatalf("stale nonce: %v", err)
	}
	if _, err := dpop.NewNonces([]byte("short"), 0, nil); err == nil {
		t.Fatal("a short nonce key was accepted")
	}
}

func TestCheckerOptions(t *testing.T) {
	if _, err := dpop.NewChecker(dpop.Options{}); err == nil {
		t.Fatal("a Checker without replay cache was built")
	}
	for _, alg := range []jose.SignatureAlgorithm{"none", jose.HS256, "XX"} {
		if _, err := dpop.NewChecker(dpop.Options{Replay: &replay{}, Algorithms: []jose.SignatureAlgorithm{alg}}); err == nil {
			t.Fatalf("algorithm %s allowed", alg)
		}
	}
	c, _ := dpop.NewChecker(dpop.Options{Replay: &replay{}})
	if got := strings.Join(c.Algorithms(), " "); got != "ES256 PS256 EdDSA" {
		t.Fatalf("Algorithms = %s", got)
	}
	if c.Nonce() != "" {
		t.Fatal("a nonce without Nonces")
	}
}

func TestFromHeader(t *testing.T) {
	for _, tc := range []struct {
		values []string
		ok     bool
	}{{nil, false}, {[]string{"a.b.c"}, true}, {[]string{"a.b.c", "d.e.f"}, false}, {[]string{" "}, false}} {
		h := http.Header{}
		for _, v := range tc.values {
			h.Add("DPoP", v)
		}
		_, err := dpop.FromHeader(h)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, dpop.ErrHeaderCount)) {
			t.Fatalf("%q: %v", tc.values, err)
		}
	}
}

func TestHostileKeys(t *testing.T) {
	now := time.Now()
	jwkOf := func(k jose.JSONWebKey) map[string]any {
		b, err := json.Marshal(k)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		return m
	}
	huge := new(big.Int).Lsh(big.NewInt(1), 9000)
	huge.Add(huge, big.NewInt(1))
	es := newClient(t, jose.ES256)
	offCurve := jwkOf(es.jwk())
	offCurve["y"] = offCurve["x"]
	for _, tc := range []struct {
		rule string
		alg  string
		jwk  map[string]any
	}{
		{"an RSA modulus over 8192 bits is refused", "PS256", jwkOf(jose.JSONWebKey{Key: &rsa.PublicKey{N: huge, E: 65537}})},
		{"a P-256 point off the curve is refused", "ES256", offCurve},
		{"a key of another type than the algorithm's is refused", "PS256", jwkOf(es.jwk())},
		{"an unknown key type is refused", "ES256", map[string]any{"kty": "oct", "k": "AAAA"}},
		{"an empty jwk is refused", "ES256", map[string]any{}},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			p := rawJWT(map[string]any{"alg": tc.alg, "typ": "dpop+jwt", "jwk": tc.jwk}, claimsAt(now, "POST", tokenURI), "AAAA")
			_, err := newChecker(t, now, nil).Check(ctx, p, dpop.Request{Method: "POST", URI: tokenURI})
			if !errors.Is(err, dpop.ErrInvalidProof) || errors.Is(err, dpop.ErrSignature) {
				t.Fatalf("got %v", err)
			}
		})
	}
}

func TestReplayFunc(t *testing.T) {
	now := time.Now()
	seen := map[string]bool{}
	c := newChecker(t, now, func(o *dpop.Options) {
		o.Replay = dpop.ReplayFunc(func(_ context.Context, key string, _ time.Time) (bool, error) {
			was := seen[key]
			seen[key] = true
			return was, nil
		})
	})
	p := newClient(t, jose.ES256).proof(t, claimsAt(now, "POST", tokenURI), nil)
	if _, err := c.Check(ctx, p, dpop.Request{Method: "POST", URI: tokenURI}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Check(ctx, p, dpop.Request{Method: "POST", URI: tokenURI}); !errors.Is(err, dpop.ErrReplay) {
		t.Fatalf("replay through a ReplayFunc: %v", err)
	}
}
