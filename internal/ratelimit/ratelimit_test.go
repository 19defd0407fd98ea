package ratelimit

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/internal/store/memory"
	redisstore "github.com/inps/sportello/internal/store/redis"
	"github.com/inps/sportello/internal/store/redistest"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newClock() *clock { return &clock{t: time.Date(2026, 11, 23, 10, 0, 10, 0, time.UTC)} }

func memStore(t testing.TB, now func() time.Time) store.Store {
	s := memory.New(memory.Options{Now: now})
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func redisStore(t testing.TB, srv redistest.Server) store.Store {
	t.Helper()
	s, err := redisstore.New(context.Background(), redisstore.Options{URL: srv.URL, Prefix: srv.Prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// waiter lets time pass for a backend: the memory store's clock moves, Redis' is real.
type waiter func(d time.Duration)

// backends runs fn on the memory store (on the test clock) and on a real redis-server (on
// its own clock).
func backends(t *testing.T, fn func(t *testing.T, st store.Store, wait waiter)) {
	t.Run("memory", func(t *testing.T) { c := newClock(); fn(t, memStore(t, c.Now), c.Add) })
	t.Run("redis", func(t *testing.T) { fn(t, redisStore(t, redistest.Start(t)), time.Sleep) })
}

// wantRetry checks a refusal's Retry-After: just under want (Redis' clock runs meanwhile).
func wantRetry(t *testing.T, got, want time.Duration) {
	t.Helper()
	if got <= want-time.Second || got > want {
		t.Fatalf("retry after %v, want just under %v", got, want)
	}
}

func TestTheLimitPassesAtOnceThenOneRequestPerInterval(t *testing.T) {
	backends(t, func(t *testing.T, st store.Store, wait waiter) {
		l := New(st, Options{})
		ctx := context.Background()
		for i := 0; i < 3; i++ {
			if ok, _, err := l.Allow(ctx, "client:demo-rp", 3, 3*time.Second); !ok || err != nil {
				t.Fatalf("request %d refused: %v", i+1, err)
			}
		}
		ok, retry, err := l.Allow(ctx, "client:demo-rp", 3, 3*time.Second)
		if ok || err != nil {
			t.Fatalf("4th = %v %v, want refused", ok, err)
		}
		wantRetry(t, retry, time.Second) // 3 per 3s: one a second, not the rest of a window
		if ok, _, _ := l.Allow(ctx, "client:other", 3, 3*time.Second); !ok {
			t.Fatal("another key shares the bucket")
		}
		wait(retry + 20*time.Millisecond)
		if ok, _, _ := l.Allow(ctx, "client:demo-rp", 3, 3*time.Second); !ok {
			t.Fatal("still limited one interval later")
		}
		if ok, _, _ := l.Allow(ctx, "client:demo-rp", 3, 3*time.Second); ok {
			t.Fatal("two passed in one interval")
		}
	})
}

// A fixed-window counter lets twice the limit through across a window boundary: the limit at
// the end of one window and again at the start of the next. This limiter does not.
func TestNoBurstOfTwiceTheLimitAcrossAWindowBoundary(t *testing.T) {
	c := newClock()
	l := New(memStore(t, c.Now), Options{})
	ctx := context.Background()
	c.Add(time.Minute - c.Now().Sub(c.Now().Truncate(time.Minute)) - 100*time.Millisecond) // 0.1s before a minute
	passed := 0
	for i := 0; i < 6; i++ {
		if i == 3 {
			c.Add(200 * time.Millisecond) // into the next minute
		}
		if ok, _, err := l.Allow(ctx, "addr:192.0.2.1", 3, time.Minute); err != nil {
			t.Fatal(err)
		} else if ok {
			passed++
		}
	}
	if passed != 3 {
		t.Fatalf("%d of 6 requests within 0.2s passed, want the limit of 3", passed)
	}
}

func TestBucketsExpireWhenFullAgain(t *testing.T) {
	backends(t, func(t *testing.T, st store.Store, _ waiter) {
		l := New(st, Options{})
		if _, _, err := l.Allow(context.Background(), "k", 2, time.Minute); err != nil {
			t.Fatal(err)
		}
		ttl, err := st.TTL(context.Background(), bucketKey("k"))
		if err != nil || ttl <= 0 || ttl > 30*time.Second {
			t.Fatalf("TTL = %v, %v; want at most one interval (30s)", ttl, err)
		}
	})
}

func TestBadRulesAreRefused(t *testing.T) {
	l := New(memStore(t, nil), Options{})
	for _, r := range []Rule{{0, time.Minute}, {5, 0}, {-1, time.Second}} {
		if _, _, err := l.Allow(context.Background(), "k", r.Limit, r.Window); !errors.Is(err, ErrBadRule) {
			t.Fatalf("%+v: %v", r, err)
		}
	}
}

func TestKeysAreHashTaggedAndCarryNoRawSubject(t *testing.T) {
	k := bucketKey("token|addr|192.0.2.1{x}")
	if want := "ratelimit:{"; k[:len(want)] != want || len(k) > 64 {
		t.Fatalf("key %q", k)
	}
	for _, bad := range []string{"192.0.2.1", "{x}"} {
		if contains(k, bad) {
			t.Fatalf("key %q holds %q", k, bad)
		}
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// Two broker instances on one Redis share each bucket: 60 racing requests, limit 20, exactly
// 20 pass.
func TestTheLimitIsClusterWide(t *testing.T) {
	srv := redistest.Start(t)
	a, b := New(redisStore(t, srv), Options{}), New(redisStore(t, srv), Options{})
	var passed atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 60; i++ {
		l := a
		if i%2 == 1 {
			l = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, _, err := l.Allow(context.Background(), "client:demo-service", 20, time.Minute)
			if err != nil {
				t.Error(err)
			}
			if ok {
				passed.Add(1)
			}
		}()
	}
	wg.Wait()
	if passed.Load() != 20 {
		t.Fatalf("%d passed, want 20", passed.Load())
	}
}

func BenchmarkAllowMemory(b *testing.B) {
	l := New(memStore(b, nil), Options{})
	ctx := context.Background()
	for b.Loop() {
		_, _, _ = l.Allow(ctx, "client:demo-service", 1<<30, time.Minute)
	}
}

func BenchmarkAllowRedis(b *testing.B) {
	l := New(redisStore(b, redistest.Start(b)), Options{})
	ctx := context.Background()
	for b.Loop() {
		_, _, _ = l.Allow(ctx, "client:demo-service", 1<<30, time.Minute)
	}
}
