package x509auth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/inps/sportello/providers/x509auth"
)

// authority finds the CA whose subject CN is cn.
func authority(t *testing.T, as []x509auth.AuthorityHealth, cn string) x509auth.AuthorityHealth {
	t.Helper()
	for _, a := range as {
		if a.Cert.Subject.CommonName == cn {
			return a
		}
	}
	t.Fatalf("no authority %q", cn)
	return x509auth.AuthorityHealth{}
}

// Every trusted CA is listed, anchors and intermediates, and once a certificate it issued is
// checked its CRL (last fetch, nextUpdate) and OCSP responder (last success) show; a source
// that cannot be reached shows its error and the CRL is stale; a CRL past its nextUpdate is
// stale too. Recording changes no decision: the same certificates pass and fail as before.
func TestAuthoritiesShowTheirRevocationHealth(t *testing.T) {
	clk := newClock()
	ps := startPKI(t, clk.Now)
	v := validator(t, policy(t, ps, clk.Now))
	as := v.Authorities()
	if len(as) != 3 || !as[0].Anchor || !as[1].Anchor || as[2].Anchor {
		t.Fatalf("authorities: %d, anchors first", len(as))
	}
	for _, a := range as {
		if len(a.CRLs) != 0 || len(a.OCSP) != 0 {
			t.Fatalf("%s: sources before any check", a.Cert.Subject)
		}
	}
	now := clk.Now()
	if _, err := v.Validate(context.Background(), leaf(t, "mario-rossi-cie")); err != nil {
		t.Fatal(err)
	}
	sub := authority(t, v.Authorities(), certs(t, "cie-sub")[0].Subject.CommonName)
	if len(sub.CRLs) != 1 || len(sub.OCSP) != 1 {
		t.Fatalf("cie-sub sources: %+v %+v", sub.CRLs, sub.OCSP)
	}
	crl, oc := sub.CRLs[0], sub.OCSP[0]
	if !crl.LastFetch.Equal(now) || !crl.LastSuccess.Equal(now) || !crl.NextUpdate.After(now) || crl.LastError != "" || crl.Stale(now) {
		t.Fatalf("cie-sub CRL: %+v", crl)
	}
	if !oc.LastSuccess.Equal(now) || !oc.LastFailure.IsZero() || oc.LastError != "" {
		t.Fatalf("cie-sub OCSP: %+v", oc)
	}
	// The CRL past its nextUpdate is stale, whatever the cache does next.
	if !crl.Stale(crl.NextUpdate.Add(time.Second)) {
		t.Fatal("a CRL past its nextUpdate is not stale")
	}

	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	p := policy(t, ps, clk.Now)
	p.Revocation.URLRewrite = map[string]string{devBase: closed.URL + "/dev/pki/"}
	down := validator(t, p)
	if _, err := down.Validate(context.Background(), leaf(t, "mario-rossi-cie")); x509auth.Reason(err) != x509auth.ReasonRevocationUnavailable {
		t.Fatalf("unreachable sources: %v", err)
	}
	sub = authority(t, down.Authorities(), certs(t, "cie-sub")[0].Subject.CommonName)
	if len(sub.CRLs) != 1 || sub.CRLs[0].LastError == "" || !sub.CRLs[0].LastSuccess.IsZero() || !sub.CRLs[0].Stale(now) {
		t.Fatalf("unreachable CRL: %+v", sub.CRLs)
	}
	if len(sub.OCSP) != 1 || sub.OCSP[0].LastError == "" || !sub.OCSP[0].LastFailure.Equal(now) {
		t.Fatalf("unreachable OCSP: %+v", sub.OCSP)
	}
	// A revoked certificate is still refused by a validator that records.
	if _, err := v.Validate(context.Background(), leaf(t, "revoked-crl")); x509auth.Reason(err) != x509auth.ReasonRevoked {
		t.Fatalf("revoked-crl: %v", err)
	}
}
