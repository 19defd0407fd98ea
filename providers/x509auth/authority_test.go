package x509auth_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/inps/sportello/internal/audit"
	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/x509auth"
	"github.com/inps/sportello/providers/x509auth/cardtest"
)

// permissive is the policy under which the attack worked: both card PKIs, revocation on but
// accepting an unknown status.
func permissive(t testing.TB, ps *pkiServer) x509auth.Policy {
	p := policy(t, ps, nil)
	p.Revocation.OnUnreachable = x509auth.OnUnreachableAllow
	return p
}

func TestAuthorityCertificatesAreNoCardsOverRealTLS(t *testing.T) {
	ps := startPKI(t, nil)
	h := cardtest.MintHostile(t, pkiDir)
	srv := mtlsServer(t, validator(t, permissive(t, ps)))
	tests := []struct {
		rule   string
		kp     *tls.Certificate
		reason string
		cf     string
	}{
		{"the same card certificate without authority bits logs in", h.TLS(h.Plain), "", "VRDGPP40C15L219U"},
		{"a card certificate with basicConstraints CA:TRUE is refused", h.TLS(h.CA), x509auth.ReasonCACertificate, ""},
		{"a card certificate with keyCertSign is refused", h.TLS(h.CertSign), x509auth.ReasonCertSign, ""},
		{"a card certificate with cRLSign is refused", h.TLS(h.CRLSign), x509auth.ReasonCertSign, ""},
		{"a leaf a card signed for another person is refused, the card sent after it", h.TLS(h.Victim, h.CA), x509auth.ReasonUnknownCA, ""},
		{"a leaf a card signed for another person is refused, sent alone", h.TLS(h.Victim), x509auth.ReasonUnknownCA, ""},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			got := loginWith(t, srv, tt.kp)
			if got["reason"] != tt.reason || got["cf"] != tt.cf {
				t.Fatalf("reason %q, fiscal code %q (%s); want %q, %q", got["reason"], got["cf"], got["error"], tt.reason, tt.cf)
			}
		})
	}
}

// The refusal of a card-signed leaf is the path building's own: no configured CA issued it.
func TestCardSignedLeafHasNoIssuer(t *testing.T) {
	ps := startPKI(t, nil)
	h := cardtest.MintHostile(t, pkiDir)
	v := validator(t, permissive(t, ps))
	for _, chain := range [][]*x509.Certificate{{h.Victim, h.CA}, {h.Victim, h.CA, h.Anchor}} {
		_, err := v.Validate(context.Background(), chain)
		var unknown x509.UnknownAuthorityError
		if x509auth.Reason(err) != x509auth.ReasonUnknownCA || !errors.As(err, &unknown) {
			t.Fatalf("chain of %d: %v, want %s from x509.UnknownAuthorityError", len(chain), err, x509auth.ReasonUnknownCA)
		}
	}
}

// Behind a reverse proxy (listen.client_cert_header) the header is a whole PEM chain: only its
// leaf counts there too, and the audit trail records the refusal with its reason.
func TestProxyHeaderCountsOnlyTheLeaf(t *testing.T) {
	ps := startPKI(t, nil)
	h := cardtest.MintHostile(t, pkiDir)
	rec := &audit.Recorder{}
	a, err := x509auth.NewAuthenticator(x509auth.Authenticator{
		ProviderInfo: providers.Info{ID: "cns", Method: providers.MethodCNS, MaxACR: loa.SpidL3},
		ACR:          loa.SpidL3, Validator: validator(t, permissive(t, ps)), Auditor: rec,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		rule   string
		header string
		reason string
		cf     string
	}{
		{"a leaf a card signed, with the card after it", cardtest.EscapedPEM(h.Victim, h.CA), x509auth.ReasonUnknownCA, ""},
		{"a leaf a card signed, with the card and the anchor after it", cardtest.EscapedPEM(h.Victim, h.CA, h.Anchor), x509auth.ReasonUnknownCA, ""},
		{"a CA:TRUE card certificate", cardtest.EscapedPEM(h.CA, h.Anchor), x509auth.ReasonCACertificate, ""},
		{"a keyCertSign card certificate", cardtest.EscapedPEM(h.CertSign), x509auth.ReasonCertSign, ""},
		{"a genuine card with an unrelated certificate after it", cardtest.EscapedPEM(certs(t, "giuseppe-verdi-cns", "unknown-ca")...), "", "VRDGPP40C15L219U"},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			chain, err := providers.ParseEscapedPEM(tt.header)
			if err != nil {
				t.Fatal(err)
			}
			id, err := a.AuthenticateCertificate(context.Background(), chain)
			if tt.reason == "" {
				if err != nil || id.FiscalNumber != tt.cf {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if x509auth.Reason(err) != tt.reason || !errors.Is(err, providers.ErrCredentialRejected) {
				t.Fatalf("%v, want %s", err, tt.reason)
			}
			ev := rec.Last(x509auth.AuditRejected)
			if ev == nil || ev.Fields["reason"] != tt.reason || ev.Fields["serial"] != chain[0].SerialNumber.Text(16) {
				t.Fatalf("audit record %+v, want reason %s for serial %s", ev, tt.reason, chain[0].SerialNumber.Text(16))
			}
		})
	}
}

// The refusal log names key usages as a certificate dump does, never as a bit mask.
func TestRefusalLogNamesTheUsages(t *testing.T) {
	ps := startPKI(t, nil)
	h := cardtest.MintHostile(t, pkiDir)
	var log bytes.Buffer
	a, err := x509auth.NewAuthenticator(x509auth.Authenticator{
		ProviderInfo: providers.Info{ID: "cns", Method: providers.MethodCNS, MaxACR: loa.SpidL3},
		ACR:          loa.SpidL3, Validator: validator(t, permissive(t, ps)), Auditor: &audit.Recorder{},
		Logger: slog.New(slog.NewTextHandler(&log, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	signature := issue(t, "cns-ca", certs(t, "giuseppe-verdi-cns")[0], func(c *x509.Certificate) {
		c.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment
	})
	tests := []struct {
		rule  string
		chain []*x509.Certificate
		want  string
	}{
		{"a signature certificate", signature, "key usage digitalSignature|nonRepudiation includes forbidden nonRepudiation"},
		{"a key-encipherment certificate", certs(t, "wrong-key-usage"), "key usage keyEncipherment lacks digitalSignature"},
		{"a certificate for e-mail", certs(t, "no-clientauth-eku"), "extended key usage emailProtection lacks clientAuth"},
		{"a certificate that signs certificates", []*x509.Certificate{h.CertSign}, "key usage digitalSignature|keyCertSign includes keyCertSign"},
		{"a CA certificate", []*x509.Certificate{h.CA}, "basicConstraints CA:TRUE (key usage digitalSignature|keyCertSign)"},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			log.Reset()
			if _, err := a.AuthenticateCertificate(context.Background(), tt.chain); err == nil {
				t.Fatal("accepted")
			}
			if line := log.String(); !strings.Contains(line, tt.want) || strings.Contains(line, "0x") {
				t.Fatalf("log %q, want it to say %q and no hexadecimal mask", line, tt.want)
			}
		})
	}
}
