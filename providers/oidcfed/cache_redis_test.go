package oidcfed_test

import (
	"context"
	"testing"
	"time"

	redisstore "github.com/inps/sportello/internal/store/redis"
	"github.com/inps/sportello/internal/store/redistest"
	"github.com/inps/sportello/providers/oidcfed"
)

// TestTrustChainSharedByReplicas: a chain one replica resolved is found by another in Redis,
// with a TTL that ends at the chain's exp.
func TestTrustChainSharedByReplicas(t *testing.T) {
	srv := redistest.Start(t)
	st, err := redisstore.New(context.Background(), redisstore.Options{URL: srv.URL, Prefix: srv.Prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	f := newTestFed(t)
	a, b := f.resolver(), f.resolver()
	a.Store, b.Store = st, st
	c, err := a.Resolve(t.Context(), oidcfed.EntityOP, f.op.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	f.stopped = true
	f.mu.Unlock()
	var outcome string
	b.OnResolve = func(_, o string) { outcome = o }
	if _, err := b.Resolve(t.Context(), oidcfed.EntityOP, f.op.ID, nil); err != nil || outcome != oidcfed.OutcomeCached {
		t.Fatalf("second replica: %v, outcome %q", err, outcome)
	}
	ttl, err := st.TTL(t.Context(), "oidcfed:chain:"+oidcfed.EntityOP+":"+f.op.ID)
	// Redis keeps the TTL in whole milliseconds: allow the rounding, not a day's difference.
	if until := c.ExpiresAt().Sub(f.now); err != nil || ttl <= 0 || ttl > until+time.Second || ttl < until-time.Hour {
		t.Fatalf("ttl %v (%v), want about %v, the time until exp", ttl, err, until)
	}
}
