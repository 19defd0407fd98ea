package x509auth_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/x509auth"
)

// mtlsServer is a real TLS server that requests any client certificate (no CA list in the
// handshake) and validates the presented chain itself, as the broker's mTLS listener does.
func mtlsServer(t testing.TB, v *x509auth.Validator) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := v.Validate(r.Context(), r.TLS.PeerCertificates)
		out := map[string]string{}
		if err != nil {
			out["reason"] = x509auth.Reason(err)
			out["error"] = err.Error()
		} else {
			out["cf"], out["given"], out["family"] = res.FiscalNumber, res.GivenName, res.FamilyName
		}
		json.NewEncoder(w).Encode(out)
	}))
	srv.TLS = &tls.Config{
		ClientAuth:   tls.RequestClientCert,
		Certificates: []tls.Certificate{keyPair(t, "server")},
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// login performs a fresh TLS handshake presenting the named client certificate ("" for none).
func login(t testing.TB, srv *httptest.Server, name string) map[string]string {
	t.Helper()
	roots := x509.NewCertPool()
	roots.AddCert(certs(t, "server-ca")[0])
	cfg := &tls.Config{RootCAs: roots}
	if name != "" {
		cfg.Certificates = []tls.Certificate{keyPair(t, name)}
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}}
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestEveryDevCertificateOverRealTLS(t *testing.T) {
	ps := startPKI(t, nil)
	srv := mtlsServer(t, validator(t, policy(t, ps, nil)))
	tests := []struct {
		rule, cert, reason, cf string
	}{
		{"CIE certificate accepted with the holder's fiscal code", "mario-rossi-cie", "", "RSSMRA80A01H501U"},
		{"CNS certificate accepted with the fiscal code before the first slash", "giuseppe-verdi-cns", "", "VRDGPP40C15L219U"},
		{"CNS hash containing a slash does not break extraction", "cns-hash-with-slash", "", "RCCMNL83S18D969H"},
		{"no certificate presented is refused", "", x509auth.ReasonMissing, ""},
		{"expired certificate refused", "expired", x509auth.ReasonExpired, ""},
		{"certificate not yet valid refused", "not-yet-valid", x509auth.ReasonNotYetValid, ""},
		{"certificate revoked in the CRL refused", "revoked-crl", x509auth.ReasonRevoked, ""},
		{"certificate revoked by OCSP refused", "revoked-ocsp", x509auth.ReasonRevoked, ""},
		{"certificate without a card policy refused", "wrong-policy", x509auth.ReasonWrongPolicy, ""},
		{"certificate without clientAuth EKU refused", "no-clientauth-eku", x509auth.ReasonNoClientAuth, ""},
		{"certificate without digitalSignature refused", "wrong-key-usage", x509auth.ReasonKeyUsage, ""},
		{"certificate from an unknown CA refused", "unknown-ca", x509auth.ReasonUnknownCA, ""},
		{"fiscal code with a wrong check letter refused", "invalid-fiscal-code", x509auth.ReasonInvalidFiscalCode, ""},
		{"certificate without a fiscal code refused", "no-fiscal-code", x509auth.ReasonNoFiscalCode, ""},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			got := login(t, srv, tt.cert)
			if got["reason"] != tt.reason {
				t.Fatalf("reason = %q (%s), want %q", got["reason"], got["error"], tt.reason)
			}
			if got["cf"] != tt.cf {
				t.Fatalf("fiscal code = %q, want %q", got["cf"], tt.cf)
			}
		})
	}
	if got := login(t, srv, "mario-rossi-cie"); got["given"] != "MARIO" || got["family"] != "ROSSI" {
		t.Errorf("names = %q %q, want MARIO ROSSI", got["given"], got["family"])
	}
}

func TestRefusalsWrapCredentialRejected(t *testing.T) {
	ps := startPKI(t, nil)
	v := validator(t, policy(t, ps, nil))
	for _, name := range []string{"expired", "unknown-ca", "revoked-crl", "wrong-policy", "invalid-fiscal-code"} {
		_, err := v.Validate(context.Background(), leaf(t, name))
		var ue *providers.UserError
		if !errors.Is(err, providers.ErrCredentialRejected) || !errors.As(err, &ue) {
			t.Errorf("%s: %v does not wrap ErrCredentialRejected in a UserError", name, err)
		}
	}
}

func TestCardTypesDoNotTrustEachOther(t *testing.T) {
	ps := startPKI(t, nil)
	p := policy(t, ps, nil)
	p.Anchors, p.RequiredPolicies = certs(t, "cie-root"), []string{x509auth.PolicyCIE}
	cie := validator(t, p)
	if _, err := cie.Validate(context.Background(), leaf(t, "giuseppe-verdi-cns")); x509auth.Reason(err) != x509auth.ReasonUnknownCA {
		t.Errorf("CIE validator on a CNS card: %v, want %s", err, x509auth.ReasonUnknownCA)
	}
	p = policy(t, ps, nil)
	p.RequiredPolicies = []string{x509auth.PolicyCNS}
	cns := validator(t, p)
	if _, err := cns.Validate(context.Background(), leaf(t, "mario-rossi-cie")); x509auth.Reason(err) != x509auth.ReasonWrongPolicy {
		t.Errorf("CNS-policy validator on a CIE card: %v, want %s", err, x509auth.ReasonWrongPolicy)
	}
}

func TestPresentedIntermediateIsUsedWhenNotConfigured(t *testing.T) {
	ps := startPKI(t, nil)
	p := policy(t, ps, nil)
	p.Intermediates = nil
	v := validator(t, p)
	if _, err := v.Validate(context.Background(), leaf(t, "mario-rossi-cie")); x509auth.Reason(err) != x509auth.ReasonUnknownCA {
		t.Fatalf("without the intermediate: %v, want %s", err, x509auth.ReasonUnknownCA)
	}
	res, err := v.Validate(context.Background(), certs(t, "mario-rossi-cie", "cie-sub"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Chain) != 3 || res.Serial == "" || res.Issuer == "" {
		t.Errorf("result chain %d, serial %q, issuer %q", len(res.Chain), res.Serial, res.Issuer)
	}
}

func TestAnchorsLoadFromDirectory(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"cie-root.crt", "cns-ca.crt"} {
		if err := writeFile(filepath.Join(dir, n), readPEM(t, n)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := x509auth.LoadCertificates([]string{dir})
	if err != nil || len(got) != 2 {
		t.Fatalf("LoadCertificates(dir) = %d certs, %v", len(got), err)
	}
	if _, err := x509auth.LoadCertificates([]string{t.TempDir()}); err == nil {
		t.Error("empty directory accepted as trust anchors")
	}
}
