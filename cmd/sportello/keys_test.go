package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// "sportello keys init --data DIR" creates dev mode's key files once; "keys rotate --data DIR"
// then promotes next to active. Both are audited, key ids only.
func TestKeysRotateCommand(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"keys", "init", "--data", dir}, &out, &errb); code != 0 {
		t.Fatalf("init exited %d: %s", code, errb.String())
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
		t.Fatalf("rotation exited %d: %s", code, errb.String())
	}
	if !bytes.Equal(read("es256-active.pem"), next) {
		t.Fatal("the next key did not become active")
	}
	if !strings.Contains(out.String(), "retired") {
		t.Fatalf("no retired key listed:\n%s", out.String())
	}
	// An operator action: audited (dev mode has no audit file: standard error), key ids only.
	a := errb.String()
	for _, typ := range []string{`"type":"keys.initialised"`, `"type":"keys.rotated"`} {
		if !strings.Contains(a, typ) || !strings.Contains(a, `"active":[`) || strings.Contains(a, "PRIVATE KEY") {
			t.Fatalf("%s not audited:\n%s", typ, a)
		}
	}
	if code := run(context.Background(), []string{"keys", "rotate"}, &out, &errb); code != 2 {
		t.Fatalf("missing flags exited %d, want 2", code)
	}
}

// Nothing makes a key set by itself outside dev mode: serve and a rotation without one are
// refused, naming the command that creates one; "keys init" creates it (audited, logged) and, run again, changes
// nothing.
func TestKeysInitIsTheOneWayToAFirstKeySet(t *testing.T) {
	path := exampleDeployment(t, func(y string) string { return strings.Replace(y, "  type: redis\n", "  type: memory\n", 1) })
	keys := filepath.Join(filepath.Dir(path), "keys")
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"keys", "rotate", "--config", path}, &out, &errb); code != 1 ||
		!strings.Contains(errb.String(), "no signing key set") || !strings.Contains(errb.String(), "sportello keys init --config "+path) {
		t.Fatalf("rotating no key set: exit %d\n%s", code, errb.String())
	}
	// serve, too, stops at once (before listening) and names it.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	errb.Reset()
	if code := run(ctx, []string{"serve", "--config", path}, &out, &errb); code != 1 ||
		!strings.Contains(errb.String(), "no active ES256 key in "+keys) || !strings.Contains(errb.String(), "sportello keys init --config "+path) {
		t.Fatalf("serve without key files: exit %d\n%s", code, errb.String())
	}
	if pems, _ := filepath.Glob(filepath.Join(keys, "*.pem")); len(pems) != 0 {
		t.Fatalf("a refused rotation or serve wrote %v", pems)
	}
	out.Reset()
	errb.Reset()
	if code := run(context.Background(), []string{"keys", "init", "--config", path}, &out, &errb); code != 0 {
		t.Fatalf("keys init exited %d\n%s", code, errb.String())
	}
	for _, f := range []string{"es256-active.pem", "es256-next.pem", "rs256-active.pem", "rs256-next.pem"} {
		if _, err := os.Stat(filepath.Join(keys, f)); err != nil {
			t.Errorf("keys init made no %s: %v", f, err)
		}
	}
	if !strings.Contains(errb.String(), "signing key set created") {
		t.Errorf("no log line for the new key set:\n%s", errb.String())
	}
	trail := filepath.Join(filepath.Dir(path), "audit", "audit-operators.jsonl")
	if n := auditCount(t, trail, "keys.initialised"); n != 1 {
		t.Fatalf("%d keys.initialised records in %s, want 1", n, trail)
	}
	active := mustRead(t, filepath.Join(keys, "es256-active.pem"))
	out.Reset()
	if code := run(context.Background(), []string{"keys", "init", "--config", path}, &out, &errb); code != 0 || !strings.Contains(out.String(), "nothing changed") {
		t.Fatalf("a second keys init: exit %d\n%s", code, out.String())
	}
	if !bytes.Equal(mustRead(t, filepath.Join(keys, "es256-active.pem")), active) || auditCount(t, trail, "keys.initialised") != 1 {
		t.Fatal("a second keys init changed the key set or audited a change")
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// auditCount counts the records of type typ in a trail file.
func auditCount(t *testing.T, path, typ string) int {
	t.Helper()
	return strings.Count(string(mustRead(t, path)), `"type":"`+typ+`"`)
}
