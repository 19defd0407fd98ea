package spid

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/inps/sportello/providers/saml/samlx"
)

func TestDevCertificateAtTheDefaultAddressIsTheCommittedOne(t *testing.T) {
	c := DevConfig("http://127.0.0.1:8080", "../../testdata/spid")
	dir := t.TempDir()
	if gen, err := UseDevCertificate(c, DefaultDevEntityID, dir, nil); err != nil || gen {
		t.Fatalf("generated %v, %v", gen, err)
	}
	if c.CertFile != "../../testdata/spid/sp-dev.crt" {
		t.Fatalf("cert %s", c.CertFile)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("wrote %v", entries)
	}
}

// TestDevCertificateElsewhereNamesTheEntityIDInUse: dev mode on another address gets a
// SPID-shaped certificate whose uri is its entityID, kept in the data directory per entityID
// and reused on restart.
func TestDevCertificateElsewhereNamesTheEntityIDInUse(t *testing.T) {
	dir := t.TempDir()
	const entityID = "http://127.0.0.1:9999/spid/metadata"
	load := func(entityID string) (*Config, *samlx.KeyPair) {
		t.Helper()
		c := DevConfig("http://127.0.0.1:9999", "../../testdata/spid")
		gen, err := UseDevCertificate(c, entityID, dir, func() time.Time { return t0 })
		if err != nil || !gen {
			t.Fatalf("generated %v, %v", gen, err)
		}
		if filepath.Dir(c.CertFile) != filepath.Join(dir, "spid") || filepath.Dir(c.KeyFile) != filepath.Join(dir, "spid") {
			t.Fatalf("files %s %s", c.KeyFile, c.CertFile)
		}
		kp, err := samlx.LoadKeyPair(c.KeyFile, c.CertFile)
		if err != nil {
			t.Fatal(err)
		}
		return c, kp
	}
	c, kp := load(entityID)
	checkAgIDCertificate(t, kp.Cert, entityID)
	if st, err := os.Stat(c.KeyFile); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", st.Mode(), err)
	}
	if _, again := load(entityID); !bytes.Equal(again.Cert.Raw, kp.Cert.Raw) {
		t.Fatal("not reused on restart")
	}
	other, okp := load("http://127.0.0.1:9998/spid/metadata")
	if other.CertFile == c.CertFile || certURI(okp) != "http://127.0.0.1:9998/spid/metadata" {
		t.Fatalf("another entityID shares %s", other.CertFile)
	}
	// A damaged pair (a crash between the two writes) is made again.
	if err := os.WriteFile(c.CertFile, samlx.EncodeCertPEM(okp.Cert), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, fixed := load(entityID); certURI(fixed) != entityID || bytes.Equal(fixed.Cert.Raw, kp.Cert.Raw) {
		t.Fatal("damaged pair not regenerated")
	}
}
