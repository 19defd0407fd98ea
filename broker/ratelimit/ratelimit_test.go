package ratelimit

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inps/sportello/broker/store"
	"github.com/inps/sportello/broker/store/memory"
	redisstore "github.com/inps/sportello/broker/store/redis"
	"github.com/inps/sportello/broker/store/redistest"
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

// backends runs fn on the memory store and on a real redis-server.
func backends(t *testing.T, fn func(t *testing.T, st store.Store, c *clock)) {
	t.Run("memory", func(t *testing.T) { c := newClock(); fn(t, memStore(t, c.Now), c) })
	t.Run("redis", func(t *testing.T) { fn(t, redisStore(t, redistest.Start(t)), newClock()) })
}

func TestTheLimitHoldsWithinAWindowAndResetsInTheNext(t *testing.T) {
	backends(t, func(t *testing.T, st store.Store, c *clock) {
		l := New(st, Options{Now: c.Now})
		ctx := context.Background()
		for i := 0; i < 3; i++ {
			if ok, _, err := l.Allow(ctx, "client:demo-rp", 3, time.Minute); !ok || err != nil {
				t.Fatalf("request %d refused: %v", i+1, err)
			}
		}
		ok, retry, err := l.Allow(ctx, "client:demo-rp", 3, time.Minute)
		if ok || err != nil || retry != 50*time.Second {
			t.Fatalf("4th = %v %v %v, want refused with 50s left in the window", ok, retry, err)
		}
		if ok, _, _ := l.Allow(ctx, "client:other", 3, time.Minute); !ok {
			t.Fatal("another key shares the counter")
		}
		c.Add(50 * time.Second)
		if ok, _, _ := l.Allow(ctx, "client:demo-rp", 3, time.Minute); !ok {
			t.Fatal("the next window is still limited")
		}
	})
}

func TestCountersExpireAfterTheirWindow(t *testing.T) {
	backends(t, func(t *testing.T, st store.Store, c *clock) {
		l := New(st, Options{Now: c.Now})
		if _, _, err := l.Allow(context.Background(), "k", 1, time.Minute); err != nil {
			t.Fatal(err)
		}
		ttl, err := st.TTL(context.Background(), counterKey("k", c.Now().UnixNano()/int64(time.Minute)))
		if err != nil || ttl <= 0 || ttl > time.Minute+time.Second {
			t.Fatalf("TTL = %v, %v; want at most window + 1s", ttl, err)
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
	k := counterKey("token|addr|192.0.2.1{x}", 7)
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

// Two broker instances on one Redis share each counter: 60 racing requests, limit 20, exactly
// 20 pass.
func TestTheLimitIsClusterWide(t *testing.T) {
	srv := redistest.Start(t)
	c := newClock()
	a, b := New(redisStore(t, srv), Options{Now: c.Now}), New(redisStore(t, srv), Options{Now: c.Now})
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
