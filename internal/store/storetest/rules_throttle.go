package storetest

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inps/sportello/internal/store"
)

// throttle calls Throttle and fails the test on an error.
func (h *harness) throttle(key string, rate store.Rate) (bool, time.Duration) {
	h.t.Helper()
	ok, retry, err := h.s.Throttle(h.ctx, key, rate)
	if err != nil {
		h.t.Fatalf("Throttle(%q, %+v): %v", key, rate, err)
	}
	return ok, retry
}

// wantRetry checks a refusal's wait: exactly want with a movable clock; otherwise within the
// time the test may have taken since the bucket was filled (Redis counts on its own clock).
func (h *harness) wantRetry(got, want time.Duration) {
	h.t.Helper()
	if h.adv != nil {
		if got != want {
			h.t.Fatalf("retry after %v, want %v", got, want)
		}
		return
	}
	if got <= want-time.Second || got > want {
		h.t.Fatalf("retry after %v, want just under %v", got, want)
	}
}

var throttleRules = []rule{
	{"Throttle lets Limit requests through at once, then refuses with the time to the next", func(t *testing.T, h *harness) {
		rate := store.Rate{Limit: 3, Period: time.Minute}
		for i := range 3 {
			if ok, _ := h.throttle("client:a", rate); !ok {
				t.Fatalf("request %d of the burst refused", i+1)
			}
		}
		ok, retry := h.throttle("client:a", rate)
		if ok {
			t.Fatal("the request after the burst passed")
		}
		h.wantRetry(retry, 20*time.Second) // one interval: a minute / 3
	}},
	{"Throttle refusals are not counted, and one request passes per interval", func(t *testing.T, h *harness) {
		rate := store.Rate{Limit: 2, Period: 2 * time.Second} // one every second
		h.throttle("k", rate)
		h.throttle("k", rate)
		var retry time.Duration
		for range 5 {
			var ok bool
			if ok, retry = h.throttle("k", rate); ok {
				t.Fatal("passed past the burst")
			}
		}
		h.wantRetry(retry, time.Second)
		h.wait(retry + 20*time.Millisecond)
		if ok, _ := h.throttle("k", rate); !ok {
			t.Fatal("refused after waiting the retry time: refusals were counted")
		}
		if ok, _ := h.throttle("k", rate); ok {
			t.Fatal("two passed in one interval")
		}
	}},
	{"Throttle keys are independent", func(t *testing.T, h *harness) {
		rate := store.Rate{Limit: 1, Period: time.Minute}
		if ok, _ := h.throttle("a", rate); !ok {
			t.Fatal("first of a refused")
		}
		if ok, _ := h.throttle("b", rate); !ok {
			t.Fatal("b shares a's bucket")
		}
		if ok, _ := h.throttle("a", rate); ok {
			t.Fatal("second of a passed")
		}
	}},
	{"Throttle keys expire once a full burst is allowed again", func(t *testing.T, h *harness) {
		rate := store.Rate{Limit: 10, Period: time.Minute}
		h.throttle("k", rate)
		h.throttle("k", rate)
		h.wantTTL("k", 12*time.Second) // two intervals of 6s
		if h.adv != nil {
			h.wait(12 * time.Second)
			h.wantAbsent("k")
		}
	}},
	{"Throttle on a key that holds something else fails", func(t *testing.T, h *harness) {
		h.put("k", "not a time", 0)
		if ok, _, err := h.s.Throttle(h.ctx, "k", store.Rate{Limit: 1, Period: time.Minute}); err == nil || ok {
			t.Fatalf("Throttle = %v, %v; want an error", ok, err)
		}
		h.wantValue("k", "not a time")
	}},
	{"Throttle refuses a rate it cannot enforce", func(t *testing.T, h *harness) {
		for _, r := range []store.Rate{{Limit: 0, Period: time.Minute}, {Limit: -1, Period: time.Minute}, {Limit: 5}, {Limit: 5, Period: time.Microsecond}} {
			if ok, _, err := h.s.Throttle(h.ctx, "k", r); !errors.Is(err, store.ErrBadRate) || ok {
				t.Errorf("Throttle(%+v) = %v, %v; want ErrBadRate", r, ok, err)
			}
		}
		h.wantAbsent("k")
	}},
	{"of many concurrent Throttles exactly Limit pass", func(t *testing.T, h *harness) {
		var passed atomic.Int32
		race(func(int) {
			ok, _, err := h.s.Throttle(h.ctx, "burst", store.Rate{Limit: 20, Period: time.Hour})
			if err != nil {
				t.Errorf("Throttle: %v", err)
			}
			if ok {
				passed.Add(1)
			}
		})
		if passed.Load() != 20 {
			t.Fatalf("%d passed, want 20", passed.Load())
		}
	}},
}
