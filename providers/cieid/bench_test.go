package cieid

import (
	"net/url"
	"testing"

	"github.com/inps/sportello/internal/loa"
)

// BenchmarkFullLoginThroughDevCIEIDServer is one whole CIE ID login per iteration over HTTP:
// AuthnRequest (redirect, query signature), the dev server's form and signed Response, the ACS
// validation (as BenchmarkFullLoginThroughDevIdP in providers/spid).
func BenchmarkFullLoginThroughDevCIEIDServer(b *testing.B) {
	e := newEnv(b, nil)
	form := url.Values{"username": {"RSSMRA80A01H501U"}, "password": {"test-password"}, "level": {"3"}, "action": {"login"}}
	b.ReportAllocs()
	for b.Loop() {
		if status, body := e.login(b, "bench", loa.SpidL2, form); status != 200 {
			b.Fatalf("HTTP %d %s", status, body)
		}
	}
}
