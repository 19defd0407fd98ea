package oidcfed_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inps/sportello/providers/oidcfed"
)

func TestFederationShow(t *testing.T) {
	w := newWorld(t)
	c := w.fed.RPConfig(t.TempDir())
	c.EntityID = w.p.EntityID()
	var out bytes.Buffer
	if err := oidcfed.Show(t.Context(), &out, c, w.srv.Client(), time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"SPID OP " + w.spid.Entity.ID, "CIE OP " + w.cie.Entity.ID, "subordinate statement by " + w.fed.Intermediate.ID,
		"chain expires", "trust marks: " + w.fed.TA.ID + "/openid_provider/public", "trust anchor  " + w.fed.TA.ID,
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	// An OP whose chain fails is named, and the command fails.
	c.OpenIDProviders = append(c.OpenIDProviders, oidcfed.OPConfig{EntityID: w.srv.URL + "/nowhere", Profile: "spid"})
	out.Reset()
	if err := oidcfed.Show(t.Context(), &out, c, w.srv.Client(), time.Now()); !errors.Is(err, oidcfed.ErrNoChain) ||
		!strings.Contains(out.String(), "NO VALID CHAIN") {
		t.Fatalf("err %v, output:\n%s", err, out.String())
	}
}

func TestFederationKeysCLI(t *testing.T) {
	dir := t.TempDir()
	load := func(string) (*oidcfed.Config, error) { return &oidcfed.Config{KeysDir: dir}, nil }
	run := func(args ...string) (int, string) {
		var out, errs bytes.Buffer
		code := oidcfed.CLI(t.Context(), args, &out, &errs, load)
		return code, out.String() + errs.String()
	}
	if code, out := run("keys", "init", "--config", "x.yaml"); code != 0 {
		t.Fatalf("init: %d %s", code, out)
	}
	before, err := os.ReadFile(filepath.Join(dir, oidcfed.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := run("keys", "init", "--config", "x.yaml"); code != 1 {
		t.Fatal("a second init must refuse to overwrite the key set")
	}
	if code, out := run("keys", "rotate", "--config", "x.yaml"); code != 0 {
		t.Fatalf("rotate: %d %s", code, out)
	}
	after, _ := os.ReadFile(filepath.Join(dir, oidcfed.KeyFile))
	if bytes.Equal(before, after) {
		t.Fatal("rotate changed nothing")
	}
	if code, _ := run("nope"); code != 2 {
		t.Fatal("an unknown command is a misuse")
	}
	if code, out := run("show", "--help"); code != 0 || !strings.Contains(out, "trust chain") {
		t.Fatalf("show --help: %d %s", code, out)
	}
}
