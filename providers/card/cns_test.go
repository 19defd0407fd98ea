package card_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/inps/sportello/internal/audit"
	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/card"
	"github.com/inps/sportello/providers/x509auth"
	"github.com/inps/sportello/providers/x509auth/devca"
)

type discard struct{}

func (discard) Audit(context.Context, audit.Event) error { return nil }

const devSectionCNS = `
type: cns
trust_anchors: [../../testdata/pki/cns-ca.crt]
`

func newCNS(t *testing.T, src string) *card.Provider {
	t.Helper()
	h, err := devca.New(pki, devca.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.StripPrefix("/dev/pki", h))
	t.Cleanup(srv.Close)
	cfg, errs := card.DecodeCNS(node(t, src), false)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	p, err := card.NewCNS(cfg, card.Deps{Auditor: discard{},
		URLRewrite: map[string]string{"http://127.0.0.1:8080/dev/pki/": srv.URL + "/dev/pki/"}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCNSLogins(t *testing.T) {
	p := newCNS(t, devSectionCNS)
	if info := p.Info(); info.Method != providers.MethodCNS || info.ID != "cns" || info.MaxACR != loa.SpidL3 {
		t.Errorf("Info = %+v", info)
	}
	tests := []struct{ rule, cert, cf, reason string }{
		{"CNS card accepted with the fiscal code before the first slash", "giuseppe-verdi-cns", "VRDGPP40C15L219U", ""},
		{"a slash inside the card hash does not move the split", "cns-hash-with-slash", "RCCMNL83S18D969H", ""},
		{"CIE card refused by the CNS provider", "mario-rossi-cie", "", x509auth.ReasonUnknownCA},
		{"revoked CNS card refused", "revoked-crl", "", x509auth.ReasonRevoked},
		{"wrong check letter refused", "invalid-fiscal-code", "", x509auth.ReasonInvalidFiscalCode},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			id, err := p.AuthenticateCertificate(context.Background(), chain(t, tt.cert))
			if x509auth.Reason(err) != tt.reason {
				t.Fatalf("err = %v, want reason %q", err, tt.reason)
			}
			if err == nil && (id.FiscalNumber != tt.cf || id.Method != "cns" || id.ACR != loa.SpidL3) {
				t.Errorf("identity = %+v", id)
			}
		})
	}
}

func TestEquivalentPoliciesAreAccepted(t *testing.T) {
	// wrong-policy carries 1.3.76.99.99.1 and chains to the dev CIE CA.
	src := `
trust_anchors: [../../testdata/pki/cie-root.crt]
intermediates: [../../testdata/pki/cie-sub.crt]
`
	p := newCNS(t, src)
	if _, err := p.AuthenticateCertificate(context.Background(), chain(t, "wrong-policy")); x509auth.Reason(err) != x509auth.ReasonWrongPolicy {
		t.Fatalf("without equivalents: %v", err)
	}
	p = newCNS(t, src+"equivalent_policies: [1.3.76.99.99.1]\n")
	if _, err := p.AuthenticateCertificate(context.Background(), chain(t, "wrong-policy")); err != nil {
		t.Fatalf("with the equivalent policy: %v", err)
	}
}

func TestEquivalentPoliciesMustBeOIDs(t *testing.T) {
	_, errs := card.DecodeCNS(node(t, devSectionCNS+"equivalent_policies: [x.y]\n"), false)
	if len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), "providers.cns.equivalent_policies[0]:") {
		t.Errorf("errors = %v", errs)
	}
}
