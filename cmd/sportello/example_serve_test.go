package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/inps/sportello/internal/store/redistest"
	"github.com/inps/sportello/internal/store/storetest"
)

// config/example.yaml deployed as the README says — the files it names beside it (the fake
// tree of config/testdata/example), SPORTELLO_CRYPTO_KEY and the client secret in the
// environment, a Redis with AOF behind the password of secrets/redis_password, the
// deploy-time overrides for this machine's Redis and free ports — starts, in the README's
// order:
//   - serve without a key set refuses, naming the command that makes one, and writes no key
//     set into Redis by itself;
//   - keys init creates it in the store, audited in the operators' trail;
//   - serve then listens, its "listening" line naming the addresses actually bound (port 0
//     in, the real ports out), answers /readyz with every check of its own set-up passing
//     (only the SPID registry, which this machine cannot reach, fails), serves discovery and
//     the keys keys init made, and writes nothing but JSON lines on standard error — go-redis'
//     own complaints when Redis goes away included — until SIGTERM stops it cleanly.
func TestServeTheExampleAsTheREADMESays(t *testing.T) {
	password := strings.TrimSpace(string(mustRead(t, "../../config/testdata/example/secrets/redis_password")))
	rd := redistest.StartProcess(t, "--appendonly", "yes", "--requirepass", password)
	path := exampleDeployment(t, func(y string) string { return y })
	t.Setenv("SPORTELLO_REDIS_URL", rd.URL())
	for _, k := range []string{"SPORTELLO_HTTP_ADDR", "SPORTELLO_MTLS_ADDR", "SPORTELLO_DEBUG_ADDR"} {
		t.Setenv(k, "127.0.0.1:0")
	}
	t.Setenv("SPORTELLO_OTLP_ENDPOINT", "")
	rc := goredis.NewClient(&goredis.Options{Addr: rd.Addr(), Password: password})
	defer rc.Close()
	keySetStored := func() bool { return rc.Exists(context.Background(), "sportello:keys:set").Val() == 1 }

	// check-config accepts it; only the SPID registry, out of this machine's reach, is an error.
	if code, out := checkConfig(t, "--offline", path); code != 0 {
		t.Fatalf("check-config --offline: exit %d\n%s", code, out)
	}
	if code, out := checkConfig(t, path); code != 1 || strings.Join(errorPaths(out), " ") != "providers.spid.idps[0].metadata_url" {
		t.Fatalf("check-config: exit %d, want the registry URL only:\n%s", code, out)
	}

	// No key set: serve stops at once and says what to run.
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // a serve that starts is stopped, and fails the test
	defer cancel()
	if code := run(ctx, []string{"serve", "--config", path}, &out, &errb); code != 1 {
		t.Fatalf("serve without a key set exited %d\n%s", code, errb.String())
	}
	allJSON(t, errb.String())
	if want := "`sportello keys init --config " + path + "`"; !strings.Contains(errb.String(), want) || !strings.Contains(errb.String(), "no signing key set") {
		t.Fatalf("serve without a key set does not name %s:\n%s", want, errb.String())
	}
	if keySetStored() {
		t.Fatal("serve generated a key set into Redis by itself")
	}

	// keys init, the operator's explicit action.
	out.Reset()
	errb.Reset()
	if code := run(context.Background(), []string{"keys", "init", "--config", path}, &out, &errb); code != 0 || !keySetStored() {
		t.Fatalf("keys init exited %d (key set stored: %v)\n%s%s", code, keySetStored(), out.String(), errb.String())
	}
	if n := auditCount(t, filepath.Join(filepath.Dir(path), "audit", "audit-operators.jsonl"), "keys.initialised"); n != 1 {
		t.Fatalf("%d keys.initialised records, want 1", n)
	}
	kids := strings.Fields(out.String())

	p := startMain(t, "serve", "--config", path)
	listening := p.waitLine(t, "sportello listening")
	addrs := map[string]string{}
	for _, k := range []string{"http", "mtls", "debug"} {
		a, _ := listening[k].(string)
		if a == "" || strings.HasSuffix(a, ":0") {
			t.Fatalf("the listening line names %s %q, not the address bound: %v", k, a, listening)
		}
		addrs[k] = a
	}
	base := "http://" + addrs["http"]
	code, body := get(t, base+"/readyz")
	var ready readyBody
	_ = json.Unmarshal(body, &ready)
	for name, c := range ready.Checks {
		if want := map[bool]string{true: "fail", false: "ok"}[name == "provider:spid"]; c.Status != want {
			t.Errorf("/readyz check %s: %s %q, want %s", name, c.Status, c.Detail, want)
		}
	}
	if code != http.StatusServiceUnavailable || ready.Reason != "not ready: provider:spid" || ready.Checks["store_persistence"].Status != "ok" {
		t.Fatalf("/readyz %d %s", code, body)
	}
	if code, body := get(t, base+"/.well-known/openid-configuration"); code != http.StatusOK || !strings.Contains(string(body), `"issuer":"https://login.inps.example.it"`) {
		t.Fatalf("discovery: %d %s", code, body)
	}
	_, jwks := get(t, base+"/jwks")
	for _, kid := range kids {
		if len(kid) > 10 && !strings.Contains(string(jwks), kid) { // the key ids keys init listed
			t.Errorf("JWKS lacks key %s made by keys init: %s", kid, jwks)
		}
	}
	if code, _ := get(t, "http://"+addrs["debug"]+"/debug/pprof/cmdline"); code != http.StatusOK {
		t.Errorf("profiler on %s: %d", addrs["debug"], code)
	}

	// Redis goes away: go-redis complains, through slog.
	rd.Stop()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(p.stderr.String(), "connection pool: failed to dial") {
		if time.Now().After(deadline) {
			t.Fatalf("go-redis said nothing while Redis is down:\n%s", p.stderr.String())
		}
		if code, _ := get(t, base+"/readyz"); code != http.StatusServiceUnavailable {
			t.Fatalf("/readyz %d with Redis down", code)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if code := p.stop(t); code != 0 {
		t.Fatalf("serve exited %d on SIGTERM\n%s", code, p.stderr.String())
	}
	allJSON(t, p.stderr.String())
	if !strings.Contains(p.stderr.String(), `"component":"go-redis"`) {
		t.Error("no go-redis record in the log")
	}
	if p.stdout.String() != "" {
		t.Errorf("serve wrote to standard output: %s", p.stdout.String())
	}
}

// allJSON fails the test unless every line of a log is a JSON object with a level and a msg.
func allJSON(t *testing.T, log string) {
	t.Helper()
	for i, line := range strings.Split(strings.TrimRight(log, "\n"), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec["level"] == nil || rec["msg"] == nil {
			t.Errorf("log line %d is not a JSON record: %q", i+1, line)
		}
	}
}

func get(t *testing.T, u string) (int, []byte) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.Bytes()
}

// mainProcess is the sportello command run as a process of its own (the test binary, see
// TestMain).
type mainProcess struct {
	cmd            *exec.Cmd
	stdout, stderr *storetest.Buffer
	done           chan struct{}
	err            error
}

func startMain(t *testing.T, args ...string) *mainProcess {
	t.Helper()
	p := &mainProcess{cmd: exec.Command(os.Args[0], args...), stdout: &storetest.Buffer{}, stderr: &storetest.Buffer{}, done: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), asMain+"=1")
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// waitLine waits (up to a minute) for the JSON log line whose msg is msg and returns it.
func (p *mainProcess) waitLine(t *testing.T, msg string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(p.stderr.String(), "\n") {
			var rec map[string]any
			if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == msg {
				return rec
			}
		}
		select {
		case <-p.done:
			t.Fatalf("exited (%v) before logging %q:\n%s", p.err, msg, p.stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("no %q line after a minute:\n%s", msg, p.stderr.String())
	return nil
}

// stop sends SIGTERM and returns the exit code.
func (p *mainProcess) stop(t *testing.T) int {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatal("no exit 30 s after SIGTERM")
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	if p.err != nil {
		t.Fatal(p.err)
	}
	return 0
}
