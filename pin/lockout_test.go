package pin

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/internal/store/memory"
	"github.com/inps/sportello/internal/store/redis"
	"github.com/inps/sportello/internal/store/redistest"
	"github.com/inps/sportello/internal/store/storetest"
	"github.com/inps/sportello/providers"
)

func lockOf(t *testing.T, err error) time.Duration {
	t.Helper()
	var le *providers.LockedError
	if !errors.As(err, &le) {
		t.Fatalf("got %v, want a lock", err)
	}
	return le.Until.Sub(t0)
}

func TestProgressiveLockout(t *testing.T) {
	tests := []struct {
		name     string
		errors   int
		wantLock time.Duration
	}{
		{"PIN locked 3 minutes after the first error", 1, 3 * time.Minute},
		{"PIN locked 6 minutes after the second error", 2, 6 * time.Minute},
		{"PIN locked 9 minutes after the third error", 3, 9 * time.Minute},
		{"PIN locked 60 minutes after the twentieth error", 20, 60 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.holder(t, cfAnna, "K7M2P9Q4", Citizen, Ordinario)
			var last error
			for i := 0; i < tt.errors; i++ {
				if until, _ := e.svc.LockedUntil(ctx, cfAnna); !until.IsZero() {
					e.clock.Advance(until.Sub(e.clock.Now()))
				}
				_, last = e.svc.Authenticate(ctx, cfAnna, "WRONG123")
				if !errors.Is(last, providers.ErrBadCredentials) {
					t.Fatalf("error %d: %v", i+1, last)
				}
			}
			var le *providers.LockedError
			if !errors.As(last, &le) || le.Until.Sub(e.clock.Now()) != tt.wantLock {
				t.Fatalf("lock after %d errors: %v, want %v", tt.errors, last, tt.wantLock)
			}
			// The right PIN during the lock is refused, and costs no hashing.
			e.clock.Advance(tt.wantLock - time.Second)
			before := e.svc.Hashes()
			if _, err := e.svc.Authenticate(ctx, cfAnna, "K7M2P9Q4"); !errors.As(err, &le) {
				t.Fatalf("right PIN during the lock: %v, want LockedError", err)
			}
			if e.svc.Hashes() != before {
				t.Fatal("a locked attempt ran Argon2id")
			}
			// After the lock the right PIN works and clears the counter.
			e.clock.Advance(time.Second)
			if _, err := e.svc.Authenticate(ctx, cfAnna, "K7M2P9Q4"); err != nil {
				t.Fatalf("right PIN after the lock: %v", err)
			}
			_, err := e.svc.Authenticate(ctx, cfAnna, "WRONG123")
			if lockOf(t, err) != e.clock.Now().Sub(t0)+3*time.Minute {
				t.Fatalf("counter not reset by the right PIN: %v", err)
			}
		})
	}
}

func TestLockedAccountRunsNoArgon2(t *testing.T) {
	e := newEnv(t)
	e.holder(t, cfAnna, "K7M2P9Q4", Citizen, Ordinario)
	e.svc.Authenticate(ctx, cfAnna, "WRONG123")
	before := e.svc.Hashes()
	for i := 0; i < 100; i++ {
		if _, err := e.svc.Authenticate(ctx, cfAnna, "WRONG123"); !errors.Is(err, providers.ErrBadCredentials) {
			t.Fatal(err)
		}
	}
	if got := e.svc.Hashes() - before; got != 0 {
		t.Fatalf("%d Argon2id computations on a locked account, want 0", got)
	}
}

func TestUnknownFiscalCodeLooksLikeAWrongPIN(t *testing.T) {
	e := newEnv(t)
	before := e.svc.Hashes()
	_, err := e.svc.Authenticate(ctx, cfOther, "K7M2P9Q4")
	var w *WrongPINError
	if !errors.As(err, &w) || lockOf(t, err) != 3*time.Minute {
		t.Fatalf("got %v", err)
	}
	if e.svc.Hashes()-before != 1 {
		t.Fatal("an unknown fiscal code must cost one hash, like a wrong PIN")
	}
}

// lockState reads what a series of attempts left in the store.
func lockState(t *testing.T, s *Service) (time.Time, int64) {
	until, err := s.LockedUntil(ctx, cfAnna)
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.store.Incr(ctx, key(cfAnna, "web:fails"), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return until, n
}

// concurrentWrongPINs sends 20 wrong PINs at once through two Services over st and returns the
// lock left, next to the one 20 serial wrong PINs leave on a fresh store.
func concurrentWrongPINs(t *testing.T, st store.Store, clock *storetest.Clock) {
	a := newEnvOn(t, st, clock)
	b := newEnvOn(t, st, clock)
	a.holder(t, cfAnna, "K7M2P9Q4", Citizen, Ordinario)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < 20; i++ {
		svc := a.svc
		if i%2 == 1 {
			svc = b.svc
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if _, err := svc.Authenticate(ctx, cfAnna, "WRONG123"); !errors.Is(err, providers.ErrBadCredentials) {
				t.Errorf("concurrent wrong PIN: %v", err)
			}
		}()
	}
	close(start)
	wg.Wait()
	gotUntil, gotFails := lockState(t, a.svc)

	serial := newEnv(t)
	serial.holder(t, cfAnna, "K7M2P9Q4", Citizen, Ordinario)
	for i := 0; i < 20; i++ {
		serial.svc.Authenticate(ctx, cfAnna, "WRONG123")
	}
	wantUntil, wantFails := lockState(t, serial.svc)
	if !gotUntil.Equal(wantUntil) || gotFails != wantFails {
		t.Fatalf("20 concurrent wrong PINs left lock %v (%d errors), 20 serial ones %v (%d errors)",
			gotUntil.Sub(t0), gotFails, wantUntil.Sub(t0), wantFails)
	}
	if hashes := a.svc.Hashes() + b.svc.Hashes(); hashes > 2 { // 1 for the fixture, 1 attempt
		t.Fatalf("%d Argon2id computations for 20 concurrent attempts: the lock was bypassed", hashes)
	}
}

func TestConcurrentWrongPINsMemory(t *testing.T) {
	clock := storetest.NewClock(t0)
	st := memory.New(memory.Options{Now: clock.Now})
	defer st.Close()
	concurrentWrongPINs(t, st, clock)
}

// TestConcurrentWrongPINsRedis runs the same race through two Services over one real Redis.
func TestConcurrentWrongPINsRedis(t *testing.T) {
	srv := redistest.Start(t)
	st, err := redis.New(ctx, redis.Options{URL: srv.URL, Prefix: srv.Prefix})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	concurrentWrongPINs(t, st, storetest.NewClock(t0))
}
