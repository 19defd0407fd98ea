package storetest

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/inps/sportello/internal/store"
)

// realTTL is the ttl the expiry rules use when the suite has to wait for real: short enough to
// keep the suite fast, long enough that the "still there before expiry" checks hold on a busy
// machine.
const realTTL = 500 * time.Millisecond

// Run runs the conformance suite. newStore must return a fresh, empty store for each subtest
// (or one isolated by a key prefix) and arrange its Close with t.Cleanup; it is called from
// parallel subtests, so it must be safe for concurrent use.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Helper()
	groups := []struct {
		name  string
		rules []rule
	}{
		{"basic", basicRules},
		{"take", takeRules},
		{"put-if-absent", putIfAbsentRules},
		{"compare-and-swap", casRules},
		{"incr", incrRules},
		{"throttle", throttleRules},
		{"ttl", ttlRules},
		{"keys-and-values", keyValueRules},
		{"expiry", expiryRules},
		{"lifecycle", lifecycleRules},
		{"concurrency", concurrencyRules},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			for _, r := range g.rules {
				t.Run(r.name, func(t *testing.T) {
					t.Parallel()
					r.run(t, newHarness(t, newStore(t)))
				})
			}
		})
	}
}

// rule is one named behaviour of the contract.
type rule struct {
	name string
	run  func(t *testing.T, h *harness)
}

// harness wraps the store under test with assertion helpers.
type harness struct {
	t   *testing.T
	s   store.Store
	ctx context.Context
	adv Advancer // nil: the suite must sleep
}

func newHarness(t *testing.T, s store.Store) *harness {
	h := &harness{t: t, s: s, ctx: t.Context()}
	h.adv, _ = s.(Advancer)
	return h
}

// wait lets d pass: by moving the clock when the store allows it, by sleeping otherwise.
func (h *harness) wait(d time.Duration) {
	if h.adv != nil {
		h.adv.Advance(d)
		return
	}
	time.Sleep(d)
}

// expiryTTL is the ttl used by rules that need keys to expire.
func (h *harness) expiryTTL() time.Duration {
	if h.adv != nil {
		return time.Hour
	}
	return realTTL
}

func (h *harness) put(key, value string, ttl time.Duration) {
	h.t.Helper()
	if err := h.s.Put(h.ctx, key, []byte(value), ttl); err != nil {
		h.t.Fatalf("Put(%q): %v", key, err)
	}
}

// wantValue checks that key holds value.
func (h *harness) wantValue(key, value string) {
	h.t.Helper()
	got, err := h.s.Get(h.ctx, key)
	if err != nil {
		h.t.Fatalf("Get(%q): %v, want %q", key, err, value)
	}
	if got == nil || !bytes.Equal(got, []byte(value)) {
		h.t.Fatalf("Get(%q) = %q (nil: %t), want %q", key, got, got == nil, value)
	}
}

// wantAbsent checks that Get and TTL of key report store.ErrNotFound.
func (h *harness) wantAbsent(key string) {
	h.t.Helper()
	if got, err := h.s.Get(h.ctx, key); !errors.Is(err, store.ErrNotFound) {
		h.t.Fatalf("Get(%q) = %q, %v; want ErrNotFound", key, got, err)
	}
	if got, err := h.s.TTL(h.ctx, key); !errors.Is(err, store.ErrNotFound) {
		h.t.Fatalf("TTL(%q) = %v, %v; want ErrNotFound", key, got, err)
	}
}

// wantTTL checks the remaining ttl of key: exactly want with a movable clock, within a second
// below want otherwise (Redis counts milliseconds and time passes).
func (h *harness) wantTTL(key string, want time.Duration) {
	h.t.Helper()
	got, err := h.s.TTL(h.ctx, key)
	if err != nil {
		h.t.Fatalf("TTL(%q): %v", key, err)
	}
	if want == 0 || h.adv != nil {
		if got != want {
			h.t.Fatalf("TTL(%q) = %v, want %v", key, got, want)
		}
		return
	}
	if got <= want-time.Second || got > want {
		h.t.Fatalf("TTL(%q) = %v, want just under %v", key, got, want)
	}
}

func (h *harness) cas(key string, old, next []byte, ttl time.Duration) bool {
	h.t.Helper()
	ok, err := h.s.CompareAndSwap(h.ctx, key, old, next, ttl)
	if err != nil {
		h.t.Fatalf("CompareAndSwap(%q): %v", key, err)
	}
	return ok
}

func (h *harness) putIfAbsent(key, value string, ttl time.Duration) bool {
	h.t.Helper()
	ok, err := h.s.PutIfAbsent(h.ctx, key, []byte(value), ttl)
	if err != nil {
		h.t.Fatalf("PutIfAbsent(%q): %v", key, err)
	}
	return ok
}

func (h *harness) incr(key string, delta int64, ttl time.Duration) int64 {
	h.t.Helper()
	n, err := h.s.Incr(h.ctx, key, delta, ttl)
	if err != nil {
		h.t.Fatalf("Incr(%q, %d): %v", key, delta, err)
	}
	return n
}
