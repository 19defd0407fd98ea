package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// "sportello keys rotate --data DIR" promotes next to active in dev mode's key files.
func TestKeysRotateCommand(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"keys", "rotate", "--data", dir}, &out, &errb); code != 0 {
		t.Fatalf("first rotation exited %d: %s", code, errb.String())
	}
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, "keys", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	next := read("es256-next.pem")
	out.Reset()
	if code := run(context.Background(), []string{"keys", "rotate", "--data", dir}, &out, &errb); code != 0 {
		t.Fatalf("second rotation exited %d: %s", code, errb.String())
	}
	if !bytes.Equal(read("es256-active.pem"), next) {
		t.Fatal("the next key did not become active")
	}
	if !strings.Contains(out.String(), "retired") {
		t.Fatalf("no retired key listed:\n%s", out.String())
	}
	// An operator action: audited (dev mode has no audit file: standard error), key ids only.
	if a := errb.String(); !strings.Contains(a, `"type":"keys.rotated"`) || !strings.Contains(a, `"active":[`) || strings.Contains(a, "PRIVATE KEY") {
		t.Fatalf("rotation not audited:\n%s", a)
	}
	if code := run(context.Background(), []string{"keys", "rotate"}, &out, &errb); code != 2 {
		t.Fatalf("missing flags exited %d, want 2", code)
	}
}
