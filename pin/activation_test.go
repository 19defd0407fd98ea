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

var wrongCard = HealthCard{Number: "80380000000000000999", Expiry: "2030-12-31"}

// activationFailure asserts err is a refused activation that locked until t0+lock.
func activationFailure(t *testing.T, err error, now time.Time, lock time.Duration) {
	t.Helper()
	var ae *ActivationError
	var le *providers.LockedError
	if !errors.As(err, &ae) || !errors.As(err, &le) || !errors.Is(err, providers.ErrBadCredentials) {
		t.Fatalf("got %v, want an ActivationError with its lock", err)
	}
	if got := ae.Until.Sub(now); got != lock {
		t.Fatalf("lock %v after the failure, want %v", got, lock)
	}
}

// activationLockout runs the activation lockout through two Services (two broker instances)
// over st: failures on one lock the other, and activations and wrong PINs share one counter.
func activationLockout(t *testing.T, st store.Store, clock *storetest.Clock) {
	a := newEnvOn(t, st, clock)
	b := newEnvOn(t, st, clock)
	pin := a.requestPIN(t, person(cfOther))
	right := *person(cfOther).HealthCard

	activationFailure(t, a.svc.Activate(ctx, cfOther, wrongCard), clock.Now(), 3*time.Minute)
	// Locked on every instance, for the right card data and for the right PIN alike.
	before := b.svc.Hashes()
	var le *providers.LockedError
	if err := b.svc.Activate(ctx, cfOther, right); !errors.As(err, &le) || errors.As(err, new(*ActivationError)) {
		t.Fatalf("right card during the lock: %v, want LockedError", err)
	}
	if _, err := b.svc.Authenticate(ctx, cfOther, pin); !errors.As(err, &le) {
		t.Fatalf("right PIN during the lock: %v, want LockedError", err)
	}
	if b.svc.Hashes() != before {
		t.Fatal("a locked account ran Argon2id")
	}
	if v, _ := a.svc.Show(ctx, "op", cfOther); v.State != Issued {
		t.Fatalf("a locked activation changed the state to %s", v.State)
	}
	// The second failure, on the other instance, adds 3 minutes: the counter is shared.
	clock.Advance(3 * time.Minute)
	activationFailure(t, b.svc.Activate(ctx, cfOther, wrongCard), clock.Now(), 6*time.Minute)
	// A wrong PIN counts on the same counter.
	clock.Advance(6 * time.Minute)
	if _, err := a.svc.Authenticate(ctx, cfOther, "K7M2P9Q4"); lockOf(t, err) != clock.Now().Sub(t0)+9*time.Minute {
		t.Fatalf("wrong PIN after two failed activations: %v, want a 9-minute lock", err)
	}
	// The right card data activate, but do not clear the counter: only the right PIN does.
	clock.Advance(9 * time.Minute)
	if err := a.svc.Activate(ctx, cfOther, right); err != nil {
		t.Fatalf("right card after the lock: %v", err)
	}
	activationFailure(t, b.svc.Activate(ctx, cfOther, wrongCard), clock.Now(), 12*time.Minute)
	clock.Advance(12 * time.Minute)
	if _, err := a.svc.Authenticate(ctx, cfOther, pin); !errors.Is(err, ErrFirstAccess) {
		t.Fatalf("right PIN: %v", err)
	}
	activationFailure(t, a.svc.Activate(ctx, cfOther, wrongCard), clock.Now(), 3*time.Minute)
}

func TestActivationFailuresLockMemory(t *testing.T) {
	clock := storetest.NewClock(t0)
	st := memory.New(memory.Options{Now: clock.Now})
	defer st.Close()
	activationLockout(t, st, clock)
}

// TestActivationFailuresLockRedis runs the same through two Services over one real Redis.
func TestActivationFailuresLockRedis(t *testing.T) {
	srv := redistest.Start(t)
	st, err := redis.New(ctx, redis.Options{URL: srv.URL, Prefix: srv.Prefix})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	activationLockout(t, st, storetest.NewClock(t0))
}

// An activation answers the same whether the fiscal code has a PIN awaiting activation, an
// active PIN, or none; only the holder of an existing PIN hears of it, on the registered
// contacts, once per notice interval.
func TestActivationAnswersTheSameForEveryone(t *testing.T) {
	e := newEnv(t)
	e.requestPIN(t, person(cfOther))                    // issued, awaiting activation
	e.holder(t, cfAnna, "K7M2P9Q4", Citizen, Ordinario) // active
	const cfNone = "RCCMNL83S18D969H"                   // no PIN at all
	var answers []string
	for _, cf := range []string{cfOther, cfAnna, cfNone} {
		n := len(e.out.msgs)
		err := e.svc.Activate(ctx, cf, wrongCard)
		activationFailure(t, err, t0, 3*time.Minute)
		answers = append(answers, err.Error())
		sent := e.out.msgs[n:]
		if cf == cfNone {
			if len(sent) != 0 {
				t.Fatalf("messages sent for a fiscal code without a PIN: %+v", sent)
			}
			continue
		}
		rec, _ := e.svc.loadRecord(ctx, cf)
		want := map[string]string{"email": rec.Contacts.Email, "sms": rec.Contacts.Mobile}
		if len(sent) != len(want) {
			t.Fatalf("%s: notices %+v, want e-mail and SMS to the registered contacts", cf, sent)
		}
		for _, m := range sent {
			if want[m.Channel] != m.To {
				t.Fatalf("%s: notice %+v not to the registered %s", cf, m, m.Channel)
			}
		}
	}
	if answers[0] != answers[1] || answers[1] != answers[2] {
		t.Fatalf("the answers differ:\n%s", answers)
	}
	t.Run("one notice per interval", func(t *testing.T) {
		e.clock.Advance(3 * time.Minute)
		n := len(e.out.msgs)
		activationFailure(t, e.svc.Activate(ctx, cfAnna, wrongCard), e.clock.Now(), 6*time.Minute)
		if len(e.out.msgs) != n {
			t.Fatal("a second notice within the hour")
		}
		e.clock.Advance(time.Hour)
		e.svc.Activate(ctx, cfAnna, wrongCard)
		if len(e.out.msgs) != n+2 {
			t.Fatal("no notice after the interval")
		}
	})
}
