package broker

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestPKCESyntax(t *testing.T) {
	verifiers := []struct {
		v    string
		want bool
	}{
		{strings.Repeat("a", 43), true},
		{strings.Repeat("a", 128), true},
		{"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~", true},
		{strings.Repeat("a", 42), false},
		{strings.Repeat("a", 129), false},
		{"", false},
		{strings.Repeat("a", 42) + "+", false},
		{strings.Repeat("a", 42) + "/", false},
		{strings.Repeat("a", 42) + "=", false},
		{strings.Repeat("a", 42) + "%", false},
		{strings.Repeat("a", 42) + "\n", false},
		{strings.Repeat("a", 42) + "\x00", false},
		{strings.Repeat("a", 41) + "é", false}, // 43 bytes, one of them not ASCII
	}
	for _, tt := range verifiers {
		if got := validCodeVerifier(tt.v); got != tt.want {
			t.Errorf("validCodeVerifier(%q) = %v, want %v", tt.v, got, tt.want)
		}
	}
	good := s256(strings.Repeat("v", 43))
	challenges := []struct {
		c    string
		want bool
	}{
		{good, true},
		{good[:42], false},
		{good + "A", false},
		{strings.Repeat("a", 128), false},
		{"+" + good[1:], false},
		{"/" + good[1:], false},
		{good[:42] + "=", false},
		{good[:42] + "B", false}, // the last character carries 4 bits: B sets a padding bit
		{good[:20] + "\n" + good[21:], false},
		{"", false},
	}
	for _, tt := range challenges {
		if got := validS256Challenge(tt.c); got != tt.want {
			t.Errorf("validS256Challenge(%q) = %v, want %v", tt.c, got, tt.want)
		}
	}
}

// FuzzPKCESyntax: a verifier accepted is 43–128 unreserved bytes; a challenge accepted is the
// canonical base64url encoding of 32 bytes.
func FuzzPKCESyntax(f *testing.F) {
	for _, s := range []string{strings.Repeat("a", 43), s256("x"), s256("x")[:42] + "B", strings.Repeat("~", 128), "", "a+b", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if validCodeVerifier(s) {
			if len(s) < 43 || len(s) > 128 || strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~") != "" {
				t.Fatalf("verifier %q accepted", s)
			}
		}
		if validS256Challenge(s) {
			raw, err := base64.RawURLEncoding.DecodeString(s)
			if err != nil || len(raw) != 32 || base64.RawURLEncoding.EncodeToString(raw) != s {
				t.Fatalf("challenge %q accepted", s)
			}
		}
	})
}
