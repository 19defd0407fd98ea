package verify_test

import (
	"context"
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
)

var ctx = context.Background()

// clock is a manual clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newVerifier(t *testing.T, is *testIssuer, aud string, c *clock) *verify.Verifier {
	t.Helper()
	v, err := verify.New(ctx, verify.Options{Issuer: is.URL(), Audience: aud, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func unsigned(header, claims map[string]any) string {
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c) + "."
}

func hs256(claims map[string]any, secret []byte) string {
	s, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: secret}, (&jose.SignerOptions{}).WithType("at+jwt").WithHeader("kid", "es-1"))
	b, _ := json.Marshal(claims)
	jws, _ := s.Sign(b)
	out, _ := jws.CompactSerialize()
	return out
}

func TestVerificationRules(t *testing.T) {
	is := newTestIssuer()
	defer is.Close()
	is.addKey("unpublished", jose.ES256, false)
	now := time.Now().Truncate(time.Second)
	c := &clock{now: now}
	v := newVerifier(t, is, "inps-pensioni", c)
	with := func(k string, val any) map[string]any {
		m := is.claims("inps-pensioni", now)
		if val == nil {
			delete(m, k)
		} else {
			m[k] = val
		}
		return m
	}
	good := is.claims("inps-pensioni", now)
	tampered := func() string {
		p := strings.Split(is.sign("es-1", "at+jwt", good), ".")
		evil := is.claims("inps-pensioni", now)
		evil["fiscal_number"] = "RSSMRA80A01H501U"
		b, _ := json.Marshal(evil)
		return p[0] + "." + base64.RawURLEncoding.EncodeToString(b) + "." + p[2]
	}()
	tests := []struct {
		name string
		tok  string
		want error
	}{
		{"an ES256 access token is accepted", is.sign("es-1", "at+jwt", good), nil},
		{"an RS256 access token is accepted", is.sign("rs-1", "at+jwt", good), nil},
		{"typ application/at+jwt is accepted", is.sign("es-1", "application/at+jwt", good), nil},
		{"an audience list including ours is accepted", is.sign("es-1", "at+jwt", with("aud", []string{"x", "inps-pensioni"})), nil},
		{"a single-string audience is accepted", is.sign("es-1", "at+jwt", with("aud", "inps-pensioni")), nil},
		{"expired 10 s ago is within the leeway", is.sign("es-1", "at+jwt", with("exp", now.Add(-10*time.Second).Unix())), nil},
		{"expired a minute ago is refused", is.sign("es-1", "at+jwt", with("exp", now.Add(-time.Minute).Unix())), verify.ErrExpired},
		{"a token without exp is refused", is.sign("es-1", "at+jwt", with("exp", nil)), verify.ErrMalformed},
		{"a token valid only later is refused", is.sign("es-1", "at+jwt", with("nbf", now.Add(time.Hour).Unix())), verify.ErrNotYetValid},
		{"a token issued in the future is refused", is.sign("es-1", "at+jwt", with("iat", now.Add(time.Hour).Unix())), verify.ErrNotYetValid},
		{"a wrong issuer is refused", is.sign("es-1", "at+jwt", with("iss", "https://evil.example")), verify.ErrIssuer},
		{"a wrong audience is refused", is.sign("es-1", "at+jwt", with("aud", []string{"demo-rp"})), verify.ErrAudience},
		{"an ID token (typ JWT) is refused", is.sign("es-1", "JWT", good), verify.ErrType},
		{"a token without typ is refused", is.sign("es-1", "", good), verify.ErrType},
		{"a key the issuer never published is refused", is.sign("unpublished", "at+jwt", good), verify.ErrUnknownKey},
		{"alg none is refused", unsigned(map[string]any{"alg": "none", "typ": "at+jwt", "kid": "es-1"}, good), verify.ErrAlgorithm},
		{"HS256 is refused", hs256(good, []byte("0123456789abcdef0123456789abcdef")), verify.ErrAlgorithm},
		{"a tampered payload is refused", tampered, verify.ErrSignature},
		{"garbage is refused", "not.a.token", verify.ErrMalformed},
		{"an empty string is refused", "", verify.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := v.Verify(ctx, tt.tok)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if err != nil && !errors.Is(err, verify.ErrInvalidToken) {
				t.Fatalf("%v does not wrap ErrInvalidToken", err)
			}
			if err == nil && (tok.Subject != "sub-of-verdi" || tok.FiscalNumber != "VRDGPP40C15L219U") {
				t.Fatalf("%+v", tok)
			}
		})
	}
}

func TestTokenContractClaims(t *testing.T) {
	is := newTestIssuer()
	defer is.Close()
	now := time.Now().Truncate(time.Second)
	v := newVerifier(t, is, "inps-pensioni", &clock{now: now})
	c := is.claims("inps-pensioni", now)
	c["entitlements"] = []string{"isee:consultazione"}
	c["scope"] = "openid fiscal_number profile"
	c["spid_op"] = "https://idp.example"
	tok, err := v.Verify(ctx, is.sign("es-1", "at+jwt", c))
	if err != nil {
		t.Fatal(err)
	}
	a := tok.Assurance
	if a.ACR != verify.SpidL2 || a.Level != 2 || strings.Join(a.AMR, ",") != "pwd,mfa" || a.Method != "spid" ||
		a.SPIDIdP != "https://idp.example" || a.SPIDOP != "https://idp.example" || a.CIEOP != "" || !a.AuthTime.Equal(now.Add(-time.Minute)) {
		t.Fatalf("%+v", a)
	}
	if !tok.HasScope("profile") || tok.HasScope("email") || !tok.HasEntitlement("isee:consultazione") || tok.Delegated() ||
		len(tok.ActorChain()) != 0 || tok.ClientID != "demo-rp" || tok.ID != "j1" || !tok.ExpiresAt.Equal(now.Add(5*time.Minute)) {
		t.Fatalf("%+v", tok)
	}
}

func TestDelegationAndActChain(t *testing.T) {
	is := newTestIssuer()
	defer is.Close()
	now := time.Now().Truncate(time.Second)
	v := newVerifier(t, is, "inps-pensioni", &clock{now: now})
	end := now.Add(90 * 24 * time.Hour)
	delegate := map[string]any{"sub": "sub-of-bianchi", "fiscal_number": "BNCLRA85M41F205C",
		"delegation": map[string]any{"id": "d-42", "type": "office_aa08", "expires_at": end.Unix()}}
	t.Run("a delegate acting for the citizen", func(t *testing.T) {
		c := is.claims("inps-pensioni", now)
		c["act"] = delegate
		tok, err := v.Verify(ctx, is.sign("es-1", "at+jwt", c))
		if err != nil {
			t.Fatal(err)
		}
		d := tok.Delegation
		if d == nil || d.Actor.Sub != "sub-of-bianchi" || d.Actor.FiscalNumber != "BNCLRA85M41F205C" || d.ID != "d-42" ||
			d.Type != "office_aa08" || !d.ExpiresAt.Equal(end) || tok.Subject != "sub-of-verdi" || len(tok.ActorChain()) != 1 {
			t.Fatalf("%+v %+v", tok, d)
		}
	})
	t.Run("a delegation with no end and an RFC 3339 end", func(t *testing.T) {
		for _, exp := range []any{nil, end.Format(time.RFC3339)} {
			c := is.claims("inps-pensioni", now)
			c["act"] = map[string]any{"sub": "s", "delegation": map[string]any{"id": "d", "type": "online", "expires_at": exp}}
			tok, err := v.Verify(ctx, is.sign("es-1", "at+jwt", c))
			if err != nil || tok.Delegation == nil || tok.Delegation.ExpiresAt.IsZero() != (exp == nil) {
				t.Fatalf("%v %+v", err, tok)
			}
		}
	})
	t.Run("a delegated token exchanged by a service nests the act", func(t *testing.T) {
		c := is.claims("inps-pensioni", now)
		c["act"] = map[string]any{"sub": "demo-service", "client_id": "demo-service", "act": delegate}
		tok, err := v.Verify(ctx, is.sign("es-1", "at+jwt", c))
		if err != nil {
			t.Fatal(err)
		}
		chain := tok.ActorChain()
		if len(chain) != 2 || chain[0].ClientID != "demo-service" || chain[1].FiscalNumber != "BNCLRA85M41F205C" ||
			tok.Delegation == nil || tok.Delegation.ID != "d-42" {
			t.Fatalf("%+v", chain)
		}
	})
	t.Run("an absurdly deep act chain is refused", func(t *testing.T) {
		act := map[string]any{"sub": "x"}
		for range 20 {
			act = map[string]any{"sub": "x", "act": act}
		}
		c := is.claims("inps-pensioni", now)
		c["act"] = act
		if _, err := v.Verify(ctx, is.sign("es-1", "at+jwt", c)); !errors.Is(err, verify.ErrInvalidToken) {
			t.Fatal(err)
		}
	})
}

func TestKeyRotationAndRefreshRateLimit(t *testing.T) {
	is := newTestIssuer()
	defer is.Close()
	now := time.Now().Truncate(time.Second)
	c := &clock{now: now}
	v := newVerifier(t, is, "inps-pensioni", c)
	if is.jwksHits.Load() != 1 {
		t.Fatalf("jwks fetched %d times", is.jwksHits.Load())
	}
	old := is.sign("es-1", "at+jwt", is.claims("inps-pensioni", now))
	is.addKey("es-2", jose.ES256, true)
	fresh := is.sign("es-2", "at+jwt", is.claims("inps-pensioni", now))
	// Within MinRefreshInterval of the last fetch, an unknown kid does not trigger a fetch.
	if _, err := v.Verify(ctx, fresh); !errors.Is(err, verify.ErrUnknownKey) || is.jwksHits.Load() != 1 {
		t.Fatalf("err %v, fetches %d", err, is.jwksHits.Load())
	}
	c.Advance(verify.DefaultMinRefreshInterval)
	if _, err := v.Verify(ctx, fresh); err != nil || is.jwksHits.Load() != 2 {
		t.Fatalf("after rotation: err %v, fetches %d", err, is.jwksHits.Load())
	}
	if _, err := v.Verify(ctx, old); err != nil {
		t.Fatalf("old key: %v", err)
	}
	// A flood of forged kids costs at most one fetch per interval.
	is.addKey("forged", jose.ES256, false)
	forged := is.sign("forged", "at+jwt", is.claims("inps-pensioni", now))
	c.Advance(verify.DefaultMinRefreshInterval)
	for range 50 {
		if _, err := v.Verify(ctx, forged); !errors.Is(err, verify.ErrUnknownKey) {
			t.Fatal(err)
		}
	}
	if is.jwksHits.Load() != 3 {
		t.Fatalf("fetches %d", is.jwksHits.Load())
	}
	// A stale cache is refreshed on use, and a key withdrawn from the JWKS stops working.
	is.mu.Lock()
	is.published = []string{"es-2"}
	is.mu.Unlock()
	c.Advance(verify.DefaultRefreshInterval)
	if _, err := v.Verify(ctx, old); !errors.Is(err, verify.ErrUnknownKey) {
		t.Fatalf("withdrawn key: %v", err)
	}
}

func TestNewChecksDiscovery(t *testing.T) {
	is := newTestIssuer()
	defer is.Close()
	if _, err := verify.New(ctx, verify.Options{Issuer: is.URL() + "/", Audience: "a"}); err == nil {
		t.Fatal("an issuer differing from discovery's was accepted")
	}
	if _, err := verify.New(ctx, verify.Options{Issuer: is.URL()}); err == nil {
		t.Fatal("no audience accepted")
	}
	if _, err := verify.New(ctx, verify.Options{Issuer: "http://127.0.0.1:1", Audience: "a"}); err == nil {
		t.Fatal("unreachable issuer accepted")
	}
}

func TestMiddleware(t *testing.T) {
	is := newTestIssuer()
	defer is.Close()
	now := time.Now().Truncate(time.Second)
	v := newVerifier(t, is, "inps-pensioni", &clock{now: now})
	h := verify.Middleware(v, 2)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, _ := verify.FromContext(r.Context())
		io.WriteString(w, "hello "+tok.FiscalNumber)
	}))
	l1 := is.claims("inps-pensioni", now)
	l1["acr"] = verify.SpidL1
	service := map[string]any{"iss": is.URL(), "sub": "demo-service", "client_id": "demo-service", "aud": "inps-pensioni", "exp": now.Add(time.Minute).Unix()}
	tests := []struct {
		name, auth string
		status     int
		header     string
	}{
		{"no token: 401", "", 401, `Bearer realm="inps"`},
		{"a bad token: 401 invalid_token", "Bearer x.y.z", 401, `Bearer error="invalid_token"`},
		{"an ID token: 401 invalid_token", "Bearer " + is.sign("es-1", "JWT", is.claims("inps-pensioni", now)), 401, `error="invalid_token"`},
		{"a level 1 login: 403 insufficient_user_authentication", "Bearer " + is.sign("es-1", "at+jwt", l1), 403, `error="insufficient_user_authentication"`},
		{"a service's own token has no level: 403", "Bearer " + is.sign("es-1", "at+jwt", service), 403, `acr_values="https://www.spid.gov.it/SpidL2"`},
		{"a level 2 login passes", "Bearer " + is.sign("es-1", "at+jwt", is.claims("inps-pensioni", now)), 200, ""},
		{"the scheme is case-insensitive", "bearer " + is.sign("es-1", "at+jwt", is.claims("inps-pensioni", now)), 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/pensione", nil)
			if tt.auth != "" {
				r.Header.Set("Authorization", tt.auth)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.status || !strings.Contains(w.Header().Get("WWW-Authenticate"), tt.header) {
				t.Fatalf("%d %q %s", w.Code, w.Header().Get("WWW-Authenticate"), w.Body)
			}
			if tt.status == 200 && w.Body.String() != "hello VRDGPP40C15L219U" {
				t.Fatal(w.Body)
			}
		})
	}
}
