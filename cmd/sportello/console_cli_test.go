package main

import (
	"context"
	"strings"
	"testing"

	"github.com/inps/sportello/internal/store/redis"
	"github.com/inps/sportello/internal/store/redistest"
	"github.com/inps/sportello/internal/switches"
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
