package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/inps/sportello/config"
)

// Outside dev mode the rate limits are on: the 31st PIN form post from one address within a
// minute is refused with 429 and Retry-After, before any PIN is checked.
func TestRateLimitsOnByDefault(t *testing.T) {
	httpAddr := freeAddr(t)
	cfg, err := config.DevConfig(httpAddr, "", t.TempDir(), configOptions())
	if err != nil {
		t.Fatal(err)
	}
	cfg.RateLimits.Disabled = false
	td, _ := filepath.Abs("../../testdata")
	extras, err := devSetup(cfg, td, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	extras.banner = nil
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	ready := make(chan string, 1)
	go func() { done <- serve(ctx, cfg, slog.New(slog.DiscardHandler), extras, ready) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-ready:
	case err := <-done:
		t.Fatal(err)
	case <-time.After(30 * time.Second):
		t.Fatal("not ready")
	}
	var last *http.Response
	for i := 0; i < 31; i++ {
		resp, err := http.PostForm("http://"+httpAddr+"/pin/login", url.Values{"login": {"x"}, "fiscal_code": {"FRRGNN55T50Z600A"}, "pin": {"WRONG123"}})
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		last = resp
		if i < 30 && resp.StatusCode == http.StatusTooManyRequests {
			t.Fatalf("limited after only %d posts", i+1)
		}
	}
	if last.StatusCode != http.StatusTooManyRequests || last.Header.Get("Retry-After") == "" {
		t.Fatalf("31st post: %d, Retry-After %q", last.StatusCode, last.Header.Get("Retry-After"))
	}
}
