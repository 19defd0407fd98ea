package card_test

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/inps/sportello/internal/audit"
	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/card"
	"github.com/inps/sportello/providers/x509auth"
	"github.com/inps/sportello/providers/x509auth/devca"
)

const pki = "../../testdata/pki"

func node(t *testing.T, src string) *yaml.Node {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		t.Fatal(err)
	}
	return n.Content[0]
}

const devSection = `
type: cie
trust_anchors: [../../testdata/pki/cie-root.crt]
intermediates: [../../testdata/pki/cie-sub.crt]
`

func newProvider(t *testing.T, src string) (*card.Provider, *audit.Recorder) {
	t.Helper()
	h, err := devca.New(pki, devca.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.StripPrefix("/dev/pki", h))
	t.Cleanup(srv.Close)
	cfg, errs := card.DecodeCIE(node(t, src), false)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	rec := &audit.Recorder{}
	p, err := card.NewCIE(cfg, card.Deps{Auditor: rec,
		URLRewrite: map[string]string{"http://127.0.0.1:8080/dev/pki/": srv.URL + "/dev/pki/"}})
	if err != nil {
		t.Fatal(err)
	}
	return p, rec
}

func chain(t *testing.T, name string) []*x509.Certificate {
	t.Helper()
	c, err := x509auth.LoadCertificates([]string{filepath.Join(pki, name+".crt")})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCIELoginIdentity(t *testing.T) {
	p, rec := newProvider(t, devSection)
	info := p.Info()
	if info.ID != "cie" || info.Method != providers.MethodCIE || info.MaxACR != loa.SpidL3 || info.Name["it"] == "" || info.Name["en"] == "" {
		t.Errorf("Info = %+v", info)
	}
	id, err := p.AuthenticateCertificate(context.Background(), chain(t, "mario-rossi-cie"))
	if err != nil {
		t.Fatal(err)
	}
	if err := id.Validate(); err != nil {
		t.Fatal(err)
	}
	if id.FiscalNumber != "RSSMRA80A01H501U" || id.GivenName != "MARIO" || id.FamilyName != "ROSSI" ||
		id.Method != "cie" || id.CIEChannel != "certificate" || id.ACR != loa.SpidL3 || !slices.Equal(id.AMR, []string{"sc", "pin", "hwk", "mfa"}) {
		t.Errorf("identity = %+v", id)
	}
	// The CAs of the verified chain, issuer first, by the SHA-256 of each certificate: the ids
	// of the console's CA entries, whose switches the broker checks.
	var want []string
	for _, ca := range []string{"cie-sub", "cie-root"} {
		sum := sha256.Sum256(chain(t, ca)[0].Raw)
		want = append(want, hex.EncodeToString(sum[:]))
	}
	if !slices.Equal(id.CertAuthorities, want) {
		t.Errorf("cert authorities = %v, want cie-sub then cie-root %v", id.CertAuthorities, want)
	}
	events := rec.Events()
	if len(events) != 1 || events[0].Type != x509auth.AuditLogin || events[0].Actor != id.FiscalNumber ||
		events[0].Fields["serial"] == "" || events[0].Fields["issuer"] == "" {
		t.Errorf("audit = %+v", events)
	}
	for _, ev := range events {
		for k, v := range ev.Fields {
			if s, ok := v.(string); ok && strings.Contains(s, "BEGIN CERTIFICATE") {
				t.Errorf("audit field %s holds a whole certificate", k)
			}
		}
	}
}

func TestCIEProviderRefusesACNSCard(t *testing.T) {
	p, rec := newProvider(t, devSection)
	_, err := p.AuthenticateCertificate(context.Background(), chain(t, "giuseppe-verdi-cns"))
	if x509auth.Reason(err) != x509auth.ReasonUnknownCA {
		t.Fatalf("err = %v, want %s", err, x509auth.ReasonUnknownCA)
	}
	if events := rec.Events(); len(events) != 1 || events[0].Type != x509auth.AuditRejected || events[0].Fields["reason"] != x509auth.ReasonUnknownCA {
		t.Errorf("audit = %+v", events)
	}
}

func TestACRFromConfig(t *testing.T) {
	p, _ := newProvider(t, devSection+"acr: https://www.spid.gov.it/SpidL2\n")
	if p.Info().MaxACR != loa.SpidL2 {
		t.Errorf("MaxACR = %s", p.Info().MaxACR)
	}
	id, err := p.AuthenticateCertificate(context.Background(), chain(t, "mario-rossi-cie"))
	if err != nil || id.ACR != loa.SpidL2 {
		t.Fatalf("identity %+v, %v", id, err)
	}
}

func TestConfigErrorsCarryTheirPath(t *testing.T) {
	tests := []struct {
		rule, src, path string
		dev             bool
	}{
		{"unknown keys are refused", devSection + "colour: blue\n", "providers.cie.colour", false},
		{"trust anchors are required", "type: cie\n", "providers.cie.trust_anchors", false},
		{"a missing anchor file is reported", "trust_anchors: [/nonexistent.pem]\n", "providers.cie.trust_anchors[0]", false},
		{"acr must be a SPID level", devSection + "acr: gold\n", "providers.cie.acr", false},
		{"policies must be OIDs", devSection + "policies: [not-an-oid]\n", "providers.cie.policies[0]", false},
		{"revocation off only in dev mode", devSection + "revocation: {crl: false, ocsp: false}\n", "providers.cie.revocation", false},
		{"on_unreachable is fail or allow", devSection + "revocation: {on_unreachable: maybe}\n", "providers.cie.revocation.on_unreachable", false},
		{"fetch_timeout is a duration", devSection + "revocation: {fetch_timeout: soon}\n", "providers.cie.revocation.fetch_timeout", false},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			_, errs := card.DecodeCIE(node(t, tt.src), tt.dev)
			found := false
			for _, e := range errs {
				found = found || strings.HasPrefix(e.Error(), tt.path+":")
			}
			if !found {
				t.Errorf("errors %v, want one at %s", errs, tt.path)
			}
		})
	}
	if _, errs := card.DecodeCIE(node(t, devSection+"revocation: {crl: false, ocsp: false}\n"), true); len(errs) > 0 {
		t.Errorf("dev mode may switch revocation off: %v", errs)
	}
}
