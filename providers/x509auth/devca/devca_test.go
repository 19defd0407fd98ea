package devca_test

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/ocsp"

	"github.com/inps/sportello/providers/x509auth/devca"
)

const dir = "../../../testdata/pki"

func cert(t *testing.T, name string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name+".crt"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(data)
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDevCAServesCRLsAndOCSP(t *testing.T) {
	h, err := devca.New(dir, devca.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.StripPrefix("/dev/pki", h))
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/dev/pki/crl/cns-ca.crl")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	crl, err := x509.ParseRevocationList(body)
	if err != nil || crl.CheckSignatureFrom(cert(t, "cns-ca")) != nil || len(crl.RevokedCertificateEntries) != 1 {
		t.Fatalf("CRL: %v", err)
	}

	ask := func(leaf, issuer *x509.Certificate, ca string, get bool) (*ocsp.Response, error) {
		req, err := ocsp.CreateRequest(leaf, issuer, nil)
		if err != nil {
			t.Fatal(err)
		}
		var resp *http.Response
		if get {
			resp, err = http.Get(srv.URL + "/dev/pki/ocsp/" + ca + "/" + base64.StdEncoding.EncodeToString(req))
		} else {
			resp, err = http.Post(srv.URL+"/dev/pki/ocsp/"+ca, "application/ocsp-request", bytes.NewReader(req))
		}
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return ocsp.ParseResponseForCert(body, leaf, issuer)
	}
	sub := cert(t, "cie-sub")
	for _, tt := range []struct {
		rule   string
		leaf   string
		get    bool
		status int
	}{
		{"good certificate answered good (POST)", "mario-rossi-cie", false, ocsp.Good},
		{"good certificate answered good (GET)", "mario-rossi-cie", true, ocsp.Good},
		{"OCSP-revoked certificate answered revoked", "revoked-ocsp", false, ocsp.Revoked},
	} {
		got, err := ask(cert(t, tt.leaf), sub, "cie-sub", tt.get)
		if err != nil || got.Status != tt.status {
			t.Errorf("%s: %v, status %v", tt.rule, err, got)
		}
	}
	if _, err := ask(cert(t, "giuseppe-verdi-cns"), cert(t, "cns-ca"), "cie-sub", false); err == nil {
		t.Error("responder of cie-sub answered for a cns-ca certificate")
	}
	resp, _ = http.Get(srv.URL + "/dev/pki/crl/nope.crl")
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown CRL: %d", resp.StatusCode)
	}
}
