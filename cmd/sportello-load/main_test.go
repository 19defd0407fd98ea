package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

func TestOnlyLoopbackTargetsAreAccepted(t *testing.T) {
	for target, ok := range map[string]bool{
		"http://127.0.0.1:8080": true, "http://localhost:8080": true, "https://[::1]:8443": true, "http://127.8.9.10": true,
		"http://10.0.0.1:8080": false, "https://id.inps.it": false, "http://0.0.0.0:8080": false, "ftp://127.0.0.1": false,
		"http://127.0.0.1.nip.io": false,
	} {
		if err := loopbackOnly(target); (err == nil) != ok {
			t.Errorf("%s: %v, want accepted=%v", target, err, ok)
		}
	}
}

func TestARemoteTargetIsRefusedBeforeAnyRequest(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"--target", "https://example.org"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "not a loopback") {
		t.Fatalf("%d %s", code, errb.String())
	}
}

func TestPercentilesAreNearestRank(t *testing.T) {
	var l []time.Duration
	for i := 1; i <= 100; i++ {
		l = append(l, time.Duration(i)*time.Millisecond)
	}
	for q, want := range map[float64]string{.5: "50.00", .9: "90.00", .99: "99.00"} {
		if got := pct(l, q); got != want {
			t.Errorf("p%v = %s, want %s", q*100, got, want)
		}
	}
	if pct(nil, .5) != "-" || pct(l[:1], .99) != "1.00" {
		t.Error("edge cases")
	}
}

func TestMarkdownTable(t *testing.T) {
	var b bytes.Buffer
	printTable(&b, []result{{name: "jwks", ops: 10, elapsed: time.Second, lat: []time.Duration{time.Millisecond}}, {name: "spid_login", skipped: "no dev SPID IdP"}}, true)
	want := "| scenario | ops | errors | ops/s | p50 ms | p90 ms | p99 ms | notes |\n|---|--:|--:|--:|--:|--:|--:|---|\n| jwks | 10 | 0 | 10 | 1.00 | 1.00 | 1.00 |  |\n| spid_login | - | - | - | - | - | - | not available: no dev SPID IdP |\n"
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
}

// Paced users never run ahead of their schedule: in d at rate r there are at most r·d
// operations (plus one per user, the first starts at once), however fast the operation is.
func TestPacedRunNeverExceedsItsSchedule(t *testing.T) {
	h := &harness{users: 4}
	s := scenario{name: "noop", prepare: func(context.Context, *harness) (op, string, error) {
		return func(context.Context, int) error { return nil }, "", nil
	}}
	r := h.runScenario(context.Background(), s, 300*time.Millisecond, 0, 200)
	if r.firstErr != nil || r.ops == 0 {
		t.Fatalf("paced run: %d ops, %v", r.ops, r.firstErr)
	}
	if limit := int(200*r.elapsed.Seconds()) + h.users; r.ops > limit {
		t.Fatalf("%d operations in %v at 200/s: the schedule allows %d", r.ops, r.elapsed, limit)
	}
	free := h.runScenario(context.Background(), s, 50*time.Millisecond, 0, 0)
	if free.ops <= 200 {
		t.Fatalf("closed loop ran only %d no-op operations", free.ops)
	}
}
