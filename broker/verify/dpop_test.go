package verify_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/inps/sportello/broker/verify"
	"github.com/inps/sportello/broker/verify/dpop"
)

// seenSet is an in-memory dpop.ReplayCache.
type seenSet struct {
	mu  sync.Mutex
	m   map[string]bool
	err error
}

func (s *seenSet) Seen(_ context.Context, key string, _ time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return false, s.err
	}
	if s.m == nil {
		s.m = map[string]bool{}
	}
	was := s.m[key]
	s.m[key] = true
	return was, nil
}

// holder is a client holding a DPoP key.
type holder struct{ key *ecdsa.PrivateKey }

func newHolder(t *testing.T) *holder {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &holder{key: k}
}

func (h *holder) jkt(t *testing.T) string {
	s, err := dpop.Thumbprint(jose.JSONWebKey{Key: h.key.Public()})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// proof signs a DPoP proof; mod changes its claims.
func (h *holder) proof(t *testing.T, now time.Time, method, uri, token string, mod func(map[string]any)) string {
	t.Helper()
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	c := map[string]any{"jti": base64.RawURLEncoding.EncodeToString(b), "htm": method, "htu": uri, "iat": now.Unix()}
	if token != "" {
		c["ath"] = dpop.TokenHash(token)
	}
	if mod != nil {
		mod(c)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: h.key}, (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := json.Marshal(c)
	jws, err := s.Sign(p)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := jws.CompactSerialize()
	return out
}

func newDPoPVerifier(t *testing.T, is *testIssuer, now time.Time, replay dpop.ReplayCache, nonces *dpop.Nonces) *verify.Verifier {
	t.Helper()
	clock := func() time.Time { return now }
	ch, err := dpop.NewChecker(dpop.Options{Replay: replay, Nonces: nonces, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	v, err := verify.New(ctx, verify.Options{Issuer: is.URL(), Audience: "inps-pensioni", Now: clock, DPoP: ch, BaseURL: "https://api.inps.it"})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

const resource = "https://api.inps.it/pensione"

func TestDPoPBoundTokens(t *testing.T) {
	is := newTestIssuer()
	defer is.Close()
	now := time.Now().Truncate(time.Second)
	cl, other := newHolder(t), newHolder(t)
	bound := is.claims("inps-pensioni", now)
	bound["cnf"] = map[string]any{"jkt": cl.jkt(t)}
	tok := is.sign("es-1", "at+jwt", bound)
	bearer := is.sign("es-1", "at+jwt", is.claims("inps-pensioni", now))
	replayed := cl.proof(t, now, "GET", resource, tok, nil)
	v := newDPoPVerifier(t, is, now, &seenSet{}, nil)
	if _, err := v.VerifyDPoP(ctx, tok, replayed, "GET", resource); err != nil {
		t.Fatalf("first use of the proof: %v", err)
	}
	for _, tc := range []struct {
		rule  string
		token string
		proof string
		want  error
	}{
		{"a bound token with its proof is accepted", tok, cl.proof(t, now, "GET", resource, tok, nil), nil},
		{"the query of the request does not matter", tok, cl.proof(t, now, "GET", resource+"?anno=2025", tok, nil), nil},
		{"a bound token without proof is refused", tok, "", dpop.ErrMalformed},
		{"a proof by another key is refused", tok, other.proof(t, now, "GET", resource, tok, nil), dpop.ErrKeyMismatch},
		{"a proof for another token is refused (ath)", tok, cl.proof(t, now, "GET", resource, bearer, nil), dpop.ErrTokenHash},
		{"a proof without ath is refused", tok, cl.proof(t, now, "GET", resource, "", nil), dpop.ErrTokenHash},
		{"a proof for another method is refused", tok, cl.proof(t, now, "POST", resource, tok, nil), dpop.ErrMethod},
		{"a proof for another URI is refused", tok, cl.proof(t, now, "GET", "https://api.inps.it/isee", tok, nil), dpop.ErrURI},
		{"a stale proof is refused", tok, cl.proof(t, now.Add(-2*dpop.DefaultMaxAge), "GET", resource, tok, nil), dpop.ErrIssuedAt},
		{"a replayed proof is refused", tok, replayed, dpop.ErrReplay},
		{"a bearer token under DPoP is refused", bearer, cl.proof(t, now, "GET", resource, bearer, nil), verify.ErrNotBound},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			got, err := v.VerifyDPoP(ctx, tc.token, tc.proof, "GET", resource)
			if tc.want == nil {
				if err != nil || got.JKT != cl.jkt(t) {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) || !errors.Is(err, verify.ErrInvalidToken) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	t.Run("a bound token is no bearer token", func(t *testing.T) {
		if _, err := v.Verify(ctx, tok); !errors.Is(err, verify.ErrProofRequired) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("a Verifier without DPoP refuses bound tokens", func(t *testing.T) {
		plain := newVerifier(t, is, "inps-pensioni", &clock{now: now})
		if _, err := plain.VerifyDPoP(ctx, tok, cl.proof(t, now, "GET", resource, tok, nil), "GET", resource); !errors.Is(err, verify.ErrProofRequired) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("a malformed cnf is refused", func(t *testing.T) {
		for _, cnf := range []any{"jkt", map[string]any{"jkt": 7}, map[string]any{"jkt": ""}} {
			c := is.claims("inps-pensioni", now)
			c["cnf"] = cnf
			if _, err := v.Verify(ctx, is.sign("es-1", "at+jwt", c)); !errors.Is(err, verify.ErrMalformed) {
				t.Fatalf("cnf %v: %v", cnf, err)
			}
		}
	})
	t.Run("a replay cache outage is no invalid token", func(t *testing.T) {
		outage := errors.New("store down")
		down := newDPoPVerifier(t, is, now, &seenSet{err: outage}, nil)
		_, err := down.VerifyDPoP(ctx, tok, cl.proof(t, now, "GET", resource, tok, nil), "GET", resource)
		if !errors.Is(err, outage) || errors.Is(err, verify.ErrInvalidToken) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestMiddlewareWithDPoP(t *testing.T) {
	is := newTestIssuer()
	defer is.Close()
	now := time.Now().Truncate(time.Second)
	nonces, err := dpop.NewNonces([]byte("0123456789abcdef0123456789abcdef"), 0, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	replay := &seenSet{}
	v := newDPoPVerifier(t, is, now, replay, nonces)
	h := verify.Middleware(v, 2)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, _ := verify.FromContext(r.Context())
		io.WriteString(w, "hello "+tok.FiscalNumber)
	}))
	cl := newHolder(t)
	bound := is.claims("inps-pensioni", now)
	bound["cnf"] = map[string]any{"jkt": cl.jkt(t)}
	tok := is.sign("es-1", "at+jwt", bound)
	withNonce := func(c map[string]any) { c["nonce"] = nonces.Current() }
	do := func(auth string, proofs ...string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "http://10.0.0.7:8080/pensione?anno=2025", nil)
		r.Header.Set("Authorization", auth)
		for _, p := range proofs {
			r.Header.Add("DPoP", p)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	for _, tc := range []struct {
		rule   string
		auth   string
		proofs []string
		status int
		header string
	}{
		{"a bound token with its proof passes", "DPoP " + tok, []string{cl.proof(t, now, "GET", resource, tok, withNonce)}, 200, ""},
		{"a proof without the server's nonce: use_dpop_nonce", "DPoP " + tok, []string{cl.proof(t, now, "GET", resource, tok, nil)}, 401, `DPoP error="use_dpop_nonce"`},
		{"no proof: invalid_dpop_proof", "DPoP " + tok, nil, 401, `DPoP error="invalid_dpop_proof"`},
		{"two proofs: invalid_dpop_proof", "DPoP " + tok, []string{cl.proof(t, now, "GET", resource, tok, withNonce), cl.proof(t, now, "GET", resource, tok, withNonce)}, 401, `DPoP error="invalid_dpop_proof"`},
		{"htu must be the external URI, not the listener's", "DPoP " + tok, []string{cl.proof(t, now, "GET", "http://10.0.0.7:8080/pensione", tok, withNonce)}, 401, `DPoP error="invalid_dpop_proof"`},
		{"a bound token as a bearer token: invalid_token", "Bearer " + tok, nil, 401, `Bearer error="invalid_token"`},
		{"a bad token under DPoP: invalid_token", "DPoP x.y.z", []string{cl.proof(t, now, "GET", resource, "x.y.z", withNonce)}, 401, `DPoP error="invalid_token", algs="ES256 PS256 EdDSA"`},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			w := do(tc.auth, tc.proofs...)
			if w.Code != tc.status || !strings.Contains(w.Header().Get("WWW-Authenticate"), tc.header) {
				t.Fatalf("%d %q %s", w.Code, w.Header().Get("WWW-Authenticate"), w.Body)
			}
			if strings.Contains(tc.header, "use_dpop_nonce") && w.Header().Get("DPoP-Nonce") != nonces.Current() {
				t.Fatalf("DPoP-Nonce %q", w.Header().Get("DPoP-Nonce"))
			}
		})
	}
	t.Run("no token: both challenges", func(t *testing.T) {
		r := httptest.NewRequest("GET", "/pensione", nil)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if got := strings.Join(w.Header().Values("WWW-Authenticate"), " | "); w.Code != 401 || got != `Bearer realm="inps" | DPoP realm="inps", algs="ES256 PS256 EdDSA"` {
			t.Fatalf("%d %s", w.Code, got)
		}
	})
	t.Run("a replay cache outage: 503", func(t *testing.T) {
		replay.mu.Lock()
		replay.err = errors.New("down")
		replay.mu.Unlock()
		if w := do("DPoP "+tok, cl.proof(t, now, "GET", resource, tok, withNonce)); w.Code != 503 {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
	})
}
