package spid

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/inps/sportello/internal/store/memory"
	"github.com/inps/sportello/internal/store/storetest"
	"github.com/inps/sportello/providers"
)

// newMetadataProvider is a SPID provider whose one IdP's metadata comes from ms.
func newMetadataProvider(t *testing.T, ms *metadataServer, clk *testClock, log *storetest.Buffer) *Provider {
	t.Helper()
	srv := httptest.NewServer(ms)
	t.Cleanup(srv.Close)
	cfg := testConfig(srv.URL)
	cfg.IdPs = []IdPConfig{{MetadataURL: srv.URL, Binding: "redirect"}}
	st := memory.New(memory.Options{Now: clk.Now})
	t.Cleanup(func() { _ = st.Close() })
	p, err := New(cfg, Deps{Store: st, Now: clk.Now, HTTPClient: srv.Client(), BaseURL: "https://sp.example",
		Logger: slog.New(slog.NewTextHandler(log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// No IdP metadata reachable: SPID is not ready (the chooser would offer no SPID login), and
// readiness itself retries in the background, since a replica out of the load balancer gets
// no logins to trigger the lazy load. A copy kept after a failed refresh is a warning.
func TestReadinessFailsWithoutAnyIdP(t *testing.T) {
	ms := &metadataServer{}
	ms.set(nil, true)
	clk := &testClock{t: t0}
	p := newMetadataProvider(t, ms, clk, &storetest.Buffer{})
	if err := p.Refresh(t.Context()); err == nil {
		t.Fatal("refresh of unreachable metadata reported no error")
	}
	got := p.Readiness(t.Context())
	if got.Status != providers.ReadyFail || got.Detail != "no identity provider loaded: 1 of 1 metadata sources never loaded" {
		t.Fatalf("no IdP: %+v", got)
	}
	if strings.Contains(got.Detail, "127.0.0.1") {
		t.Fatalf("the public detail names the metadata URL: %q", got.Detail)
	}

	ms.set(devMetadata(t, "demo", "dev-idp-demo"), false)
	clk.Advance(6 * time.Second) // past the retry interval
	deadline := time.Now().Add(5 * time.Second)
	for got = p.Readiness(t.Context()); got.Status != providers.ReadyOK && time.Now().Before(deadline); got = p.Readiness(t.Context()) {
		time.Sleep(20 * time.Millisecond)
	}
	if got.Status != providers.ReadyOK || got.Detail != "1 identity providers loaded" {
		t.Fatalf("metadata back: %+v, want ok (readiness retries by itself)", got)
	}

	ms.set(nil, true)
	_ = p.Refresh(t.Context())
	if got = p.Readiness(t.Context()); got.Status != providers.ReadyWarn || !strings.Contains(got.Detail, "1 failing (last good copy kept)") {
		t.Fatalf("refresh failed with a copy kept: %+v, want a warning", got)
	}
}

// Run does not fetch again at once what serve loaded just before starting it.
func TestRunSkipsTheFirstRefreshWhenFresh(t *testing.T) {
	ms := &metadataServer{}
	ms.set(devMetadata(t, "demo", "dev-idp-demo"), false)
	clk := &testClock{t: t0}
	p := newMetadataProvider(t, ms, clk, &storetest.Buffer{})
	if err := p.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	time.Sleep(100 * time.Millisecond)
	cancel()
	<-done
	ms.mu.Lock()
	hits := ms.hits
	ms.mu.Unlock()
	if hits != 1 {
		t.Fatalf("%d metadata fetches, want 1 (Run refetched what was fresh)", hits)
	}
}
