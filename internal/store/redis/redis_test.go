package redis_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/internal/store/redis"
	"github.com/inps/sportello/internal/store/redistest"
	"github.com/inps/sportello/internal/store/storetest"
)

// newStore opens a Store on srv with a prefix of its own, closed when t ends.
func newStore(t testing.TB, opts redis.Options) *redis.Store {
	t.Helper()
	s, err := redis.New(t.Context(), opts)
	if err != nil {
		t.Fatalf("redis.New: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	srv := redistest.Start(t)
	var n atomic.Int64
	storetest.Run(t, func(t *testing.T) store.Store {
		return newStore(t, redis.Options{URL: srv.URL, Prefix: srv.Prefix + strconv.FormatInt(n.Add(1), 10) + ":"})
	})
}

func TestConformanceWithDurableWrites(t *testing.T) {
	primary := redistest.StartProcess(t, "--repl-diskless-sync-delay", "0") // sync the replica at once
	redistest.StartProcess(t, "--replicaof", "127.0.0.1", strings.TrimPrefix(primary.Addr(), "127.0.0.1:"))
	waitForReplicas(t, primary.URL(), 1)
	var n atomic.Int64
	storetest.Run(t, func(t *testing.T) store.Store {
		return newStore(t, redis.Options{
			URL:          primary.URL(),
			Prefix:       "durable:" + strconv.FormatInt(n.Add(1), 10) + ":",
			WaitReplicas: 1,
			WaitTimeout:  5 * time.Second,
		})
	})
}

func TestDurableWriteFailsWithoutEnoughReplicas(t *testing.T) {
	srv := redistest.Start(t)
	s := newStore(t, redis.Options{URL: srv.URL, Prefix: srv.Prefix, WaitReplicas: 1, WaitTimeout: 50 * time.Millisecond})
	err := s.Put(t.Context(), "k", []byte("v"), 0)
	if !errors.Is(err, redis.ErrNotDurable) {
		t.Fatalf("Put with no replica: %v, want ErrNotDurable", err)
	}
	if v, err := s.Get(t.Context(), "k"); err != nil || string(v) != "v" {
		t.Fatalf("the primary should still hold the write: %q, %v", v, err)
	}
}

func TestPingFollowsTheServerDownAndBackUp(t *testing.T) {
	p := redistest.StartProcess(t)
	s := newStore(t, redis.Options{URL: p.URL()})
	ctx := t.Context()
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping on a running server: %v", err)
	}
	p.Stop()
	short, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := s.Ping(short); err == nil {
		t.Fatal("Ping succeeded with the server stopped")
	}
	p.Restart()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := s.Ping(ctx)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Ping after restart: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := s.Put(ctx, "k", []byte("v"), 0); err != nil {
		t.Fatalf("Put after restart: %v", err)
	}
}

func TestTwoStoresOnOneServerShareState(t *testing.T) {
	srv := redistest.Start(t)
	a := newStore(t, redis.Options{URL: srv.URL, Prefix: srv.Prefix})
	b := newStore(t, redis.Options{URL: srv.URL, Prefix: srv.Prefix})
	ctx := t.Context()
	if err := a.Put(ctx, "code:abc", []byte("grant"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if v, err := b.Take(ctx, "code:abc"); err != nil || string(v) != "grant" {
		t.Fatalf("second instance Take = %q, %v", v, err)
	}
	if _, err := a.Take(ctx, "code:abc"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("first instance Take after the second took it: %v, want ErrNotFound", err)
	}
	a.Incr(ctx, "fails", 1, time.Minute)
	if n, _ := b.Incr(ctx, "fails", 1, time.Minute); n != 2 {
		t.Fatalf("shared counter = %d, want 2", n)
	}
}

func TestEveryKeyIsPrefixed(t *testing.T) {
	srv := redistest.Start(t)
	s := newStore(t, redis.Options{URL: srv.URL, Prefix: srv.Prefix})
	ctx := t.Context()
	if err := s.Put(ctx, "pin:{RSSMRA80A01H501U}:lock", []byte("1"), 0); err != nil {
		t.Fatal(err)
	}
	keys, err := s.Client().Keys(ctx, srv.Prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0] != srv.Prefix+"pin:{RSSMRA80A01H501U}:lock" {
		t.Fatalf("keys = %q", keys)
	}
}

func TestDefaultPrefixIsSportello(t *testing.T) {
	p := redistest.StartProcess(t)
	s := newStore(t, redis.Options{Addrs: []string{p.Addr()}})
	if err := s.Put(t.Context(), "k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Client().Get(t.Context(), "sportello:k").Result(); err != nil || v != "v" {
		t.Fatalf("sportello:k = %q, %v", v, err)
	}
}

func TestOptionsAreValidated(t *testing.T) {
	for name, opts := range map[string]redis.Options{
		"no server named":         {},
		"URL and Addrs together":  {URL: "redis://127.0.0.1:1", Addrs: []string{"127.0.0.1:1"}},
		"a prefix with braces":    {URL: "redis://127.0.0.1:1", Prefix: "app{x}:"},
		"an unknown URL scheme":   {URL: "http://127.0.0.1:1"},
		"a negative WaitReplicas": {URL: "redis://127.0.0.1:1", WaitReplicas: -1},
	} {
		t.Run(name, func(t *testing.T) {
			if s, err := redis.New(t.Context(), opts); err == nil {
				s.Close()
				t.Fatal("accepted")
			}
		})
	}
}

func TestErrorsNeverShowThePassword(t *testing.T) {
	p := redistest.StartProcess(t, "--requirepass", "right-pass")
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	for name, opts := range map[string]redis.Options{
		"wrong password in the URL":         {URL: "redis://:s3cr%3At-pw@" + p.Addr()},
		"wrong password in the options":     {URL: p.URL(), Password: "s3cr:t-pw"},
		"URL that does not parse":           {URL: "redis://user:s3cr:t-pw@host:port:x/"},
		"unknown parameter with a password": {URL: "redis://:s3cr:t-pw@" + p.Addr() + "/?bogus=1"},
		"unreachable server":                {URL: "redis://:s3cr:t-pw@127.0.0.1:1"},
	} {
		t.Run(name, func(t *testing.T) {
			s, err := redis.New(ctx, opts)
			if err == nil {
				s.Close()
				t.Fatal("connected with a wrong password")
			}
			if strings.Contains(err.Error(), "s3cr") {
				t.Fatalf("error shows the password: %v", err)
			}
		})
	}
	s := newStore(t, redis.Options{URL: p.URL(), Password: "right-pass"})
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("right password: %v", err)
	}
}

func TestInjectedClientIsNotClosed(t *testing.T) {
	srv := redistest.Start(t)
	owner := newStore(t, redis.Options{URL: srv.URL, Prefix: srv.Prefix})
	s := newStore(t, redis.Options{Client: owner.Client(), Prefix: srv.Prefix})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := owner.Ping(t.Context()); err != nil {
		t.Fatalf("the injected client was closed: %v", err)
	}
}

// waitForReplicas waits until the primary at url reports n connected replicas in sync.
func waitForReplicas(t *testing.T, url string, n int) {
	t.Helper()
	s := newStore(t, redis.Options{URL: url})
	deadline := time.Now().Add(15 * time.Second)
	for {
		info, err := s.Client().Info(t.Context(), "replication").Result()
		if err == nil && strings.Contains(info, "connected_slaves:"+strconv.Itoa(n)) && strings.Contains(info, "state=online") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica not in sync: %v\n%s", err, info)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func BenchmarkRedis(b *testing.B) {
	srv := redistest.Start(b)
	s := newStore(b, redis.Options{URL: srv.URL, Prefix: srv.Prefix})
	storetest.Bench(b, s)
}
