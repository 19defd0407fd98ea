package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/internal/store/memory"
	"github.com/inps/sportello/internal/store/storetest"
)

// losing is a store whose CompareAndSwap always loses the race, as if another replica
// always wrote first; onLose runs at each loss.
type losing struct {
	store.Store
	onLose func()
	tries  int
}

func (l *losing) CompareAndSwap(context.Context, string, []byte, []byte, time.Duration) (bool, error) {
	l.tries++
	if l.onLose != nil {
		l.onLose()
	}
	return false, nil
}

// failingGet is a store whose Get fails.
type failingGet struct{ store.Store }

var errDown = errors.New("backend down")

func (failingGet) Get(context.Context, string) ([]byte, error) { return nil, errDown }

func newMemory(t *testing.T) (*memory.Store, *storetest.Clock) {
	c := storetest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	s := memory.New(memory.Options{Now: c.Now})
	t.Cleanup(func() { _ = s.Close() })
	return s, c
}

func TestUpdate(t *testing.T) {
	appendX := func(old []byte) ([]byte, error) { return append(old, 'x'), nil }
	t.Run("an absent key is passed as nil and created with the ttl", func(t *testing.T) {
		s, c := newMemory(t)
		seen := []byte("sentinel")
		got, err := store.Update(t.Context(), s, "k", time.Minute, func(old []byte) ([]byte, error) {
			seen = old
			return []byte("v"), nil
		})
		if err != nil || string(got) != "v" || seen != nil {
			t.Fatalf("Update = %q, %v; fn saw %q, want nil", got, err, seen)
		}
		c.Advance(time.Minute)
		if _, err := s.Get(t.Context(), "k"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("ttl not applied: %v", err)
		}
	})
	t.Run("the current value is passed and replaced", func(t *testing.T) {
		s, _ := newMemory(t)
		_ = s.Put(t.Context(), "k", []byte("v"), 0)
		if got, err := store.Update(t.Context(), s, "k", 0, appendX); err != nil || string(got) != "vx" {
			t.Fatalf("Update = %q, %v", got, err)
		}
	})
	t.Run("an empty value is passed as empty, not nil", func(t *testing.T) {
		s, _ := newMemory(t)
		_ = s.Put(t.Context(), "k", []byte{}, 0)
		_, err := store.Update(t.Context(), s, "k", 0, func(old []byte) ([]byte, error) {
			if old == nil {
				t.Error("fn got nil for an empty value")
			}
			return old, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
	t.Run("fn returning nil deletes the key", func(t *testing.T) {
		s, _ := newMemory(t)
		_ = s.Put(t.Context(), "k", []byte("v"), 0)
		if _, err := store.Update(t.Context(), s, "k", 0, func([]byte) ([]byte, error) { return nil, nil }); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(t.Context(), "k"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Get after delete: %v", err)
		}
	})
	t.Run("fn returning an error writes nothing", func(t *testing.T) {
		s, _ := newMemory(t)
		_ = s.Put(t.Context(), "k", []byte("v"), 0)
		errRule := errors.New("rule broken")
		if _, err := store.Update(t.Context(), s, "k", 0, func([]byte) ([]byte, error) { return []byte("w"), errRule }); !errors.Is(err, errRule) {
			t.Fatalf("Update: %v, want the fn's error", err)
		}
		if v, _ := s.Get(t.Context(), "k"); string(v) != "v" {
			t.Fatalf("value = %q, want v", v)
		}
	})
	t.Run("a store error is passed through", func(t *testing.T) {
		s, _ := newMemory(t)
		if _, err := store.Update(t.Context(), failingGet{s}, "k", 0, appendX); !errors.Is(err, errDown) {
			t.Fatalf("Update: %v, want errDown", err)
		}
	})
	t.Run("endless lost races end in ErrConflict", func(t *testing.T) {
		s, _ := newMemory(t)
		l := &losing{Store: s}
		if _, err := store.Update(t.Context(), l, "k", 0, appendX); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("Update: %v, want ErrConflict", err)
		}
		if l.tries != 64 {
			t.Fatalf("%d attempts, want 64", l.tries)
		}
	})
	t.Run("a context cancelled between attempts stops the retries", func(t *testing.T) {
		s, _ := newMemory(t)
		ctx, cancel := context.WithCancel(t.Context())
		l := &losing{Store: s, onLose: cancel}
		if _, err := store.Update(ctx, l, "k", 0, appendX); !errors.Is(err, context.Canceled) {
			t.Fatalf("Update: %v, want context.Canceled", err)
		}
		if l.tries != 1 {
			t.Fatalf("%d attempts, want 1", l.tries)
		}
	})
}

func TestIsOutage(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"no error is an answer", nil, false},
		{"not found is an answer", store.ErrNotFound, false},
		{"not found wrapped is still an answer", fmt.Errorf("login: %w", store.ErrNotFound), false},
		{"a cut connection is an outage", storetest.ErrCut, true},
		{"a cut connection wrapped is an outage", fmt.Errorf("login: %w", storetest.ErrCut), true},
		{"a timeout is an outage", context.DeadlineExceeded, true},
		{"an update that kept conflicting is an outage", store.ErrConflict, true},
		{"a backend error is an outage", errDown, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := store.IsOutage(c.err); got != c.want {
				t.Fatalf("IsOutage(%v) = %v, want %v", c.err, got, c.want)
			}
		})
	}
}
