package spid

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inps/sportello/providers/saml/samlx"
)

func TestCLICertWritesASPIDShapedPairAndRefusesToOverwrite(t *testing.T) {
	dir := t.TempDir()
	key, crt := filepath.Join(dir, "sp.key"), filepath.Join(dir, "sp.crt")
	args := []string{"cert", "--entity-id", "https://login.inps.example/spid/metadata", "--ipa-code", "inps",
		"--org", "INPS", "--locality", "Roma", "--bits", "2048", "--out-key", key, "--out-cert", crt}
	var out, errb bytes.Buffer
	if code := CLI(context.Background(), args, &out, &errb, nil); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	kp, err := samlx.LoadKeyPair(key, crt)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, n := range kp.Cert.Subject.Names {
		found = found || n.Value == "PA:IT-inps"
	}
	if !found {
		t.Fatalf("subject %s", kp.Cert.Subject)
	}
	if st, _ := os.Stat(key); st.Mode().Perm() != 0o600 {
		t.Fatalf("key mode %v", st.Mode())
	}
	if code := CLI(context.Background(), args, &out, &errb, nil); code == 0 {
		t.Fatal("overwrote an existing key without --force")
	}
}

func TestCLIMetadataPrintsSignedMetadata(t *testing.T) {
	load := func(string) (*Config, string, error) { return testConfig(fixedBase), fixedBase, nil }
	var out, errb bytes.Buffer
	if code := CLI(context.Background(), []string{"metadata", "--config", "x.yaml"}, &out, &errb, load); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), `entityID="`+fixedBase+`/spid/metadata"`) || !strings.Contains(out.String(), "ds:SignatureValue") {
		t.Fatalf("%s", out.String())
	}
	if code := CLI(context.Background(), []string{"metadata"}, &out, &errb, load); code != 2 {
		t.Fatalf("missing --config: exit %d", code)
	}
	if code := CLI(context.Background(), []string{"bogus"}, &out, &errb, load); code != 2 {
		t.Fatalf("unknown command: exit %d", code)
	}
}
