package memory_test

import (
	"testing"
	"time"

	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/internal/store/memory"
	"github.com/inps/sportello/internal/store/storetest"
)

var epoch = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func newClocked(t *testing.T) store.Store {
	c := storetest.NewClock(epoch)
	s := memory.New(memory.Options{Now: c.Now})
	t.Cleanup(func() { _ = s.Close() })
	return storetest.ClockedStore{Store: s, Clock: c}
}

func TestConformance(t *testing.T) {
	storetest.Run(t, newClocked)
}

func TestConformanceRealClock(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s := memory.New(memory.Options{})
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

func TestSweepReclaimsExpiredKeys(t *testing.T) {
	c := storetest.NewClock(epoch)
	s := memory.New(memory.Options{Now: c.Now, JanitorInterval: -1})
	defer s.Close()
	ctx := t.Context()
	for i, ttl := range []time.Duration{time.Minute, time.Hour, 0} {
		if err := s.Put(ctx, string(rune('a'+i)), []byte("v"), ttl); err != nil {
			t.Fatal(err)
		}
	}
	c.Advance(time.Minute)
	if n := s.Len(); n != 3 {
		t.Fatalf("Len before Sweep = %d, want 3", n)
	}
	s.Sweep()
	if n := s.Len(); n != 2 {
		t.Fatalf("Len after Sweep = %d, want 2", n)
	}
}

func TestJanitorSweepsOnItsOwnAndStopsOnClose(t *testing.T) {
	c := storetest.NewClock(epoch)
	s := memory.New(memory.Options{Now: c.Now, JanitorInterval: time.Millisecond})
	if err := s.Put(t.Context(), "k", []byte("v"), time.Second); err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Second)
	deadline := time.Now().Add(5 * time.Second)
	for s.Len() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("janitor did not sweep the expired key")
		}
		time.Sleep(time.Millisecond)
	}
	if err := s.Close(); err != nil { // returns only once the janitor has stopped
		t.Fatal(err)
	}
}

func BenchmarkMemory(b *testing.B) {
	s := memory.New(memory.Options{})
	defer s.Close()
	storetest.Bench(b, s)
}
