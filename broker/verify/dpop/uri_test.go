package dpop_test

import (
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
