package dpop_test

import (
	"strings"
	"testing"

	"github.com/inps/sportello/broker/verify/dpop"
)

func TestHTUComparison(t *testing.T) {
	const req = "https://login.inps.it/oauth/token"
	for _, tc := range []struct {
		rule     string
		htu, uri string
		same     bool
	}{
		{"identical", req, req, true},
		{"the query is ignored", req + "?a=1", req + "?b=2", true},
		{"the fragment is ignored", req + "#frag", req, true},
		{"scheme and host are case-insensitive", "HTTPS://Login.INPS.it/oauth/token", req, true},
		{"the default port is dropped", "https://login.inps.it:443/oauth/token", req, true},
		{"the default http port is dropped", "http://127.0.0.1:80/token", "http://127.0.0.1/token", true},
		{"an empty path is /", "https://login.inps.it", "https://login.inps.it/", true},
		{"percent-encoded unreserved characters are decoded", "https://login.inps.it/%6Fauth/token", req, true},
		{"percent-encoding hex is case-insensitive", "https://a.example/x%2fy", "https://a.example/x%2Fy", true},
		{"dot segments are removed", "https://login.inps.it/a/../oauth/./token", req, true},
		{"the path is case-sensitive", "https://login.inps.it/OAuth/token", req, false},
		{"a port's leading zeros are dropped", "https://login.inps.it:0443/oauth/token", req, true},
		{"port 0 is refused", "https://login.inps.it:0/oauth/token", "https://login.inps.it:0/oauth/token", false},
		{"a port above 65535 is refused", "https://login.inps.it:70000/oauth/token", "https://login.inps.it:70000/oauth/token", false},
		{"another port is another URI", "https://login.inps.it:8443/oauth/token", req, false},
		{"another scheme is another URI", "http://login.inps.it/oauth/token", req, false},
		{"a trailing slash matters", req + "/", req, false},
		{"an encoded slash is not a slash", "https://login.inps.it/oauth%2Ftoken", req, false},
		{"a relative htu is refused", "/oauth/token", "/oauth/token", false},
		{"user information is refused", "https://user@login.inps.it/oauth/token", req, false},
		{"another scheme than http(s) is refused", "ftp://login.inps.it/oauth/token", "ftp://login.inps.it/oauth/token", false},
		{"a bad escape is refused", "https://login.inps.it/%zz", "https://login.inps.it/%zz", false},
		{"an IPv6 host", "https://[::1]:443/t", "https://[::1]/t", true},
		{"an IPv6 host with a port", "https://[::1]:8443/t", "https://[::1]:8443/t", true},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			if got := dpop.SameURI(tc.htu, tc.uri); got != tc.same {
				a, _ := dpop.NormalizeURI(tc.htu)
				b, _ := dpop.NormalizeURI(tc.uri)
				t.Fatalf("SameURI(%q, %q) = %v (%q vs %q)", tc.htu, tc.uri, got, a, b)
			}
		})
	}
}

// FuzzNormalizeURI checks the htu normalisation on arbitrary input: it never panics, its
// result is an absolute http(s) URI without query or fragment that normalises to itself, and
// a URI matches itself exactly when it normalises.
func FuzzNormalizeURI(f *testing.F) {
	for _, s := range []string{
		"https://login.inps.it/oauth/token", "HTTPS://Login.INPS.it:443/a/../oauth/./token?x#y",
		"http://[::1]:80/%7e%2f", "https://a.example/%2e%2E/x/..", "https://a.example", "https://u@a.example/",
		"https://a.example:0/", "https://a.example/%25%32%65", "//a.example/x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		n, ok := dpop.NormalizeURI(raw)
		if dpop.SameURI(raw, raw) != ok {
			t.Fatalf("SameURI(x, x) = %v, NormalizeURI ok = %v", !ok, ok)
		}
		if !ok {
			return
		}
		if !strings.HasPrefix(n, "https://") && !strings.HasPrefix(n, "http://") || strings.ContainsAny(n, "?#") {
			t.Fatalf("%q normalised to %q", raw, n)
		}
		again, ok := dpop.NormalizeURI(n)
		if !ok || again != n {
			t.Fatalf("%q normalised to %q, then to %q (%v)", raw, n, again, ok)
		}
	})
}
