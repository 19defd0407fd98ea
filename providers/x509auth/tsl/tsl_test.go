package tsl_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inps/sportello/providers/x509auth"
	"github.com/inps/sportello/providers/x509auth/tsl"
)

const dir = "../../../testdata/pki"

func read(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestSignedListYieldsGrantedAndRecognisedIdVServices(t *testing.T) {
	s, err := x509auth.LoadCertificates([]string{filepath.Join(dir, "tsl/tsl-signer.crt")})
	if err != nil {
		t.Fatal(err)
	}
	list, err := tsl.ParseVerified(read(t, "tsl/IT-TL-dev.xml"), s[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	if list.Territory != "IT" || len(list.Services) != 4 {
		t.Fatalf("list = %+v", list)
	}
	want, _ := x509auth.LoadCertificates([]string{filepath.Join(dir, "cie-root.crt"), filepath.Join(dir, "cns-ca.crt")})
	got := list.Anchors()
	if len(got) != 2 || !got[0].Equal(want[0]) || !got[1].Equal(want[1]) {
		t.Fatalf("anchors = %d certificates, want the dev CIE root and the dev CNS CA", len(got))
	}
}

func TestTamperedListIsRefused(t *testing.T) {
	s, _ := x509auth.LoadCertificates([]string{filepath.Join(dir, "tsl/tsl-signer.crt")})
	_, err := tsl.ParseVerified(read(t, "tsl/IT-TL-dev-tampered.xml"), s[0], nil)
	if !errors.Is(err, tsl.ErrSignature) {
		t.Fatalf("tampered list: %v, want ErrSignature", err)
	}
	// Unverified, the tampered list would add the withdrawn CA: the signature is what stops it.
	list, err := tsl.Parse(read(t, "tsl/IT-TL-dev-tampered.xml"))
	if err != nil || len(list.Anchors()) != 3 {
		t.Fatalf("tampered list unverified: %v, %d anchors", err, len(list.Anchors()))
	}
}

func TestListSignedBySomeoneElseIsRefused(t *testing.T) {
	other, _ := x509auth.LoadCertificates([]string{filepath.Join(dir, "cns-ca.crt")})
	if _, err := tsl.ParseVerified(read(t, "tsl/IT-TL-dev.xml"), other[0], nil); !errors.Is(err, tsl.ErrSignature) {
		t.Fatalf("wrong signer: %v, want ErrSignature", err)
	}
}

func TestCLI(t *testing.T) {
	tmp := t.TempDir()
	out := filepath.Join(tmp, "bundle.pem")
	signerFile := filepath.Join(dir, "tsl/tsl-signer.crt")
	tests := []struct {
		rule string
		args []string
		code int
		err  string
	}{
		{"signed list imported with --signer", []string{"import-tsl", filepath.Join(dir, "tsl/IT-TL-dev.xml"), "--out", out, "--signer", signerFile}, 0, ""},
		{"flags may precede the file", []string{"import-tsl", "--out", out, "--signer", signerFile, filepath.Join(dir, "tsl/IT-TL-dev.xml")}, 0, ""},
		{"tampered list refused", []string{"import-tsl", filepath.Join(dir, "tsl/IT-TL-dev-tampered.xml"), "--out", filepath.Join(tmp, "x.pem"), "--signer", signerFile}, 1, "signature"},
		{"without --signer a warning is printed", []string{"import-tsl", filepath.Join(dir, "tsl/IT-TL-dev.xml"), "--out", filepath.Join(tmp, "y.pem")}, 0, "NOT verified"},
		{"--out is required", []string{"import-tsl", filepath.Join(dir, "tsl/IT-TL-dev.xml")}, 2, "Usage"},
		{"unknown subcommand", []string{"export"}, 2, "Usage"},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := tsl.CLI(context.Background(), tt.args, &stdout, &stderr)
			if code != tt.code || !strings.Contains(stderr.String(), tt.err) {
				t.Fatalf("exit %d, stderr %q; want %d containing %q", code, stderr.String(), tt.code, tt.err)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(tmp, "x.pem")); err == nil {
		t.Error("a bundle was written from a tampered list")
	}
	anchors, err := x509auth.LoadCertificates([]string{out})
	if err != nil || len(anchors) != 2 {
		t.Fatalf("bundle: %d anchors, %v", len(anchors), err)
	}
	// The bundle is usable as trust_anchors.
	if _, err := x509auth.NewValidator(x509auth.Policy{Anchors: anchors, RequiredPolicies: []string{x509auth.PolicyCNS}}); err != nil {
		t.Fatal(err)
	}
}
