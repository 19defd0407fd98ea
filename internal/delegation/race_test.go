package delegation

import (
	"errors"
	"sync"
	"testing"

	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/internal/store/memory"
	"github.com/inps/sportello/internal/store/redis"
	"github.com/inps/sportello/internal/store/redistest"
	"github.com/inps/sportello/internal/store/storetest"
)

// race registers reqs concurrently, each through its own Registry on st (as replicas do), and
// returns how many succeeded and the errors of the others.
func race(t *testing.T, st store.Store, clock *storetest.Clock, reqs []Request) (int, []error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, len(reqs))
	start := make(chan struct{})
	for i, req := range reqs {
		reg := newFixtureOn(t, st, clock).reg
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = reg.Register(ctx, req)
		}()
	}
	close(start)
	wg.Wait()
	ok := 0
	var failed []error
	for _, err := range errs {
		if err == nil {
			ok++
		} else {
			failed = append(failed, err)
		}
	}
	return ok, failed
}

func activeCount(t *testing.T, reg *Registry, list func() ([]Delegation, error)) int {
	t.Helper()
	ds, err := list()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range ds {
		if d.ActiveAt(reg.Now()) {
			n++
		}
	}
	return n
}

// racingRules are the concurrency rules, run on every Store.
func racingRules(t *testing.T, newStore func(t *testing.T, clock *storetest.Clock) store.Store) {
	t.Run("two registrations racing for a delegate's last slot: exactly one succeeds", func(t *testing.T) {
		for round := range 5 {
			clock := storetest.NewClock(t0)
			st := newStore(t, clock)
			f := newFixtureOn(t, st, clock)
			D := cf(500 + round)
			f.must(t, online(cf(0), D))
			f.must(t, online(cf(1), D))
			ok, errs := race(t, st, clock, []Request{online(cf(2), D), online(cf(3), D)})
			if ok != 1 || len(errs) != 1 || !errors.Is(errs[0], ErrLimitDelegate) {
				t.Fatalf("round %d: %d succeeded, errors %v", round, ok, errs)
			}
			if n := activeCount(t, f.reg, func() ([]Delegation, error) { return f.reg.Received(ctx, D) }); n != MaxPerDelegate {
				t.Fatalf("delegate holds %d", n)
			}
		}
	})
	t.Run("20 delegators racing for a delegate with 2 free slots: exactly 2 succeed", func(t *testing.T) {
		clock := storetest.NewClock(t0)
		st := newStore(t, clock)
		f := newFixtureOn(t, st, clock)
		D := cf(600)
		f.must(t, online(cf(0), D))
		var reqs []Request
		for i := range 20 {
			reqs = append(reqs, online(cf(100+i), D))
		}
		ok, errs := race(t, st, clock, reqs)
		if ok != 2 {
			t.Fatalf("%d succeeded", ok)
		}
		for _, err := range errs {
			if !errors.Is(err, ErrLimitDelegate) {
				t.Fatalf("unexpected error %v", err)
			}
		}
		if n := activeCount(t, f.reg, func() ([]Delegation, error) { return f.reg.Received(ctx, D) }); n != MaxPerDelegate {
			t.Fatalf("delegate holds %d", n)
		}
	})
	t.Run("one delegator racing to 20 delegates: exactly one succeeds", func(t *testing.T) {
		clock := storetest.NewClock(t0)
		st := newStore(t, clock)
		f := newFixtureOn(t, st, clock)
		A := cf(700)
		var reqs []Request
		for i := range 20 {
			reqs = append(reqs, online(A, cf(200+i)))
		}
		ok, errs := race(t, st, clock, reqs)
		if ok != 1 {
			t.Fatalf("%d succeeded: %v", ok, errs)
		}
		for _, err := range errs {
			if !errors.Is(err, ErrLimitDelegator) {
				t.Fatalf("unexpected error %v", err)
			}
		}
		if n := activeCount(t, f.reg, func() ([]Delegation, error) { return f.reg.Given(ctx, A) }); n != 1 {
			t.Fatalf("delegator has %d", n)
		}
	})
	t.Run("crossed races keep both limits", func(t *testing.T) {
		// 6 delegators × 6 delegates, every pair tried at once: each delegator ends with at
		// most one delegate and each delegate with at most 3.
		clock := storetest.NewClock(t0)
		st := newStore(t, clock)
		f := newFixtureOn(t, st, clock)
		var reqs []Request
		for i := range 6 {
			for j := range 6 {
				reqs = append(reqs, online(cf(300+i), cf(400+j)))
			}
		}
		ok, _ := race(t, st, clock, reqs)
		if ok == 0 || ok > 6 {
			t.Fatalf("%d succeeded", ok)
		}
		for i := range 6 {
			if n := activeCount(t, f.reg, func() ([]Delegation, error) { return f.reg.Given(ctx, cf(300+i)) }); n > 1 {
				t.Fatalf("delegator %d has %d", i, n)
			}
			if n := activeCount(t, f.reg, func() ([]Delegation, error) { return f.reg.Received(ctx, cf(400+i)) }); n > MaxPerDelegate {
				t.Fatalf("delegate %d holds %d", i, n)
			}
		}
	})
}

func TestRacesMemory(t *testing.T) {
	racingRules(t, func(t *testing.T, clock *storetest.Clock) store.Store {
		st := memory.New(memory.Options{Now: clock.Now})
		t.Cleanup(func() { st.Close() })
		return st
	})
}

func TestRacesRedis(t *testing.T) {
	srv := redistest.Start(t)
	racingRules(t, func(t *testing.T, _ *storetest.Clock) store.Store {
		st, err := redis.New(ctx, redis.Options{URL: srv.URL, Prefix: redistest.UniquePrefix()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	})
}
