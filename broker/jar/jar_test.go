package jar_test

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
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/inps/sportello/broker/jar"
	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/internal/store/memory"
	"github.com/inps/sportello/internal/store/redis"
	"github.com/inps/sportello/internal/store/redistest"
)

const issuer = "https://login.inps.it"

var epoch = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// signer is one key of a client.
type signer struct {
	kid string
	alg jose.SignatureAlgorithm
	key crypto.Signer
}

func newSigner(t testing.TB, kid string, alg jose.SignatureAlgorithm) signer {
	t.Helper()
	var k crypto.Signer
	var err error
	switch alg {
	case jose.ES256:
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jose.PS256, jose.RS256:
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	case jose.EdDSA:
		_, k, err = ed25519.GenerateKey(rand.Reader)
	}
	if err != nil {
		t.Fatal(err)
	}
	return signer{kid: kid, alg: alg, key: k}
}

func (s signer) public() jose.JSONWebKey {
	return jose.JSONWebKey{Key: s.key.Public(), KeyID: s.kid, Use: "sig"}
}

// sign signs claims; headers adds protected headers (typ defaults to oauth-authz-req+jwt).
func (s signer) sign(t testing.TB, claims map[string]any, headers map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("oauth-authz-req+jwt")
	for k, v := range headers {
		opts.WithHeader(jose.HeaderKey(k), v)
	}
	key := jose.JSONWebKey{Key: s.key, KeyID: s.kid}
	if s.kid == "" {
		key = jose.JSONWebKey{Key: s.key}
	}
	sg, err := jose.NewSigner(jose.SigningKey{Algorithm: s.alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(claims)
	jws, err := sg.Sign(b)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := jws.CompactSerialize()
	return out
}

func newJTI() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// claims is a good request object of demo-rp at now.
func claims(now time.Time) map[string]any {
	return map[string]any{
		"iss": "demo-rp", "aud": issuer, "client_id": "demo-rp", "jti": newJTI(),
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"response_type": "code", "redirect_uri": "https://rp.example/cb", "scope": "openid fiscal_number",
		"state": "st", "nonce": "n", "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method": "S256",
		"max_age": 300, "claims": map[string]any{"id_token": map[string]any{"acr": map[string]any{"essential": true}}},
	}
}

func newVerifier(t testing.TB, s store.Store, now *time.Time, keys *jar.Keys) *jar.Verifier {
	t.Helper()
	v, err := jar.New(jar.Options{Issuer: issuer, Store: s, Keys: keys, Now: func() time.Time { return *now }})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestRequestObjectRules(t *testing.T) {
	now := epoch
	es := newSigner(t, "es", jose.ES256)
	ps := newSigner(t, "ps", jose.PS256)
	ed := newSigner(t, "ed", jose.EdDSA)
	rs := newSigner(t, "rs", jose.RS256)
	stranger := newSigner(t, "es", jose.ES256) // same kid, another key
	client := jar.Client{ID: "demo-rp", JWKS: &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{es.public(), ps.public(), ed.public(), rs.public()}}}
	v := newVerifier(t, memory.New(memory.Options{Now: func() time.Time { return now }}), &now, nil)
	with := func(k string, val any) map[string]any {
		c := claims(now)
		if val == nil {
			delete(c, k)
		} else {
			c[k] = val
		}
		return c
	}
	secret := []byte("demo-secret-demo-secret-demo-secret!")
	hs := func() string {
		sg, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: secret}, (&jose.SignerOptions{}).WithType("oauth-authz-req+jwt"))
		b, _ := json.Marshal(claims(now))
		j, _ := sg.Sign(b)
		out, _ := j.CompactSerialize()
		return out
	}
	none := func() string {
		h, _ := json.Marshal(map[string]any{"alg": "none"})
		b, _ := json.Marshal(claims(now))
		return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(b) + "."
	}
	embedded := func() string {
		sg, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: stranger.key}, &jose.SignerOptions{EmbedJWK: true})
		b, _ := json.Marshal(claims(now))
		j, _ := sg.Sign(b)
		out, _ := j.CompactSerialize()
		return out
	}
	noKid := signer{alg: jose.ES256, key: es.key}
	for _, tc := range []struct {
		rule    string
		request string
		want    error
	}{
		{"an ES256 object by a registered key is accepted", es.sign(t, claims(now), nil), nil},
		{"a PS256 object is accepted", ps.sign(t, claims(now), nil), nil},
		{"an EdDSA object is accepted", ed.sign(t, claims(now), nil), nil},
		{"an object without kid is accepted when a registered key verifies it", noKid.sign(t, claims(now), nil), nil},
		{"typ JWT is accepted", es.sign(t, claims(now), map[string]any{"typ": "JWT"}), nil},
		{"an object signed by another key is refused", stranger.sign(t, claims(now), nil), jar.ErrInvalidRequestObject},
		{"alg none is refused", none(), jar.ErrInvalidRequestObject},
		{"HS256 with the client secret is refused", hs(), jar.ErrInvalidRequestObject},
		{"RS256 is not in the allow-list", rs.sign(t, claims(now), nil), jar.ErrInvalidRequestObject},
		{"a key the object embeds is refused", embedded(), jar.ErrInvalidRequestObject},
		{"a jku header is refused", es.sign(t, claims(now), map[string]any{"jku": "https://evil.example/jwks"}), jar.ErrInvalidRequestObject},
		{"another typ is refused", es.sign(t, claims(now), map[string]any{"typ": "at+jwt"}), jar.ErrInvalidRequestObject},
		{"a crit header is refused", es.sign(t, claims(now), map[string]any{"crit": []string{"x"}}), jar.ErrInvalidRequestObject},
		{"iss must be the client_id", es.sign(t, with("iss", "demo-spa"), nil), jar.ErrInvalidRequestObject},
		{"iss is required", es.sign(t, with("iss", nil), nil), jar.ErrInvalidRequestObject},
		{"aud must be the issuer", es.sign(t, with("aud", "https://other.example"), nil), jar.ErrInvalidRequestObject},
		{"aud may be a list naming the issuer", es.sign(t, with("aud", []string{"x", issuer}), nil), nil},
		{"aud is required", es.sign(t, with("aud", nil), nil), jar.ErrInvalidRequestObject},
		{"an expired object is refused", es.sign(t, with("exp", now.Add(-time.Minute).Unix()), nil), jar.ErrInvalidRequestObject},
		{"exp is required", es.sign(t, with("exp", nil), nil), jar.ErrInvalidRequestObject},
		{"exp must be a number", es.sign(t, with("exp", "tomorrow"), nil), jar.ErrInvalidRequestObject},
		{"nbf is required", es.sign(t, with("nbf", nil), nil), jar.ErrInvalidRequestObject},
		{"an object not yet valid is refused", es.sign(t, with("nbf", now.Add(time.Minute).Unix()), nil), jar.ErrInvalidRequestObject},
		{"nbf older than 60 minutes is refused", es.sign(t, with("nbf", now.Add(-61*time.Minute).Unix()), nil), jar.ErrInvalidRequestObject},
		{"exp more than 60 minutes after nbf is refused", es.sign(t, with("exp", now.Add(61*time.Minute).Unix()), nil), jar.ErrInvalidRequestObject},
		{"iat in the future is refused", es.sign(t, with("iat", now.Add(time.Minute).Unix()), nil), jar.ErrInvalidRequestObject},
		{"jti is required", es.sign(t, with("jti", nil), nil), jar.ErrInvalidRequestObject},
		{"client_id inside must be the client's", es.sign(t, with("client_id", "demo-spa"), nil), jar.ErrInvalidRequest},
		{"request inside is refused", es.sign(t, with("request", "x.y.z"), nil), jar.ErrInvalidRequestObject},
		{"request_uri inside is refused", es.sign(t, with("request_uri", "urn:x"), nil), jar.ErrInvalidRequestObject},
		{"an encrypted object is refused", "a.b.c.d.e", jar.ErrInvalidRequestObject},
		{"garbage is refused", "garbage", jar.ErrInvalidRequestObject},
		{"an oversized object is refused", strings.Repeat("a", 70<<10) + "..", jar.ErrInvalidRequestObject},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			_, err := v.Verify(t.Context(), client, tc.request)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestAClientPinnedToOneAlgorithm(t *testing.T) {
	now := epoch
	es, ed := newSigner(t, "es", jose.ES256), newSigner(t, "ed", jose.EdDSA)
	c := jar.Client{ID: "demo-rp", Algorithm: jose.ES256, JWKS: &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{es.public(), ed.public()}}}
	v := newVerifier(t, memory.New(memory.Options{}), &now, nil)
	if _, err := v.Verify(t.Context(), c, ed.sign(t, claims(now), nil)); !errors.Is(err, jar.ErrInvalidRequestObject) {
		t.Fatalf("EdDSA for an ES256 client: %v", err)
	}
	if _, err := v.Verify(t.Context(), c, es.sign(t, claims(now), nil)); err != nil {
		t.Fatal(err)
	}
}

// A client's own list (a security profile's algorithms) narrows the allow-list.
func TestAClientNarrowedToSomeAlgorithms(t *testing.T) {
	now := epoch
	es, ps, ed := newSigner(t, "es", jose.ES256), newSigner(t, "ps", jose.PS256), newSigner(t, "ed", jose.EdDSA)
	c := jar.Client{ID: "demo-rp", Algorithms: []jose.SignatureAlgorithm{jose.ES256, jose.PS256},
		JWKS: &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{es.public(), ps.public(), ed.public()}}}
	v := newVerifier(t, memory.New(memory.Options{}), &now, nil)
	if _, err := v.Verify(t.Context(), c, ed.sign(t, claims(now), nil)); !errors.Is(err, jar.ErrInvalidRequestObject) {
		t.Fatalf("EdDSA for an ES256/PS256 client: %v", err)
	}
	for _, s := range []signer{es, ps} {
		if _, err := v.Verify(t.Context(), c, s.sign(t, claims(now), nil)); err != nil {
			t.Fatalf("%s: %v", s.alg, err)
		}
	}
}

func TestAlgorithmAllowList(t *testing.T) {
	for _, alg := range []jose.SignatureAlgorithm{"none", jose.HS256, jose.HS512, "XX"} {
		if _, err := jar.New(jar.Options{Issuer: issuer, Store: memory.New(memory.Options{}), Algorithms: []jose.SignatureAlgorithm{alg}}); err == nil {
			t.Fatalf("%s accepted in the allow-list", alg)
		}
	}
	if _, err := jar.New(jar.Options{Store: memory.New(memory.Options{})}); err == nil {
		t.Fatal("no issuer accepted")
	}
	v, _ := jar.New(jar.Options{Issuer: issuer, Store: memory.New(memory.Options{})})
	if got := strings.Join(v.Algorithms(), " "); got != "ES256 PS256 EdDSA" {
		t.Fatal(got)
	}
}

// TestAReplayedJTIIsRefused runs on the memory store and a real Redis: the jti is recorded
// where every replica sees it.
func TestAReplayedJTIIsRefused(t *testing.T) {
	now := epoch
	es := newSigner(t, "es", jose.ES256)
	client := jar.Client{ID: "demo-rp", JWKS: &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{es.public()}}}
	run := func(t *testing.T, s store.Store) {
		v1 := newVerifier(t, s, &now, nil)
		v2 := newVerifier(t, s, &now, nil) // another replica on the same store
		obj := es.sign(t, claims(now), nil)
		if _, err := v1.Verify(t.Context(), client, obj); err != nil {
			t.Fatal(err)
		}
		if _, err := v2.Verify(t.Context(), client, obj); !errors.Is(err, jar.ErrInvalidRequestObject) || !strings.Contains(err.Error(), "jti") {
			t.Fatalf("replay on another replica: %v", err)
		}
		// The same jti from another client is its own.
		other := newSigner(t, "o", jose.ES256)
		c := claims(now)
		c["iss"], c["client_id"] = "demo-spa", "demo-spa"
		c["jti"] = "shared"
		if _, err := v1.Verify(t.Context(), jar.Client{ID: "demo-spa", JWKS: &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{other.public()}}}, other.sign(t, c, nil)); err != nil {
			t.Fatal(err)
		}
		c = claims(now)
		c["jti"] = "shared"
		if _, err := v1.Verify(t.Context(), client, es.sign(t, c, nil)); err != nil {
			t.Fatalf("the same jti by another client: %v", err)
		}
	}
	t.Run("memory", func(t *testing.T) { run(t, memory.New(memory.Options{})) })
	t.Run("redis", func(t *testing.T) {
		srv := redistest.Start(t)
		s, err := redis.New(t.Context(), redis.Options{URL: srv.URL, Prefix: srv.Prefix})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		run(t, s)
	})
}

// jtiTTL records the TTL of the jti keys.
type jtiTTL struct {
	store.Store
	ttl time.Duration
}

func (s *jtiTTL) PutIfAbsent(ctx context.Context, key string, v []byte, ttl time.Duration) (bool, error) {
	s.ttl = ttl
	return s.Store.PutIfAbsent(ctx, key, v, ttl)
}

func TestTheJTIIsKeptUntilTheObjectExpires(t *testing.T) {
	now := epoch
	es := newSigner(t, "es", jose.ES256)
	s := &jtiTTL{Store: memory.New(memory.Options{})}
	v := newVerifier(t, s, &now, nil)
	if _, err := v.Verify(t.Context(), jar.Client{ID: "demo-rp", JWKS: &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{es.public()}}}, es.sign(t, claims(now), nil)); err != nil {
		t.Fatal(err)
	}
	if s.ttl != 5*time.Minute+jar.DefaultLeeway {
		t.Fatalf("jti kept %s", s.ttl)
	}
}

type failing struct{ store.Store }

var errDown = errors.New("store down")

func (failing) PutIfAbsent(context.Context, string, []byte, time.Duration) (bool, error) {
	return false, errDown
}

func TestAStoreOutageIsNoClientError(t *testing.T) {
	now := epoch
	es := newSigner(t, "es", jose.ES256)
	v := newVerifier(t, failing{}, &now, nil)
	_, err := v.Verify(t.Context(), jar.Client{ID: "demo-rp", JWKS: &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{es.public()}}}, es.sign(t, claims(now), nil))
	if !errors.Is(err, errDown) || errors.Is(err, jar.ErrInvalidRequestObject) || !store.IsOutage(err) {
		t.Fatalf("got %v", err)
	}
}

// jwksServer serves a client's keys over TLS and counts the fetches.
type jwksServer struct {
	*httptest.Server
	mu   sync.Mutex
	keys []jose.JSONWebKey
	hits atomic.Int32
	body string
}

func newJWKSServer(t *testing.T, keys ...jose.JSONWebKey) *jwksServer {
	s := &jwksServer{keys: keys}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		switch r.URL.Path {
		case "/redirect":
			http.Redirect(w, r, "/jwks", http.StatusFound)
			return
		case "/big":
			w.Write([]byte(`{"keys":[` + strings.Repeat(" ", 300<<10) + `]}`))
			return
		case "/down":
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: s.keys})
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) set(keys ...jose.JSONWebKey) {
	s.mu.Lock()
	s.keys = keys
	s.mu.Unlock()
}

func TestKeysFromJWKSURI(t *testing.T) {
	now := epoch
	clock := func() time.Time { return now }
	a, b := newSigner(t, "a", jose.ES256), newSigner(t, "b", jose.ES256)
	srv := newJWKSServer(t, a.public())
	keys := jar.NewKeys(jar.KeysOptions{HTTPClient: srv.Client(), Now: clock})
	v := newVerifier(t, memory.New(memory.Options{}), &now, keys)
	client := jar.Client{ID: "demo-rp", JWKSURI: srv.URL + "/jwks"}
	verify := func(s signer) error {
		_, err := v.Verify(t.Context(), client, s.sign(t, claims(now), nil))
		return err
	}
	if err := verify(a); err != nil {
		t.Fatal(err)
	}
	if err := verify(a); err != nil || srv.hits.Load() != 1 {
		t.Fatalf("the set is not cached: %v, %d fetches", err, srv.hits.Load())
	}
	// The client rotates to b: an unknown key is fetched again, at most once per MinRefresh.
	srv.set(b.public())
	if err := verify(b); !errors.Is(err, jar.ErrInvalidRequestObject) || srv.hits.Load() != 1 {
		t.Fatalf("within MinRefresh: %v, %d fetches", err, srv.hits.Load())
	}
	now = now.Add(jar.DefaultMinRefresh)
	if err := verify(b); err != nil || srv.hits.Load() != 2 {
		t.Fatalf("after MinRefresh: %v, %d fetches", err, srv.hits.Load())
	}
	if err := verify(a); !errors.Is(err, jar.ErrInvalidRequestObject) {
		t.Fatalf("a key the client removed: %v", err)
	}
	// After CacheTTL the set is fetched again; a fetch that fails keeps serving the cache.
	now = now.Add(jar.DefaultCacheTTL)
	srv.Close()
	if err := verify(b); err != nil {
		t.Fatalf("the cached set while the client's server is down: %v", err)
	}
	for _, tc := range []struct {
		rule string
		uri  string
	}{
		{"a redirect is not followed", srv.URL + "/redirect"},
		{"an oversized set is refused", srv.URL + "/big"},
		{"a failing server gives no keys", srv.URL + "/down"},
		{"http is refused", strings.Replace(srv.URL, "https://", "http://", 1) + "/jwks"},
		{"a client without keys has none", ""},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			up := newJWKSServer(t, a.public())
			uri := strings.Replace(tc.uri, srv.URL, up.URL, 1)
			k := jar.NewKeys(jar.KeysOptions{HTTPClient: up.Client(), Now: clock})
			v := newVerifier(t, memory.New(memory.Options{}), &now, k)
			_, err := v.Verify(t.Context(), jar.Client{ID: "demo-rp", JWKSURI: uri}, a.sign(t, claims(now), nil))
			if !errors.Is(err, jar.ErrInvalidRequestObject) {
				t.Fatalf("got %v", err)
			}
		})
	}
}

func TestMergeRules(t *testing.T) {
	now := epoch
	es := newSigner(t, "es", jose.ES256)
	client := jar.Client{ID: "demo-rp", JWKS: &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{es.public()}}}
	v := newVerifier(t, memory.New(memory.Options{}), &now, nil)
	outer := url.Values{
		"client_id": {"demo-rp"}, "request": {es.sign(t, claims(now), nil)},
		"redirect_uri": {"https://evil.example/cb"}, "scope": {"openid"}, "prompt": {"none"},
	}
	got, err := v.Resolve(t.Context(), client, outer)
	if err != nil {
		t.Fatal(err)
	}
	want := url.Values{
		"client_id": {"demo-rp"}, "response_type": {"code"}, "redirect_uri": {"https://rp.example/cb"},
		"scope": {"openid fiscal_number"}, "state": {"st"}, "nonce": {"n"}, "max_age": {"300"},
		"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"},
		"claims": {`{"id_token":{"acr":{"essential":true}}}`},
	}
	if got.Encode() != want.Encode() {
		t.Fatalf("merged\n%v\nwant\n%v", got, want)
	}
	for _, tc := range []struct {
		rule  string
		outer url.Values
		want  error
	}{
		{"the outer client_id must name the client", url.Values{"client_id": {"demo-spa"}, "request": {es.sign(t, claims(now), nil)}}, jar.ErrInvalidRequest},
		{"the outer client_id is required", url.Values{"request": {es.sign(t, claims(now), nil)}}, jar.ErrInvalidRequest},
		{"request twice is refused", url.Values{"client_id": {"demo-rp"}, "request": {"a", "b"}}, jar.ErrInvalidRequest},
		{"request with request_uri is refused", url.Values{"client_id": {"demo-rp"}, "request": {es.sign(t, claims(now), nil)}, "request_uri": {"urn:x"}}, jar.ErrInvalidRequest},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			if _, err := v.Resolve(t.Context(), client, tc.outer); !errors.Is(err, tc.want) {
				t.Fatalf("got %v", err)
			}
		})
	}
	// An object without client_id gets the outer one.
	c := claims(now)
	delete(c, "client_id")
	got, err = v.Resolve(t.Context(), client, url.Values{"client_id": {"demo-rp"}, "request": {es.sign(t, c, nil)}})
	if err != nil || got.Get("client_id") != "demo-rp" {
		t.Fatalf("%v %v", got, err)
	}
}
