package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/inps/sportello/broker/session"
	"github.com/inps/sportello/config"
	"github.com/inps/sportello/internal/store/redis"
	"github.com/inps/sportello/internal/store/redistest"
	"github.com/inps/sportello/internal/switches"
	"github.com/inps/sportello/providers"
)

// sportello console switch turns a client off on every replica sharing the Store (a replica's
// Reader sees it), lists it, and turns it back on; a change without a reason is refused and
// nothing is written; with the memory store the commands refuse to run.
func TestConsoleCLISwitchesAClientOnTheSharedStore(t *testing.T) {
	srv := redistest.Start(t)
	path := exampleDeployment(t, func(y string) string {
		y = strings.Replace(y, "url: rediss://redis.inps.example.it:6380/0", "url: "+srv.URL, 1)
		y = strings.Replace(y, "    password: file:secrets/redis_password\n", "", 1)
		return strings.Replace(y, `prefix: "sportello:"`, `prefix: "`+srv.Prefix+`"`, 1)
	})
	st, err := redis.New(context.Background(), redis.Options{URL: srv.URL, Prefix: srv.Prefix})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	replica := switches.NewReader(st, switches.ReaderOptions{})

	if code, _, errs := runCLI("console", "switch", "--config", path, "--kind", "client", "--id", "demo-rp", "--off"); code != 1 || !strings.Contains(errs, "reason") {
		t.Fatalf("switch off without a reason: exit %d, %q", code, errs)
	}
	if code, _, errs := runCLI("console", "switch", "--config", path, "--kind", "client", "--id", "demo-rp", "--off", "--on"); code != 2 {
		t.Fatalf("--off and --on: exit %d, %q", code, errs)
	}
	if code, out, errs := runCLI("console", "switch", "--config", path, "--kind", "client", "--id", "demo-rp", "--off", "--reason", "leaking tokens", "--expires", "2999-01-01T00:00:00Z"); code != 0 || !strings.Contains(out, "switched off") {
		t.Fatalf("switch off: exit %d, %q %q", code, out, errs)
	}
	if err := replica.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	if off, sw := replica.Disabled(switches.KindClient, "demo-rp"); !off || sw.Reason != "leaking tokens" || !strings.HasPrefix(sw.Actor, "cli:") {
		t.Fatalf("the replica sees %v %+v", off, sw)
	}
	if code, out, _ := runCLI("console", "switches", "--config", path); code != 0 || !strings.Contains(out, "demo-rp") || !strings.Contains(out, "leaking tokens") {
		t.Fatalf("switches: exit %d\n%s", code, out)
	}
	if code, out, errs := runCLI("console", "switch", "--config", path, "--kind", "client", "--id", "demo-rp", "--on"); code != 0 {
		t.Fatalf("switch on: exit %d, %q %q", code, out, errs)
	}
	_ = replica.Load(t.Context())
	if off, _ := replica.Disabled(switches.KindClient, "demo-rp"); off {
		t.Fatal("still off after --on")
	}
	if code, out, _ := runCLI("console", "replicas", "--config", path); code != 0 || !strings.Contains(out, "HOSTNAME") {
		t.Fatalf("replicas: exit %d\n%s", code, out)
	}
	mem := exampleDeployment(t, func(y string) string { return strings.Replace(y, "  type: redis\n", "  type: memory\n", 1) })
	if code, _, errs := runCLI("console", "switches", "--config", mem); code != 1 || !strings.Contains(errs, "store.type: redis") {
		t.Fatalf("with the memory store: exit %d, %q", code, errs)
	}
}

// sportello console revoke-person ends the person's sessions on the shared Store (a session a
// replica opened) and says how many; a malformed fiscal code changes nothing.
func TestConsoleCLIRevokesAPersonOnTheSharedStore(t *testing.T) {
	srv := redistest.Start(t)
	path := exampleDeployment(t, func(y string) string {
		y = strings.Replace(y, "url: rediss://redis.inps.example.it:6380/0", "url: "+srv.URL, 1)
		y = strings.Replace(y, "    password: file:secrets/redis_password\n", "", 1)
		return strings.Replace(y, `prefix: "sportello:"`, `prefix: "`+srv.Prefix+`"`, 1)
	})
	cfg, err := config.Load(path, configOptions())
	if err != nil {
		t.Fatal(err)
	}
	key, err := config.DecodeKey(cfg.Subject.Key.Value)
	if err != nil {
		t.Fatal(err)
	}
	st, err := redis.New(context.Background(), redis.Options{URL: srv.URL, Prefix: srv.Prefix})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// A replica's session of Mario's, indexed by his sub (the token contract's derivation).
	sub := func(id *providers.Identity) string {
		m := hmac.New(sha256.New, key)
		m.Write([]byte("sportello/sub/v1:" + id.FiscalNumber))
		return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}
	replica := session.New(session.Options{Store: st, Idle: time.Hour, Subject: sub})
	secret, _, err := replica.Open(t.Context(), &providers.Identity{FiscalNumber: "RSSMRA80A01H501U", Method: "spid"})
	if err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runCLI("console", "revoke-person", "--config", path); code != 2 {
		t.Fatalf("without --fiscal-code: exit %d, %q", code, errs)
	}
	if code, _, errs := runCLI("console", "revoke-person", "--config", path, "--fiscal-code", "RSSMRA80A01H501X"); code != 1 || !strings.Contains(errs, "nothing changed") {
		t.Fatalf("a malformed fiscal code: exit %d, %q", code, errs)
	}
	if s, _ := replica.Get(t.Context(), secret); s == nil {
		t.Fatal("the session ended on a refused command")
	}
	if code, out, errs := runCLI("console", "revoke-person", "--config", path, "--fiscal-code", "rssmra80a01h501u"); code != 0 || !strings.Contains(out, "1 sessions ended") {
		t.Fatalf("revoke-person: exit %d, %q %q", code, out, errs)
	}
	if s, _ := replica.Get(t.Context(), secret); s != nil {
		t.Fatal("the session survived revoke-person")
	}
}
