package eidas

import (
	"net/url"
	"testing"

	"github.com/inps/sportello/internal/loa"
)

// BenchmarkFullLoginThroughDevEIDASNode is one whole eIDAS login per iteration over HTTP:
// AuthnRequest (redirect, query signature), the dev node's form and signed Response, the ACS
// validation (as BenchmarkFullLoginThroughDevIdP in providers/spid).
func BenchmarkFullLoginThroughDevEIDASNode(b *testing.B) {
	e := newEnv(b, nil)
	form := url.Values{"username": {"DE/IT/0123456789ABCDEF"}, "password": {"test-password"}, "level": {"2"}, "action": {"login"}}
	b.ReportAllocs()
	for b.Loop() {
		if status, body := e.login(b, "bench", loa.SpidL2, form); status != 200 {
			b.Fatalf("HTTP %d %s", status, body)
		}
	}
}
