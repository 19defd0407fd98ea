package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The shipped config/example.yaml passes "sportello check-config" with the real provider
// validators (spid, cie, cns, pin), deployed beside the fake files of config/testdata/example.
func TestExampleConfigPassesCheckConfig(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../../config/testdata/example")); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("../../config/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "sportello.yaml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SPORTELLO_CRYPTO_KEY", strings.Repeat("ab", 32))
	t.Setenv("SPORTELLO_PENSIONI_SECRET", "pensioni-secret-not-real-0123456789")
	for _, k := range []string{"SPORTELLO_ISSUER", "SPORTELLO_HTTP_ADDR", "SPORTELLO_MTLS_ADDR", "SPORTELLO_REDIS_URL", "SPORTELLO_STORE", "SPORTELLO_KEYS_DIR", "SPORTELLO_AUDIT_FILE"} {
		t.Setenv(k, "")
	}
	var out, errb bytes.Buffer
	// --offline: the example names the SPID registry, which the tests cannot reach.
	if code := run(context.Background(), []string{"check-config", "--offline", path}, &out, &errb); code != 0 {
		t.Fatalf("check-config of the example exited %d:\n%s", code, errb.String())
	}
	// And a broken copy is refused with the path of the mistake.
	bad := strings.Replace(string(data), "trust_anchors: [pki/cie-root.pem]", "trust_anchors: [pki/missing.pem]", 1)
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	errb.Reset()
	if code := run(context.Background(), []string{"check-config", "--offline", path}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "providers.cie") {
		t.Fatalf("a missing trust anchor: exit %d\n%s", code, errb.String())
	}
}
