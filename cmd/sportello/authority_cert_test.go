package main

import (
	"crypto/x509"
	"encoding/json"
	"html"
	"io"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/inps/sportello/internal/store/storetest"
	"github.com/inps/sportello/providers/x509auth"
	"github.com/inps/sportello/providers/x509auth/cardtest"
)

// Authority certificates presented as cards (cardtest's hostile certificates) against the real dev
// listener and the dev CNS CA, which has no path-length limit: each is refused with the page of its
// own reason, and the audit trail records that reason for its serial.
func TestDevModeRefusesAuthorityCertificatesAsCards(t *testing.T) {
	out := &storetest.Buffer{}
	issuer, _ := devBrokerLogging(t, out)
	h := cardtest.MintHostile(t, "../../testdata/pki")
	dir := t.TempDir()
	msgs := x509auth.Messages()
	for _, tt := range []struct {
		rule, file string
		chain      []*x509.Certificate
		reason     string
	}{
		{"a card certificate with basicConstraints CA:TRUE", "ca-true", []*x509.Certificate{h.CA}, x509auth.ReasonCACertificate},
		{"a card certificate with keyCertSign", "cert-sign", []*x509.Certificate{h.CertSign}, x509auth.ReasonCertSign},
		{"a leaf a card signed for another person, the card sent after it", "card-signed", []*x509.Certificate{h.Victim, h.CA}, x509auth.ReasonUnknownCA},
	} {
		t.Run(tt.rule, func(t *testing.T) {
			if msgs[tt.reason]["it"] == "" {
				t.Fatalf("no message for %s", tt.reason)
			}
			certFile, keyFile := h.Files(t, dir, tt.file, tt.chain...)
			resp, err := client(t, certFile, keyFile).Get(authURL(issuer, "cns", "", oauth2.GenerateVerifier()))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode < 400 || resp.Header.Get("Location") != "" || !strings.Contains(html.UnescapeString(string(body)), msgs[tt.reason]["it"]) {
				t.Fatalf("want the %s page, got %d %s:\n%.2000s", tt.reason, resp.StatusCode, resp.Header.Get("Location"), body)
			}
			serial := tt.chain[0].SerialNumber.Text(16)
			if got := auditedReason(out.String(), serial); got != tt.reason {
				t.Fatalf("audit trail: reason %q for serial %s, want %q", got, serial, tt.reason)
			}
		})
	}
}

// auditedReason finds the cert.rejected record of serial in the dev output and returns its
// reason.
func auditedReason(output, serial string) string {
	for _, line := range strings.Split(output, "\n") {
		i := strings.Index(line, "{")
		if i < 0 || !strings.Contains(line, x509auth.AuditRejected) || !strings.Contains(line, serial) {
			continue
		}
		var rec struct {
			Type   string         `json:"type"`
			Fields map[string]any `json:"fields"`
		}
		if json.Unmarshal([]byte(line[i:]), &rec) == nil && rec.Type == x509auth.AuditRejected {
			r, _ := rec.Fields["reason"].(string)
			return r
		}
	}
	return ""
}
