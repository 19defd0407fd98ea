package oidcfed

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const ta = "https://ta.example.it"

func TestParseStatementRefusesHostileInput(t *testing.T) {
	k, other := key(t, 0), key(t, 1)
	good := claims(ta, k)
	with := func(mod func(c map[string]any)) map[string]any {
		c := map[string]any{}
		for k, v := range good {
			c[k] = v
		}
		mod(c)
		return c
	}
	cases := []struct {
		name string
		raw  string
		want error
	}{
		{"alg none refused", unsigned(good), ErrMalformed},
		{"HMAC refused (only the asymmetric algorithms of the profile)", hmacSigned(t, good), ErrMalformed},
		{"typ must be entity-statement+jwt", sign(t, k, "JWT", good), ErrMalformed},
		{"typ missing", sign(t, k, "", good), ErrMalformed},
		{"expired statement refused", sign(t, k, TypeEntityStatement, with(func(c map[string]any) { c["exp"] = testNow.Add(-2 * time.Minute).Unix() })), ErrExpired},
		{"iat in the future refused", sign(t, k, TypeEntityStatement, with(func(c map[string]any) { c["iat"] = testNow.Add(time.Hour).Unix() })), ErrExpired},
		{"exp required", sign(t, k, TypeEntityStatement, with(func(c map[string]any) { delete(c, "exp") })), ErrMalformed},
		{"iss required", sign(t, k, TypeEntityStatement, with(func(c map[string]any) { delete(c, "iss") })), ErrMalformed},
		{"jwks required", sign(t, k, TypeEntityStatement, with(func(c map[string]any) { delete(c, "jwks") })), ErrMalformed},
		{"a private key in jwks refused", sign(t, k, TypeEntityStatement, with(func(c map[string]any) { c["jwks"] = map[string]any{"keys": []any{k}} })), ErrMalformed},
		{"entity identifier must be a URL", sign(t, k, TypeEntityStatement, with(func(c map[string]any) { c["sub"] = "not a url" })), ErrMalformed},
		{"entity identifier without query", sign(t, k, TypeEntityStatement, with(func(c map[string]any) { c["authority_hints"] = []string{"https://x.it/?a=b"} })), ErrMalformed},
		{"claims must be JSON", "eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln", ErrMalformed},
		{"not a JWS", "garbage", ErrMalformed},
		{"oversized statement", strings.Repeat("a", maxStatementSize+1), ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseStatement(c.raw, testNow, time.Minute)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
	t.Run("signed by a key it does not publish", func(t *testing.T) {
		s, err := ParseStatement(sign(t, other, TypeEntityStatement, good), testNow, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.VerifySelf(); !errors.Is(err, ErrSignature) {
			t.Fatalf("VerifySelf = %v, want ErrSignature", err)
		}
	})
	t.Run("same kid, other key", func(t *testing.T) {
		forged := other
		forged.KeyID = k.KeyID
		s, err := ParseStatement(sign(t, forged, TypeEntityStatement, good), testNow, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.VerifySelf(); !errors.Is(err, ErrSignature) {
			t.Fatalf("VerifySelf = %v, want ErrSignature", err)
		}
	})
	t.Run("a valid configuration verifies", func(t *testing.T) {
		s, err := ParseStatement(sign(t, k, TypeEntityStatement, good), testNow, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.VerifySelf(); err != nil {
			t.Fatal(err)
		}
		if !s.Configuration() || s.Subject != ta {
			t.Fatalf("statement = %+v", s)
		}
	})
}

func FuzzParseStatement(f *testing.F) {
	k := key(f, 0)
	f.Add(sign(f, k, TypeEntityStatement, claims(ta, k)))
	f.Add(unsigned(claims(ta, k)))
	f.Add("eyJhbGciOiJSUzI1NiJ9.e30.c2ln")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, raw string) {
		s, err := ParseStatement(raw, testNow, time.Minute)
		if err != nil {
			return
		}
		_ = s.VerifySelf()
		_ = s.VerifyWith(pubSet(k))
		if s.Issuer == "" || s.Subject == "" || s.JWKS == nil {
			t.Fatalf("accepted a statement without iss, sub or jwks: %q", raw)
		}
	})
}
