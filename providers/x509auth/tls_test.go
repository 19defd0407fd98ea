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
	"slices"
	"strings"
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
	if name == "" {
		return loginWith(t, srv, nil)
	}
	kp := keyPair(t, name)
	return loginWith(t, srv, &kp)
}

// loginWith performs a fresh TLS handshake presenting kp (nil for none).
func loginWith(t testing.TB, srv *httptest.Server, kp *tls.Certificate) map[string]string {
	t.Helper()
	roots := x509.NewCertPool()
	roots.AddCert(certs(t, "server-ca")[0])
	cfg := &tls.Config{RootCAs: roots}
	if kp != nil {
		cfg.Certificates = []tls.Certificate{*kp}
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

// A card sends its leaf; what a client sends after it is no evidence: the chain is built from
// the configured intermediates only.
func TestPresentedIntermediatesAreNotEvidence(t *testing.T) {
	ps := startPKI(t, nil)
	p := policy(t, ps, nil)
	p.Intermediates = nil
	v := validator(t, p)
	for _, tt := range []struct{ rule, chain string }{
		{"the leaf alone, its intermediate not configured", "mario-rossi-cie"},
		{"the leaf with the genuine intermediate the client sent", "mario-rossi-cie cie-sub"},
	} {
		t.Run(tt.rule, func(t *testing.T) {
			_, err := v.Validate(context.Background(), certs(t, strings.Fields(tt.chain)...))
			var unknown x509.UnknownAuthorityError
			if x509auth.Reason(err) != x509auth.ReasonUnknownCA || !errors.As(err, &unknown) {
				t.Fatalf("%s: %v, want %s from x509.UnknownAuthorityError", tt.chain, err, x509auth.ReasonUnknownCA)
			}
		})
	}
	t.Run("with the intermediate configured, extra certificates the client sends are ignored", func(t *testing.T) {
		v := validator(t, policy(t, ps, nil))
		res, err := v.Validate(context.Background(), certs(t, "mario-rossi-cie", "unknown-ca", "cns-ca"))
		if err != nil {
			t.Fatal(err)
		}
		want := []string{certs(t, "mario-rossi-cie")[0].Subject.String(), certs(t, "cie-sub")[0].Subject.String(), certs(t, "cie-root")[0].Subject.String()}
		var got []string
		for _, c := range res.Chain {
			got = append(got, c.Subject.String())
		}
		if !slices.Equal(got, want) || res.Serial == "" || res.Issuer == "" {
			t.Errorf("result chain %q, serial %q, issuer %q; want chain %q", got, res.Serial, res.Issuer, want)
		}
	})
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
