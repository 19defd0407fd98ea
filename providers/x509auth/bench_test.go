package x509auth_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"testing"
)

// BenchmarkValidateCachedRevocation measures one certificate validation (chain, policy,
// fiscal code, CRL and OCSP answered from the caches).
func BenchmarkValidateCachedRevocation(b *testing.B) {
	ps := startPKI(b, nil)
	v := validator(b, policy(b, ps, nil))
	chain := leaf(b, "mario-rossi-cie")
	ctx := context.Background()
	if _, err := v.Validate(ctx, chain); err != nil { // warm the caches
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Validate(ctx, chain); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHandshakeAndValidate measures a whole certificate login on the server side: a full
// TLS handshake (no resumption) presenting the CIE certificate, then validation with cached
// revocation answers. Client and server share the process (and the cores).
func BenchmarkHandshakeAndValidate(b *testing.B) {
	ps := startPKI(b, nil)
	srv := mtlsServer(b, validator(b, policy(b, ps, nil)))
	roots := x509.NewCertPool()
	roots.AddCert(certs(b, "server-ca")[0])
	client := &http.Client{Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{keyPair(b, "mario-rossi-cie")}},
		DisableKeepAlives: true,
	}}
	get := func() {
		resp, err := client.Get(srv.URL)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
	}
	get()
	b.ReportAllocs()
	for b.Loop() {
		get()
	}
}
