package members_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/internal/store/members"
	"github.com/inps/sportello/internal/store/memory"
	"github.com/inps/sportello/internal/store/redis"
	"github.com/inps/sportello/internal/store/redistest"
)

func backends(t *testing.T, fn func(t *testing.T, s store.Store)) {
	t.Run("memory", func(t *testing.T) {
		m := memory.New(memory.Options{JanitorInterval: -1})
		t.Cleanup(func() { _ = m.Close() })
		fn(t, m)
	})
	t.Run("redis", func(t *testing.T) {
		srv := redistest.Start(t)
		s, err := redis.New(t.Context(), redis.Options{URL: srv.URL, Prefix: srv.Prefix})
		if err != nil {
			t.Fatalf("redis.New: %v", err)
		}
		t.Cleanup(func() { _ = s.Close() })
		fn(t, s)
	})
}

var list = members.List{
	Key:    "test:members",
	Record: func(id string) string { return "test:{" + id + "}" },
	Valid:  func(id string) bool { return id != "" && !strings.ContainsAny(id, "{}") },
	Max:    5,
}

// join writes id's record (for ttl) and joins the list, as a publisher does.
func join(t *testing.T, s store.Store, id string, ttl time.Duration) {
	t.Helper()
	if err := s.Put(t.Context(), list.Record(id), []byte("x"), ttl); err != nil {
		t.Fatal(err)
	}
	if err := list.Join(t.Context(), s, id); err != nil {
		t.Fatalf("Join(%s): %v", id, err)
	}
}

func read(t *testing.T, s store.Store) []string {
	t.Helper()
	ids, err := list.Read(t.Context(), s)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return ids
}

func TestJoinListsEveryMemberOnceSorted(t *testing.T) {
	backends(t, func(t *testing.T, s store.Store) {
		if ids := read(t, s); ids != nil {
			t.Fatalf("an absent list reads %v", ids)
		}
		for _, id := range []string{"b", "a", "b", "c"} {
			join(t, s, id, time.Minute)
		}
		if got := fmt.Sprint(read(t, s)); got != "[a b c]" {
			t.Fatalf("list = %s", got)
		}
	})
}

// An id whose record expired is dropped by the next join of another member; Max bounds the
// list.
func TestJoinDropsExpiredMembersAndKeepsTheBound(t *testing.T) {
	backends(t, func(t *testing.T, s store.Store) {
		join(t, s, "gone", time.Minute)
		if err := s.Delete(t.Context(), list.Record("gone")); err != nil { // as if expired
			t.Fatal(err)
		}
		join(t, s, "live", time.Minute)
		if got := fmt.Sprint(read(t, s)); got != "[live]" {
			t.Fatalf("after an expiry: %s", got)
		}
		for i := range 8 {
			join(t, s, fmt.Sprintf("r%d", i), time.Minute)
		}
		if n := len(read(t, s)); n != list.Max {
			t.Fatalf("%d members, want the bound %d", n, list.Max)
		}
	})
}

// A damaged list reads as ErrCorrupt and is rebuilt by the next join; invalid ids in a list
// are never returned (they would name keys outside the namespace).
func TestADamagedListIsRebuiltAndBadIdsDropped(t *testing.T) {
	backends(t, func(t *testing.T, s store.Store) {
		ctx := t.Context()
		if err := s.Put(ctx, list.Key, []byte("{not json"), 0); err != nil {
			t.Fatal(err)
		}
		if _, err := list.Read(ctx, s); !errors.Is(err, members.ErrCorrupt) {
			t.Fatalf("a damaged list read: %v", err)
		}
		join(t, s, "a", time.Minute)
		if got := fmt.Sprint(read(t, s)); got != "[a]" {
			t.Fatalf("rebuilt list = %s", got)
		}
		if err := s.Put(ctx, list.Key, []byte(`["a","x}{y",""]`), 0); err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(read(t, s)); got != "[a]" {
			t.Fatalf("invalid ids returned: %s", got)
		}
	})
}

// Joins racing on one list lose nobody: the list is changed by compare-and-swap.
func TestConcurrentJoinsLoseNoMember(t *testing.T) {
	backends(t, func(t *testing.T, s store.Store) {
		big := list
		big.Max = 100
		var wg sync.WaitGroup
		errs := make(chan error, 12)
		for i := range 12 {
			wg.Go(func() {
				id := fmt.Sprintf("r%02d", i)
				if err := s.Put(t.Context(), big.Record(id), []byte("x"), time.Minute); err != nil {
					errs <- err
					return
				}
				errs <- big.Join(t.Context(), s, id)
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		ids, err := big.Read(t.Context(), s)
		if err != nil || len(ids) != 12 {
			t.Fatalf("%d members after 12 concurrent joins (%v): %v", len(ids), err, ids)
		}
	})
}
