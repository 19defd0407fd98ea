package pin

import (
	"errors"
	"testing"
	"time"

	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/internal/store/memory"
	"github.com/inps/sportello/internal/store/redis"
	"github.com/inps/sportello/internal/store/redistest"
	"github.com/inps/sportello/internal/store/storetest"
	"github.com/inps/sportello/providers"
)

// lostChange runs a change whose record write commits and whose answer is lost, and returns
// the request to send again.
func lostChange(t *testing.T, e *env, cut *storetest.CutStore, req ChangeRequest) ChangeRequest {
	t.Helper()
	cut.After(storetest.Once("CompareAndSwap", key(req.FiscalCode, "rec")))
	defer cut.After(nil)
	if _, err := e.svc.Change(ctx, req); !errors.Is(err, providers.ErrUnavailable) {
		t.Fatalf("change with its answer lost: %v, want ErrUnavailable", err)
	}
	return req
}

// noFailures asserts the account holds no lock and no failure.
func noFailures(t *testing.T, e *env, cf string) {
	t.Helper()
	until, err := e.svc.LockedUntil(ctx, cf)
	n, _ := e.store.Incr(ctx, key(cf, "web:fails"), 0, 0)
	if err != nil || !until.IsZero() || n != 0 {
		t.Fatalf("lock %v, %d failures (%v): the retry counted as a wrong PIN", until, n, err)
	}
}

// committedChangeRetries covers the retry of a committed PIN change over st.
func committedChangeRetries(t *testing.T, newStore func(t *testing.T, clock *storetest.Clock) store.Store) {
	setup := func(t *testing.T) (*env, *storetest.CutStore, string) {
		clock := storetest.NewClock(t0)
		cut := storetest.NewCutStore(newStore(t, clock))
		e := newEnvOn(t, cut, clock)
		return e, cut, e.requestPIN(t, person(cfOther))
	}
	first := func(pin string) ChangeRequest {
		return ChangeRequest{FiscalCode: cfOther, Current: pin, Next: "K7M2P9Q4", Browser: "browser-1"}
	}
	t.Run("the same form from the same browser is the success it was", func(t *testing.T) {
		e, cut, pin := setup(t)
		req := lostChange(t, e, cut, first(pin))
		e.clock.Advance(30 * time.Second)
		id, err := e.svc.Change(ctx, req)
		if err != nil || id.FiscalNumber != cfOther {
			t.Fatalf("retry: %+v %v", id, err)
		}
		noFailures(t, e, cfOther)
		if _, err := e.svc.Authenticate(ctx, cfOther, "K7M2P9Q4"); err != nil {
			t.Fatalf("the new PIN: %v", err)
		}
		// A second retry (its answer lost too) is recognised as well.
		if _, err := e.svc.Change(ctx, req); err != nil {
			t.Fatalf("second retry: %v", err)
		}
	})
	t.Run("a renewal retried is the success it was", func(t *testing.T) {
		e, cut, pin := setup(t)
		if _, err := e.svc.Change(ctx, first(pin)); err != nil {
			t.Fatal(err)
		}
		req := lostChange(t, e, cut, ChangeRequest{FiscalCode: cfOther, Current: "K7M2P9Q4", Next: "B4N8C2V6", Browser: "browser-1"})
		if _, err := e.svc.Change(ctx, req); err != nil {
			t.Fatalf("retry: %v", err)
		}
		noFailures(t, e, cfOther)
	})
	refused := []struct {
		name  string
		retry func(ChangeRequest) ChangeRequest
		wait  time.Duration
	}{
		{"another browser is a wrong PIN", func(r ChangeRequest) ChangeRequest { r.Browser = "browser-2"; return r }, 0},
		{"no browser is a wrong PIN", func(r ChangeRequest) ChangeRequest { r.Browser = ""; return r }, 0},
		{"another new PIN is a wrong PIN", func(r ChangeRequest) ChangeRequest { r.Next = "B4N8C2V6"; return r }, 0},
		{"a retry after the window is a wrong PIN", func(r ChangeRequest) ChangeRequest { return r }, 10*time.Minute + time.Second},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			e, cut, pin := setup(t)
			req := lostChange(t, e, cut, first(pin))
			e.clock.Advance(tt.wait)
			_, err := e.svc.Change(ctx, tt.retry(req))
			var wrong *WrongPINError
			if !errors.As(err, &wrong) || wrong.Failures != 1 {
				t.Fatalf("got %v, want a counted wrong PIN", err)
			}
		})
	}
	t.Run("a change whose marker cannot be written changes nothing", func(t *testing.T) {
		e, cut, pin := setup(t)
		cut.Before(func(op, k string) bool { return op == "Put" && k == changeKey(cfOther, "browser-1") })
		if _, err := e.svc.Change(ctx, first(pin)); !errors.Is(err, providers.ErrUnavailable) {
			t.Fatalf("got %v, want ErrUnavailable", err)
		}
		cut.Before(nil)
		if _, err := e.svc.Authenticate(ctx, cfOther, pin); !errors.Is(err, ErrFirstAccess) {
			t.Fatalf("the 16-character PIN must still work: %v", err)
		}
	})
}

func TestCommittedChangeRetryMemory(t *testing.T) {
	committedChangeRetries(t, func(t *testing.T, clock *storetest.Clock) store.Store {
		st := memory.New(memory.Options{Now: clock.Now})
		t.Cleanup(func() { st.Close() })
		return st
	})
}

// TestCommittedChangeRetryRedis runs the same over a real Redis.
func TestCommittedChangeRetryRedis(t *testing.T) {
	srv := redistest.Start(t)
	committedChangeRetries(t, func(t *testing.T, _ *storetest.Clock) store.Store {
		st, err := redis.New(ctx, redis.Options{URL: srv.URL, Prefix: srv.Prefix + redistest.UniquePrefix()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	})
}
