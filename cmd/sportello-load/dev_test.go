package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// The harness against a real `sportello dev` process: every scenario runs without an error.
func TestEveryScenarioAgainstARealDevModeProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts sportello")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "sportello")
	// sportello is another module: build it from its own root (with or without go.work).
	build := exec.Command("go", "build", "-o", bin, "./cmd/sportello")
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	httpAddr, mtlsAddr := freeAddr(t), freeAddr(t)
	testdata, _ := filepath.Abs("../../testdata")
	cmd := exec.Command(bin, "dev", "--http", httpAddr, "--mtls", mtlsAddr, "--data", filepath.Join(dir, "data"), "--testdata", testdata)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.Env = append(os.Environ(), "SPORTELLO_REDIS_URL=")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	target := "http://" + httpAddr
	for end := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(target + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(end) {
			t.Fatalf("dev mode not ready:\n%s", logs.String())
		}
	}
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"--target", target, "--users", "2", "--duration", "300ms", "--codes", "4", "--testdata", testdata, "--markdown"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	for _, s := range scenarios {
		if !strings.Contains(out.String(), "| "+s.name+" | ") || strings.Contains(out.String(), "| "+s.name+" | - |") {
			t.Errorf("scenario %s missing or not run:\n%s", s.name, out.String())
		}
	}
}
