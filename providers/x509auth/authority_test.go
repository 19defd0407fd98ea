package x509auth_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/inps/sportello/broker/audit"
	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/x509auth"
)

// hostile are the certificates of the outside testers' report (issue 12, item 5), minted with
// the dev CNS CA's key. That CA has no path-length limit, so a card certificate that is itself
// an authority could sign a leaf in anybody's name and x509.Verify would build
// leaf → card → anchor from what the client sends.
type hostile struct {
	// plain is Giuseppe Verdi's card certificate issued again: the control, accepted.
	plain *x509.Certificate
	// ca is his card certificate with basicConstraints CA:TRUE (and keyCertSign, as a CA has).
	ca *x509.Certificate
	// certSign has keyCertSign without CA:TRUE, crlSign cRLSign.
	certSign, crlSign *x509.Certificate
	// victim names Mario Rossi and was signed by the ca card: no CA issued it.
	victim *x509.Certificate
	keys   map[*x509.Certificate]crypto.Signer
}

func mintHostile(t testing.TB) *hostile {
	t.Helper()
	ca, caKey := devCA(t, "cns-ca")
	if ca.MaxPathLen >= 0 {
		t.Fatalf("cns-ca has pathlen %d: these tests need an anchor without a path-length limit", ca.MaxPathLen)
	}
	genuine := certs(t, "giuseppe-verdi-cns")[0]
	h := &hostile{keys: map[*x509.Certificate]crypto.Signer{}}
	mint := func(issuer *x509.Certificate, issuerKey crypto.Signer, edit func(*x509.Certificate)) *x509.Certificate {
		c, key := issueBy(t, issuer, issuerKey, genuine, edit)
		h.keys[c] = key
		return c
	}
	h.plain = mint(ca, caKey, nil)
	h.ca = mint(ca, caKey, func(c *x509.Certificate) {
		c.BasicConstraintsValid, c.IsCA = true, true
		c.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign
	})
	h.certSign = mint(ca, caKey, func(c *x509.Certificate) {
		c.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign
	})
	h.crlSign = mint(ca, caKey, func(c *x509.Certificate) {
		c.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign
	})
	h.victim = mint(h.ca, h.keys[h.ca], func(c *x509.Certificate) {
		c.RawSubject = nil
		c.Subject = pkix.Name{Country: []string{"IT"}, Organization: []string{"Regione Lombardia"},
			CommonName: "RSSMRA80A01H501U/7420070100000002.bm90IGEgcmVhbCBjYXJk"}
		// No revocation URLs: with on_unreachable allow nothing else would stop it.
		c.CRLDistributionPoints, c.OCSPServer = nil, nil
	})
	return h
}

// pair is what a TLS client presents: chain, leaf first, with the leaf's key.
func (h *hostile) pair(chain ...*x509.Certificate) *tls.Certificate {
	kp := tlsPair(h.keys[chain[0]], chain...)
	return &kp
}

// permissive is the policy under which the attack worked: both card PKIs, revocation on but
// accepting an unknown status.
func permissive(t testing.TB, ps *pkiServer) x509auth.Policy {
	p := policy(t, ps, nil)
	p.Revocation.OnUnreachable = x509auth.OnUnreachableAllow
	return p
}

func TestAuthorityCertificatesAreNoCardsOverRealTLS(t *testing.T) {
	ps := startPKI(t, nil)
	h := mintHostile(t)
	srv := mtlsServer(t, validator(t, permissive(t, ps)))
	tests := []struct {
		rule   string
		kp     *tls.Certificate
		reason string
		cf     string
	}{
		{"the same card certificate without authority bits logs in", h.pair(h.plain), "", "VRDGPP40C15L219U"},
		{"a card certificate with basicConstraints CA:TRUE is refused", h.pair(h.ca), x509auth.ReasonCACertificate, ""},
		{"a card certificate with keyCertSign is refused", h.pair(h.certSign), x509auth.ReasonCertSign, ""},
		{"a card certificate with cRLSign is refused", h.pair(h.crlSign), x509auth.ReasonCertSign, ""},
		{"a leaf a card signed for another person is refused, the card sent after it", h.pair(h.victim, h.ca), x509auth.ReasonUnknownCA, ""},
		{"a leaf a card signed for another person is refused, sent alone", h.pair(h.victim), x509auth.ReasonUnknownCA, ""},
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
	h := mintHostile(t)
	v := validator(t, permissive(t, ps))
	for _, chain := range [][]*x509.Certificate{{h.victim, h.ca}, {h.victim, h.ca, certs(t, "cns-ca")[0]}} {
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
	h := mintHostile(t)
	rec := &audit.Recorder{}
	a, err := x509auth.NewAuthenticator(x509auth.Authenticator{
		ProviderInfo: providers.Info{ID: "cns", Method: providers.MethodCNS, MaxACR: providers.SpidL3},
		ACR:          providers.SpidL3, Validator: validator(t, permissive(t, ps)), Auditor: rec,
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
		{"a leaf a card signed, with the card after it", escapedPEM(h.victim, h.ca), x509auth.ReasonUnknownCA, ""},
		{"a leaf a card signed, with the card and the anchor after it", escapedPEM(h.victim, h.ca, certs(t, "cns-ca")[0]), x509auth.ReasonUnknownCA, ""},
		{"a CA:TRUE card certificate", escapedPEM(h.ca, certs(t, "cns-ca")[0]), x509auth.ReasonCACertificate, ""},
		{"a keyCertSign card certificate", escapedPEM(h.certSign), x509auth.ReasonCertSign, ""},
		{"a genuine card with an unrelated certificate after it", escapedPEM(certs(t, "giuseppe-verdi-cns", "unknown-ca")...), "", "VRDGPP40C15L219U"},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			chain, err := x509auth.ParseEscapedPEM(tt.header)
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
	h := mintHostile(t)
	var log bytes.Buffer
	a, err := x509auth.NewAuthenticator(x509auth.Authenticator{
		ProviderInfo: providers.Info{ID: "cns", Method: providers.MethodCNS, MaxACR: providers.SpidL3},
		ACR:          providers.SpidL3, Validator: validator(t, permissive(t, ps)), Auditor: &audit.Recorder{},
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
		{"a certificate that signs certificates", []*x509.Certificate{h.certSign}, "key usage digitalSignature|keyCertSign includes keyCertSign"},
		{"a CA certificate", []*x509.Certificate{h.ca}, "basicConstraints CA:TRUE (key usage digitalSignature|keyCertSign)"},
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
