package storetest

import (
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inps/sportello/internal/store"
)

// racers is how many goroutines race on one key.
const racers = 50

// race runs fn in racers goroutines released together and waits for them.
func race(fn func(i int)) {
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range racers {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			fn(i)
		}()
	}
	start.Done()
	done.Wait()
}

var concurrencyRules = []rule{
	{"of many concurrent Takes exactly one gets the value", func(t *testing.T, h *harness) {
		h.put("code", "secret", time.Minute)
		var wins, misses atomic.Int32
		race(func(int) {
			v, err := h.s.Take(h.ctx, "code")
			switch {
			case err == nil && string(v) == "secret":
				wins.Add(1)
			case errors.Is(err, store.ErrNotFound):
				misses.Add(1)
			default:
				t.Errorf("Take = %q, %v", v, err)
			}
		})
		if wins.Load() != 1 || misses.Load() != racers-1 {
			t.Fatalf("%d winners and %d misses, want 1 and %d", wins.Load(), misses.Load(), racers-1)
		}
	}},
	{"of many concurrent PutIfAbsents exactly one succeeds", func(t *testing.T, h *harness) {
		var wins atomic.Int32
		var winner atomic.Int32
		race(func(i int) {
			ok, err := h.s.PutIfAbsent(h.ctx, "assertion-id", []byte{byte(i)}, time.Minute)
			if err != nil {
				t.Errorf("PutIfAbsent: %v", err)
			}
			if ok {
				wins.Add(1)
				winner.Store(int32(i))
			}
		})
		if wins.Load() != 1 {
			t.Fatalf("%d PutIfAbsent succeeded, want 1", wins.Load())
		}
		h.wantValue("assertion-id", string([]byte{byte(winner.Load())}))
	}},
	{"concurrent Updates of a JSON counter lose no increment", func(t *testing.T, h *harness) {
		type counter struct{ N int }
		race(func(int) {
			_, err := store.Update(h.ctx, h.s, "counter", time.Minute, func(old []byte) ([]byte, error) {
				var c counter
				if old != nil {
					if err := json.Unmarshal(old, &c); err != nil {
						return nil, err
					}
				}
				c.N++
				return json.Marshal(c)
			})
			if err != nil {
				t.Errorf("Update: %v", err)
			}
		})
		h.wantValue("counter", `{"N":50}`)
	}},
	{"concurrent Incrs lose no increment", func(t *testing.T, h *harness) {
		race(func(int) {
			if _, err := h.s.Incr(h.ctx, "fails", 1, time.Minute); err != nil {
				t.Errorf("Incr: %v", err)
			}
		})
		h.wantValue("fails", "50")
		h.wantTTL("fails", time.Minute)
	}},
}
