package verify_test

import (
	"slices"
	"testing"
	"time"

	"github.com/inps/sportello/broker/verify"
)

// FuzzVerify feeds arbitrary strings to Verify: it never panics, and whatever it accepts
// names our issuer and audience and has not expired.
func FuzzVerify(f *testing.F) {
	is := newTestIssuer()
	defer is.Close()
	now := time.Now()
	v, err := verify.New(ctx, verify.Options{Issuer: is.URL(), Audience: "inps-pensioni", Now: func() time.Time { return now }})
	if err != nil {
		f.Fatal(err)
	}
	c := is.claims("inps-pensioni", now)
	c["act"] = map[string]any{"sub": "s", "act": map[string]any{"sub": "d", "delegation": map[string]any{"id": "x", "type": "online", "expires_at": 1}}}
	f.Add(is.sign("es-1", "at+jwt", c))
	f.Add(is.sign("rs-1", "at+jwt", is.claims("inps-pensioni", now)))
	bound := is.claims("inps-pensioni", now)
	bound["cnf"] = map[string]any{"x5t#S256": "0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"}
	f.Add(is.sign("es-1", "at+jwt", bound))
	f.Add(unsigned(map[string]any{"alg": "none", "typ": "at+jwt"}, c))
	f.Add("eyJhbGciOiJFUzI1NiJ9..")
	f.Fuzz(func(t *testing.T, raw string) {
		tok, err := v.Verify(ctx, raw)
		if err != nil {
			return
		}
		if tok.Claims["iss"] != is.URL() || !slices.Contains(tok.Audience, "inps-pensioni") || !now.Before(tok.ExpiresAt.Add(verify.DefaultLeeway)) {
			t.Fatalf("accepted %+v", tok)
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	is := newTestIssuer()
	defer is.Close()
	v, err := verify.New(ctx, verify.Options{Issuer: is.URL(), Audience: "inps-pensioni"})
	if err != nil {
		b.Fatal(err)
	}
	for _, kid := range []string{"es-1", "rs-1"} {
		raw := is.sign(kid, "at+jwt", is.claims("inps-pensioni", time.Now()))
		b.Run(map[string]string{"es-1": "ES256", "rs-1": "RS256"}[kid], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(ctx, raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
