package broker

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The Authorization header of a userinfo request is outside input: only the DPoP scheme (in
// any letter case, RFC 9110 §11.1) followed by a space makes a DPoP request, and the token
// handed on is what follows it.
func TestResourceAuthScheme(t *testing.T) {
	for _, tt := range []struct {
		header string
		dpop   bool
		bearer string
	}{
		{"DPoP tok", true, "Bearer tok"},
		{"dpop tok", true, "Bearer tok"},
		{"DPOP   tok", true, "Bearer tok"},
		{"DPoP", false, "DPoP"},
		{"DPoPtok", false, "DPoPtok"},
		{"DPoPx tok", false, "DPoPx tok"},
		{"Bearer tok", false, "Bearer tok"},
		{"", false, ""},
		{" DPoP tok", false, " DPoP tok"},
	} {
		r := httptest.NewRequest(http.MethodGet, "/userinfo", nil)
		if tt.header != "" {
			r.Header.Set("Authorization", tt.header)
		}
		out, ra := withResourceAuth(r, "http://broker"+pathUserinfo)
		if ra.dpop != tt.dpop || out.Header.Get("Authorization") != tt.bearer {
			t.Errorf("%q: dpop %v, handed on %q; want %v, %q", tt.header, ra.dpop, out.Header.Get("Authorization"), tt.dpop, tt.bearer)
		}
		if tt.dpop && r.Header.Get("Authorization") != tt.header {
			t.Errorf("%q: the original request's header was changed", tt.header)
		}
	}
}

// dpop_jkt is outside input: only a base64url SHA-256 digest passes.
func TestValidJKT(t *testing.T) {
	good := base64.RawURLEncoding.EncodeToString(make([]byte, 32))
	for s, want := range map[string]bool{
		good: true, good[:42]: false, good + "A": false, good[:42] + "=": false, good[:42] + "+": false,
		good[:42] + "/": false, "": false, good[:42] + "\x00": false, strings.Repeat("é", 21) + "A": false,
	} {
		if validJKT(s) != want {
			t.Errorf("validJKT(%q) = %v", s, !want)
		}
	}
}

func FuzzResourceAuth(f *testing.F) {
	for _, s := range []string{"DPoP tok", "dpop  x.y.z", "Bearer t", "DPoP", "DPoP\x00 t", "DPoP \r\n t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		r := httptest.NewRequest(http.MethodGet, "/userinfo", nil)
		r.Header["Authorization"] = []string{header}
		out, ra := withResourceAuth(r, "http://broker"+pathUserinfo)
		if ra.dpop {
			scheme, _, ok := strings.Cut(header, " ")
			if !ok || !strings.EqualFold(scheme, "DPoP") || !strings.HasPrefix(out.Header.Get("Authorization"), "Bearer ") {
				t.Fatalf("%q taken for DPoP, handed on %q", header, out.Header.Get("Authorization"))
			}
		} else if out.Header.Get("Authorization") != header {
			t.Fatalf("%q changed to %q", header, out.Header.Get("Authorization"))
		}
	})
}

func FuzzValidJKT(f *testing.F) {
	f.Add(base64.RawURLEncoding.EncodeToString(make([]byte, 32)))
	f.Add("short")
	f.Fuzz(func(t *testing.T, s string) {
		if !validJKT(s) {
			return
		}
		if b, err := base64.RawURLEncoding.DecodeString(s); err != nil || len(b) != 32 {
			t.Fatalf("%q accepted: %v, %d bytes", s, err, len(b))
		}
	})
}
