package spid

import (
	"testing"

	"github.com/inps/sportello/internal/loa"
)

// BenchmarkFullLoginThroughDevIdP is one whole login per iteration over HTTP: AuthnRequest
// (redirect, query signature), the dev IdP's form and signed Response, the ACS validation.
func BenchmarkFullLoginThroughDevIdP(b *testing.B) {
	e := newEnv(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		status, body := e.login(b, "demo", "bench", loa.SpidL2, creds("RSSMRA80A01H501U"))
		if status != 200 {
			b.Fatalf("HTTP %d %s", status, body)
		}
	}
}
