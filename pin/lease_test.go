package pin

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inps/sportello/broker/store"
	"github.com/inps/sportello/broker/store/memory"
	"github.com/inps/sportello/broker/store/redis"
	"github.com/inps/sportello/broker/store/redistest"
	"github.com/inps/sportello/broker/store/storetest"
	"github.com/inps/sportello/providers"
)

var errCut = errors.New("read tcp 127.0.0.1:6379: connection reset by peer")

// lostLease applies the first lease write and then answers as a cut connection does: with
// an error (lost reply), or with "not set" (the client retried the write its first try had
// applied). Releases fail while down is set, as they do while Redis is still away.
type lostLease struct {
	store.Store
	retried bool        // answer the applied write with (false, nil) instead of an error
	once    atomic.Bool // the first lease write has been answered
	down    atomic.Bool
}

func (s *lostLease) PutIfAbsent(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	if !strings.HasSuffix(key, ":lease") || s.once.Swap(true) {
		return s.Store.PutIfAbsent(ctx, key, value, ttl)
	}
	_, _ = s.Store.PutIfAbsent(ctx, key, value, ttl)
	if s.retried {
		return false, nil
	}
	return false, errCut
}

func (s *lostLease) CompareAndSwap(ctx context.Context, key string, old, next []byte, ttl time.Duration) (bool, error) {
	if s.down.Load() && strings.HasSuffix(key, ":lease") {
		return false, errCut
	}
	return s.Store.CompareAndSwap(ctx, key, old, next, ttl)
}

func leaseEnv(t *testing.T, st *lostLease) *env {
	t.Helper()
	clock := storetest.NewClock(t0)
	mem := memory.New(memory.Options{Now: clock.Now})
	t.Cleanup(func() { mem.Close() })
	st.Store = mem
	e := newEnvOn(t, st, clock)
	e.holder(t, cfAnna, "K7M2P9Q4", Citizen, Ordinario)
	return e
}

// A lease write whose answer a cut connection lost is released by the attempt that failed:
// the next attempt, once Redis answers, is verified instead of being told the account is busy
// for the lease's lifetime.
func TestALeaseWhoseAnswerWasLostDoesNotBlockTheAccount(t *testing.T) {
	e := leaseEnv(t, &lostLease{})
	if _, err := e.svc.Authenticate(ctx, cfAnna, "K7M2P9Q4"); !errors.Is(err, providers.ErrUnavailable) || !errors.Is(err, errCut) {
		t.Fatalf("attempt during the cut: %v, want unavailable", err)
	}
	if _, err := e.svc.Authenticate(ctx, cfAnna, "K7M2P9Q4"); err != nil {
		t.Fatalf("attempt once Redis answers: %v, want a login (the failed attempt's lease blocks it)", err)
	}
}

// The client's retry of a lease write its first try had applied answers "not set": the lease
// is the attempt's own (its token is there), not another attempt's.
func TestARetriedLeaseWriteIsTheAttemptsOwn(t *testing.T) {
	e := leaseEnv(t, &lostLease{retried: true})
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
	st := &lostLease{}
	st.down.Store(true)
	e := leaseEnv(t, st)
	if _, err := e.svc.Authenticate(ctx, cfAnna, "K7M2P9Q4"); !errors.Is(err, providers.ErrUnavailable) {
		t.Fatalf("attempt during the cut: %v", err)
	}
	st.down.Store(false)
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
	leaseKey := key(cfAnna, "web:lease")
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
