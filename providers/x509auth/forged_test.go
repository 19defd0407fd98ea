package x509auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"net/url"
	"testing"
	"time"

	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/x509auth"
	"github.com/inps/sportello/providers/x509auth/cardtest"
)

// forge copies a genuine certificate's contents into a certificate signed by a key of our own,
// optionally naming the genuine issuer: what an attacker can put in a proxy header.
func forge(t *testing.T, genuine, issuer *x509.Certificate) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := *genuine
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	tmpl.PublicKey = key.Public()
	parent := &tmpl
	if issuer != nil {
		fakeIssuer := *issuer
		fakeIssuer.PublicKey = key.Public()
		parent = &fakeIssuer
	}
	der, err := x509.CreateCertificate(rand.Reader, &tmpl, parent, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	return url.PathEscape(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
}

func TestForgedProxyHeaderFailsRevalidation(t *testing.T) {
	ps := startPKI(t, nil)
	v := validator(t, policy(t, ps, nil))
	mario := certs(t, "mario-rossi-cie")[0]
	for _, tt := range []struct {
		rule   string
		header string
	}{
		{"a self-signed copy of a genuine certificate", forge(t, mario, nil)},
		{"a copy claiming the genuine issuer but signed by another key", forge(t, mario, certs(t, "cie-sub")[0])},
	} {
		t.Run(tt.rule, func(t *testing.T) {
			chain, err := providers.ParseEscapedPEM(tt.header)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := v.Validate(context.Background(), chain); x509auth.Reason(err) != x509auth.ReasonUnknownCA {
				t.Fatalf("forged certificate: %v, want %s", err, x509auth.ReasonUnknownCA)
			}
		})
	}
	genuine := url.PathEscape(string(readPEM(t, "mario-rossi-cie.crt")))
	chain, err := providers.ParseEscapedPEM(genuine)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := v.Validate(context.Background(), chain); err != nil || res.FiscalNumber != "RSSMRA80A01H501U" {
		t.Fatalf("genuine header: %v", err)
	}
}

// issue signs a variant of a genuine leaf with the real dev CA key.
func issue(t *testing.T, caName string, genuine *x509.Certificate, edit func(*x509.Certificate)) []*x509.Certificate {
	t.Helper()
	ca, caKey := cardtest.CA(t, pkiDir, caName)
	c, _ := cardtest.Issue(t, ca, caKey, genuine, edit)
	return []*x509.Certificate{c}
}

func TestSignatureCertificateIsNotAnAuthenticationCertificate(t *testing.T) {
	ps := startPKI(t, nil)
	p := policy(t, ps, nil)
	p.Revocation.CRL, p.Revocation.OCSP = false, false
	v := validator(t, p)
	chain := issue(t, "cns-ca", certs(t, "giuseppe-verdi-cns")[0], func(c *x509.Certificate) {
		c.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment
	})
	if _, err := v.Validate(context.Background(), chain); x509auth.Reason(err) != x509auth.ReasonKeyUsage {
		t.Fatalf("nonRepudiation certificate: %v, want %s", err, x509auth.ReasonKeyUsage)
	}
	// A leaf without any EKU would pass x509.Verify; clientAuth must be stated.
	chain = issue(t, "cns-ca", certs(t, "giuseppe-verdi-cns")[0], func(c *x509.Certificate) {
		c.ExtKeyUsage = nil
	})
	if _, err := v.Validate(context.Background(), chain); x509auth.Reason(err) != x509auth.ReasonNoClientAuth {
		t.Fatalf("certificate without EKU: %v, want %s", err, x509auth.ReasonNoClientAuth)
	}
}
