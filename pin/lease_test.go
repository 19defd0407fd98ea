package pin

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/internal/store/memory"
	"github.com/inps/sportello/internal/store/redis"
	"github.com/inps/sportello/internal/store/redistest"
	"github.com/inps/sportello/internal/store/storetest"
	"github.com/inps/sportello/providers"
)

// retriedLease answers the first lease write, which it applies, with "not set": what the
// client's retry of a write whose first try ran but lost its answer gets back.
type retriedLease struct {
	store.Store
	once atomic.Bool
}

func (s *retriedLease) PutIfAbsent(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	ok, err := s.Store.PutIfAbsent(ctx, key, value, ttl)
	if strings.HasSuffix(key, ":lease") && !s.once.Swap(true) {
		return false, err
	}
	return ok, err
}

var leaseAnna = key(cfAnna, "web:lease")

// leaseEnv is Anna's active PIN on a memory store seen through wrap.
func leaseEnv(t *testing.T, wrap func(store.Store) store.Store) *env {
	t.Helper()
	clock := storetest.NewClock(t0)
	mem := memory.New(memory.Options{Now: clock.Now})
	t.Cleanup(func() { mem.Close() })
	e := newEnvOn(t, wrap(mem), clock)
	e.holder(t, cfAnna, "K7M2P9Q4", Citizen, Ordinario)
	return e
}

// A lease write whose answer a cut connection lost is released by the attempt that failed:
// the next attempt, once Redis answers, is verified instead of being told the account is busy
// for the lease's lifetime.
func TestALeaseWhoseAnswerWasLostDoesNotBlockTheAccount(t *testing.T) {
	e := leaseEnv(t, func(s store.Store) store.Store {
		cs := storetest.NewCutStore(s)
		cs.After(storetest.Once("PutIfAbsent", leaseAnna))
		return cs
	})
	if _, err := e.svc.Authenticate(ctx, cfAnna, "K7M2P9Q4"); !errors.Is(err, providers.ErrUnavailable) || !errors.Is(err, storetest.ErrCut) {
		t.Fatalf("attempt during the cut: %v, want unavailable", err)
	}
	if _, err := e.svc.Authenticate(ctx, cfAnna, "K7M2P9Q4"); err != nil {
		t.Fatalf("attempt once Redis answers: %v, want a login (the failed attempt's lease blocks it)", err)
	}
}

// The client's retry of a lease write its first try had applied answers "not set": the lease
// is the attempt's own (its token is there), not another attempt's.
func TestARetriedLeaseWriteIsTheAttemptsOwn(t *testing.T) {
	e := leaseEnv(t, func(s store.Store) store.Store { return &retriedLease{Store: s} })
	if _, err := e.svc.Authenticate(ctx, cfAnna, "K7M2P9Q4"); err != nil {
		t.Fatalf("attempt whose lease write was retried: %v, want a login", err)
	}
	if _, err := e.store.Get(ctx, key(cfAnna, "web:lease")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the lease was not released: %v", err)
	}
}

// A lease nobody could release (Redis still away when the attempt ended) ends with its ttl:
// the account is busy for at most AttemptLease, then usable.
func TestALeaseNobodyReleasedEndsWithItsTTL(t *testing.T) {
	var cs *storetest.CutStore
	e := leaseEnv(t, func(s store.Store) store.Store {
		cs = storetest.NewCutStore(s)
		cs.After(storetest.Once("PutIfAbsent", leaseAnna))
		cs.Before(func(op, key string) bool { return op == "CompareAndSwap" && key == leaseAnna }) // still down
		return cs
	})
	if _, err := e.svc.Authenticate(ctx, cfAnna, "K7M2P9Q4"); !errors.Is(err, providers.ErrUnavailable) {
		t.Fatalf("attempt during the cut: %v", err)
	}
	cs.Before(nil) // Redis answers again
	if _, err := e.svc.Authenticate(ctx, cfAnna, "K7M2P9Q4"); !errors.Is(err, ErrBusy) {
		t.Fatalf("attempt within the lease: %v, want busy", err)
	}
	e.clock.Advance(e.svc.cfg.AttemptLease)
	if _, err := e.svc.Authenticate(ctx, cfAnna, "K7M2P9Q4"); err != nil {
		t.Fatalf("attempt after the lease's ttl: %v, want a login", err)
	}
}

// An attempt never releases another attempt's lease, even when its own has expired meanwhile.
func TestAnAttemptReleasesOnlyItsOwnLease(t *testing.T) {
	e := newEnv(t)
	leaseKey := leaseAnna
	release, err := e.svc.acquireLease(ctx, leaseKey)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(e.svc.cfg.AttemptLease) // ours expires; another attempt takes the lease
	other, err := e.svc.acquireLease(ctx, leaseKey)
	if err != nil {
		t.Fatal(err)
	}
	release()
	if _, err := e.svc.acquireLease(ctx, leaseKey); !errors.Is(err, ErrBusy) {
		t.Fatalf("after the first attempt released: %v, want the second's lease still held", err)
	}
	other()
}

// On Redis with durable writes and no replica acknowledging (WAIT short): the lease write is
// applied and reported not durable. Once the replica is back, the account is not busy.
func TestLeaseOnRedisAfterAnUnacknowledgedWrite(t *testing.T) {
	p := redistest.StartProcess(t)
	prefix := redistest.UniquePrefix()
	durable, err := redis.New(t.Context(), redis.Options{URL: p.URL(), Prefix: prefix, WaitReplicas: 1, WaitTimeout: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = durable.Close() })
	clock := storetest.NewClock(t0)
	plain, err := redis.New(t.Context(), redis.Options{URL: p.URL(), Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = plain.Close() })
	ok := newEnvOn(t, plain, clock)
	ok.holder(t, cfAnna, "K7M2P9Q4", Citizen, Ordinario)
	short := newEnvOn(t, durable, clock)
	if _, err := short.svc.Authenticate(ctx, cfAnna, "K7M2P9Q4"); !errors.Is(err, redis.ErrNotDurable) {
		t.Fatalf("attempt without replicas: %v, want not durable", err)
	}
	if _, err := ok.svc.Authenticate(ctx, cfAnna, "K7M2P9Q4"); err != nil {
		t.Fatalf("attempt with the replica back: %v, want a login", err)
	}
}
