package switches_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/internal/store/memory"
	"github.com/inps/sportello/internal/store/redis"
	"github.com/inps/sportello/internal/store/redistest"
	"github.com/inps/sportello/internal/store/storetest"
	"github.com/inps/sportello/internal/switches"
)

const idp = "https://idp.example.it/metadata"

// backends runs fn on the memory store and on a real Redis; each call of open returns a new
// handle on the same shared state, as two replicas have.
func backends(t *testing.T, fn func(t *testing.T, open func() store.Store)) {
	t.Run("memory", func(t *testing.T) {
		m := memory.New(memory.Options{JanitorInterval: -1})
		t.Cleanup(func() { _ = m.Close() })
		fn(t, func() store.Store { return m })
	})
	t.Run("redis", func(t *testing.T) {
		srv := redistest.Start(t)
		fn(t, func() store.Store {
			s, err := redis.New(t.Context(), redis.Options{URL: srv.URL, Prefix: srv.Prefix})
			if err != nil {
				t.Fatalf("redis.New: %v", err)
			}
			t.Cleanup(func() { _ = s.Close() })
			return s
		})
	})
}

func TestASwitchOffReachesEveryReaderAndASwitchOnRemovesIt(t *testing.T) {
	backends(t, func(t *testing.T, open func() store.Store) {
		ctx := t.Context()
		w := &switches.Switches{Store: open()}
		a, b := switches.NewReader(open(), switches.ReaderOptions{}), switches.NewReader(open(), switches.ReaderOptions{})
		for _, r := range []*switches.Reader{a, b} {
			if err := r.Load(ctx); err != nil {
				t.Fatal(err)
			}
			if off, _ := r.Disabled(switches.KindIdP, idp); off {
				t.Fatal("disabled before any switch")
			}
		}
		sw, err := w.Set(ctx, switches.Change{Kind: switches.KindIdP, ID: idp, Reason: "compromised signing key", Actor: "op-1"})
		if err != nil {
			t.Fatal(err)
		}
		if sw.Enabled || sw.Actor != "op-1" || sw.SetAt.IsZero() {
			t.Fatalf("recorded %+v", sw)
		}
		for i, r := range []*switches.Reader{a, b} {
			if off, _ := r.Disabled(switches.KindIdP, idp); off {
				t.Fatalf("reader %d: changed before its reload (it must answer from memory)", i)
			}
			if err := r.Load(ctx); err != nil {
				t.Fatal(err)
			}
			off, got := r.Disabled(switches.KindIdP, idp)
			if !off || got.Reason != "compromised signing key" || got.Actor != "op-1" {
				t.Fatalf("reader %d: Disabled = %v %+v", i, off, got)
			}
			if off, _ := r.Disabled(switches.KindProvider, idp); off {
				t.Fatalf("reader %d: a switch of kind idp turned off a provider of the same id", i)
			}
		}
		list, err := w.List(ctx)
		if err != nil || len(list) != 1 || list[0].ID != idp {
			t.Fatalf("List = %+v, %v", list, err)
		}
		if _, err := w.Set(ctx, switches.Change{Kind: switches.KindIdP, ID: idp, Enabled: true, Actor: "op-2"}); err != nil {
			t.Fatal(err)
		}
		if err := a.Load(ctx); err != nil {
			t.Fatal(err)
		}
		if off, _ := a.Disabled(switches.KindIdP, idp); off {
			t.Fatal("still disabled after the switch-on")
		}
		if list, err := w.List(ctx); err != nil || len(list) != 0 {
			t.Fatalf("List after switch-on = %+v, %v", list, err)
		}
	})
}

func TestReaderRunReloadsByItself(t *testing.T) {
	backends(t, func(t *testing.T, open func() store.Store) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		r := switches.NewReader(open(), switches.ReaderOptions{Refresh: 10 * time.Millisecond})
		go r.Run(ctx)
		w := &switches.Switches{Store: open()}
		if _, err := w.Set(ctx, switches.Change{Kind: switches.KindClient, ID: "demo-rp", Reason: "leaking tokens", Actor: "op"}); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			if off, _ := r.Disabled(switches.KindClient, "demo-rp"); off {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the running reader never saw the switch")
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
}

func TestRefreshIsCappedAtTwoSeconds(t *testing.T) {
	r := switches.NewReader(memory.New(memory.Options{JanitorInterval: -1}), switches.ReaderOptions{Refresh: time.Minute})
	if r.Interval() != switches.MaxRefresh {
		t.Fatalf("Interval = %v", r.Interval())
	}
}

func TestASwitchWithAnExpiryEndsByItself(t *testing.T) {
	backends(t, func(t *testing.T, open func() store.Store) {
		ctx := t.Context()
		clock := storetest.NewClock(time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC))
		w := &switches.Switches{Store: open(), Now: clock.Now}
		r := switches.NewReader(open(), switches.ReaderOptions{Now: clock.Now})
		until := clock.Now().Add(time.Hour)
		sw, err := w.Set(ctx, switches.Change{Kind: switches.KindProvider, ID: "pin", Reason: "maintenance", Actor: "op", ExpiresAt: &until})
		if err != nil || sw.ExpiresAt == nil || !sw.ExpiresAt.Equal(until) {
			t.Fatalf("Set = %+v, %v", sw, err)
		}
		if err := r.Load(ctx); err != nil {
			t.Fatal(err)
		}
		if off, _ := r.Disabled(switches.KindProvider, "pin"); !off {
			t.Fatal("not disabled before its expiry")
		}
		clock.Advance(time.Hour)
		if off, _ := r.Disabled(switches.KindProvider, "pin"); off {
			t.Fatal("still disabled at its expiry")
		}
		if list, _ := w.List(ctx); len(list) != 0 {
			t.Fatalf("an expired switch is listed: %+v", list)
		}
		past := clock.Now().Add(-time.Second)
		if _, err := w.Set(ctx, switches.Change{Kind: switches.KindProvider, ID: "pin", Reason: "x", Actor: "op", ExpiresAt: &past}); !errors.Is(err, switches.ErrBadExpiry) {
			t.Fatalf("an expiry in the past: %v", err)
		}
	})
}

func TestSetIsRefusedAndNothingAppliedWhenTheStoreIsUnreachable(t *testing.T) {
	backends(t, func(t *testing.T, open func() store.Store) {
		ctx := t.Context()
		cut := storetest.NewCutStore(open())
		w := &switches.Switches{Store: cut}
		if _, err := w.Set(ctx, switches.Change{Kind: switches.KindClient, ID: "a", Reason: "r", Actor: "op"}); err != nil {
			t.Fatal(err)
		}
		for _, op := range []string{"Get", "CompareAndSwap"} {
			cut.Before(func(o, _ string) bool { return o == op })
			_, err := w.Set(ctx, switches.Change{Kind: switches.KindClient, ID: "b", Reason: "r", Actor: "op"})
			if !errors.Is(err, storetest.ErrCut) || !store.IsOutage(err) {
				t.Fatalf("%s cut: Set = %v", op, err)
			}
			cut.Before(nil)
			list, err := w.List(ctx)
			if err != nil || len(list) != 1 || list[0].ID != "a" {
				t.Fatalf("%s cut: half applied? List = %+v, %v", op, list, err)
			}
		}
		// A reader keeps what it had through an outage, and says so.
		r := switches.NewReader(cut, switches.ReaderOptions{})
		if err := r.Load(ctx); err != nil {
			t.Fatal(err)
		}
		cut.Before(func(string, string) bool { return true })
		if err := r.Load(ctx); err == nil {
			t.Fatal("Load through a cut store succeeded")
		}
		if off, _ := r.Disabled(switches.KindClient, "a"); !off {
			t.Fatal("an outage switched a client back on")
		}
		if _, err := r.Status(); err == nil {
			t.Fatal("Status hides the failed reload")
		}
		if _, err := w.List(ctx); !store.IsOutage(err) {
			t.Fatalf("List through a cut store: %v", err)
		}
	})
}

func TestHostileChangesAreRefused(t *testing.T) {
	m := memory.New(memory.Options{JanitorInterval: -1})
	w := &switches.Switches{Store: m}
	ok := switches.Change{Kind: switches.KindIdP, ID: idp, Reason: "r", Actor: "op"}
	cases := []struct {
		name string
		edit func(*switches.Change)
		want error
	}{
		{"unknown kind", func(c *switches.Change) { c.Kind = "person" }, switches.ErrBadKind},
		{"empty kind", func(c *switches.Change) { c.Kind = "" }, switches.ErrBadKind},
		{"empty id", func(c *switches.Change) { c.ID = "" }, switches.ErrBadID},
		{"id too long", func(c *switches.Change) { c.ID = "https://x/" + strings.Repeat("a", 1100) }, switches.ErrBadID},
		{"id with a newline", func(c *switches.Change) { c.ID = "a\nb" }, switches.ErrBadID},
		{"id with a NUL", func(c *switches.Change) { c.ID = "a\x00b" }, switches.ErrBadID},
		{"id not UTF-8", func(c *switches.Change) { c.ID = "a\xffb" }, switches.ErrBadID},
		{"id with surrounding space", func(c *switches.Change) { c.ID = " " + idp }, switches.ErrBadID},
		{"no reason to switch off", func(c *switches.Change) { c.Reason = "" }, switches.ErrBadReason},
		{"reason too long", func(c *switches.Change) { c.Reason = strings.Repeat("r", 501) }, switches.ErrBadReason},
		{"reason with an escape", func(c *switches.Change) { c.Reason = "x\x1b[31m" }, switches.ErrBadReason},
		{"no actor", func(c *switches.Change) { c.Actor = "" }, switches.ErrBadActor},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.edit(&c)
			if _, err := w.Set(t.Context(), c); !errors.Is(err, tc.want) {
				t.Fatalf("Set = %v, want %v", err, tc.want)
			}
		})
	}
	if m.Len() != 0 {
		t.Fatal("a refused change wrote something")
	}
}

func TestACorruptDocumentIsNeverOverwritten(t *testing.T) {
	m := memory.New(memory.Options{JanitorInterval: -1})
	ctx := t.Context()
	_ = m.Put(ctx, switches.Key, []byte("{not json"), 0)
	w := &switches.Switches{Store: m}
	if _, err := w.Set(ctx, switches.Change{Kind: switches.KindClient, ID: "a", Reason: "r", Actor: "op"}); !errors.Is(err, switches.ErrCorrupt) {
		t.Fatalf("Set over a corrupt document: %v", err)
	}
	if raw, _ := m.Get(ctx, switches.Key); string(raw) != "{not json" {
		t.Fatalf("the document was overwritten: %q", raw)
	}
	if _, err := w.List(ctx); !errors.Is(err, switches.ErrCorrupt) {
		t.Fatalf("List: %v", err)
	}
}

func TestConcurrentWritersLoseNoSwitch(t *testing.T) {
	backends(t, func(t *testing.T, open func() store.Store) {
		ctx := t.Context()
		const n = 8
		errs := make(chan error, n)
		for i := range n {
			go func() {
				w := &switches.Switches{Store: open()}
				_, err := w.Set(ctx, switches.Change{Kind: switches.KindClient, ID: "c" + string(rune('a'+i)), Reason: "r", Actor: "op"})
				errs <- err
			}()
		}
		for range n {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		list, err := (&switches.Switches{Store: open()}).List(ctx)
		if err != nil || len(list) != n {
			t.Fatalf("List = %d switches, %v", len(list), err)
		}
	})
}
