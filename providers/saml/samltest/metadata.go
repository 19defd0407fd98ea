package samltest

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Golden compares got with the golden file testdata/golden/name of the package under test,
// writing it first when update is set (the tests' -update flag).
func Golden(t testing.TB, name string, got []byte, update bool) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from the golden file (run with -update to accept):\n%s", name, got)
	}
}

// Xmlsec1VerifiesMetadata checks the signed SP metadata md with xmlsec1 (an implementation
// other than ours) against the certificate certFile, and that the same check fails once
// tamper has changed a signed value, or it would prove nothing. Without xmlsec1 it skips,
// except in CI (CI=true), where it fails.
func Xmlsec1VerifiesMetadata(t testing.TB, md []byte, certFile string, tamper func([]byte) []byte) {
	t.Helper()
	bin, err := exec.LookPath("xmlsec1")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("xmlsec1 is required in CI (apt-get install xmlsec1)")
		}
		t.Skip("xmlsec1 not installed")
	}
	verify := func(doc []byte) error {
		f := filepath.Join(t.TempDir(), "md.xml")
		if err := os.WriteFile(f, doc, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(bin, "--verify", "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor",
			"--pubkey-cert-pem", certFile, "--enabled-key-data", "key-name", f).CombinedOutput()
		if err != nil {
			return errors.New(string(out))
		}
		return nil
	}
	if err := verify(md); err != nil {
		t.Fatalf("xmlsec1 refused the metadata: %v", err)
	}
	bad := tamper(bytes.Clone(md))
	if bytes.Equal(bad, md) {
		t.Fatal("the tampered copy is the metadata itself")
	}
	if verify(bad) == nil {
		t.Fatal("xmlsec1 accepted tampered metadata")
	}
}
