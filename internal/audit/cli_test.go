package audit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCLIVerify(t *testing.T) {
	path, key := writeTrail(t, 20)
	keyFile := filepath.Join(t.TempDir(), "audit.key")
	if err := WriteKeyPair(keyFile, key, key.Public().(ed25519.PublicKey)); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := CLI(context.Background(), args, &out, &errb)
		return code, out.String() + errb.String()
	}
	if code, out := run("verify", path, "--key", keyFile+".pub"); code != 0 || !strings.Contains(out, "OK: 24 records") || !strings.Contains(out, "4 checkpoints verified") {
		t.Fatalf("clean trail: %d %s", code, out)
	}
	lines := readLines(t, path)
	lines[2], lines[3] = lines[3], lines[2]
	writeLines(t, path, lines)
	if code, out := run("verify", "--key="+keyFile+".pub", path); code != 1 || !strings.Contains(out, "TAMPERED: "+path+" line 3 (seq 4)") {
		t.Fatalf("tampered trail: %d %s", code, out)
	}
	if code, out := run("verify", path); code != 1 || !strings.Contains(out, "NOT checked") {
		t.Fatalf("without key: %d %s", code, out)
	}
	if code, _ := run("verify"); code != 2 {
		t.Fatalf("no files: %d", code)
	}
	gen := filepath.Join(t.TempDir(), "k")
	if code, out := run("keygen", "--out", gen); code != 0 || !strings.Contains(out, "key id") {
		t.Fatalf("keygen: %d %s", code, out)
	}
	if _, err := os.Stat(gen + ".pub"); err != nil {
		t.Fatal(err)
	}
}
