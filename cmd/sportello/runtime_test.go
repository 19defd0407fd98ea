package main

import (
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/inps/sportello/config"
)

// The runtime section sets the collector unless GOGC/GOMEMLIMIT are set, which win.
func TestRuntimeTuningYieldsToTheEnvironment(t *testing.T) {
	gc, limit := debug.SetGCPercent(100), debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetGCPercent(gc); debug.SetMemoryLimit(limit) })
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))

	tuneRuntime(config.Runtime{GCPercent: 333, MemoryLimitMiB: 777}, func(string) string { return "" }, quiet)
	if got := debug.SetGCPercent(100); got != 333 {
		t.Errorf("gc percent %d, want 333 from the configuration", got)
	}
	if got := debug.SetMemoryLimit(-1); got != 777<<20 {
		t.Errorf("memory limit %d, want 777 MiB from the configuration", got)
	}

	debug.SetMemoryLimit(123 << 20)
	env := map[string]string{"GOGC": "150", "GOMEMLIMIT": "123MiB"}
	tuneRuntime(config.Runtime{GCPercent: 333, MemoryLimitMiB: 777}, func(k string) string { return env[k] }, quiet)
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("gc percent %d: GOGC is set, the configuration must not override it", got)
	}
	if got := debug.SetMemoryLimit(-1); got != 123<<20 {
		t.Errorf("memory limit %d: GOMEMLIMIT is set, the configuration must not override it", got)
	}
}

// --pprof serves the profiler on its own loopback listener, never on the main one.
func TestDevProfilerListener(t *testing.T) {
	dbg := freeAddr(t)
	issuer, _ := devBroker(t, "--pprof", dbg)
	resp, err := http.Get("http://" + dbg + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "goroutine") {
		t.Fatalf("profiler index: %d %.200s", resp.StatusCode, b)
	}
	main, err := http.Get(issuer + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	main.Body.Close()
	if main.StatusCode != http.StatusNotFound {
		t.Fatalf("the main listener answers /debug/pprof/ with %d, want 404", main.StatusCode)
	}
}

// A profiler address that is not loopback stops dev mode before it listens.
func TestDevProfilerRefusesAPublicAddress(t *testing.T) {
	var errb strings.Builder
	code := run(t.Context(), []string{"dev", "--http", freeAddr(t), "--mtls", freeAddr(t), "--data", t.TempDir(),
		"--testdata", "../../testdata", "--pprof", "0.0.0.0:6060"}, io.Discard, &errb)
	if code == 0 || !strings.Contains(errb.String(), "listen.debug") {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
}
