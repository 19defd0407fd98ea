package heartbeat_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/inps/sportello/internal/heartbeat"
	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/internal/store/memory"
	"github.com/inps/sportello/internal/store/redis"
	"github.com/inps/sportello/internal/store/redistest"
	"github.com/inps/sportello/internal/store/storetest"
)

var started = time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)

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

func beater(s store.Store, id string) *heartbeat.Beater {
	return &heartbeat.Beater{Store: s, Self: heartbeat.Replica{ID: id, Hostname: "host-" + id, Version: "v1.2.3", Started: started}}
}

func TestEveryReplicaThatBeatsIsListed(t *testing.T) {
	backends(t, func(t *testing.T, open func() store.Store) {
		ctx := t.Context()
		a, b := beater(open(), "replica-a"), beater(open(), "replica-b")
		for _, r := range []*heartbeat.Beater{a, b, a} {
			if err := r.Beat(ctx); err != nil {
				t.Fatal(err)
			}
		}
		list, err := heartbeat.List(ctx, open())
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || list[0].ID != "replica-a" || list[1].ID != "replica-b" {
			t.Fatalf("List = %+v", list)
		}
		r := list[0]
		if r.Hostname != "host-replica-a" || r.Version != "v1.2.3" || !r.Started.Equal(started) || r.LastSeen.IsZero() {
			t.Fatalf("record = %+v", r)
		}
		if err := b.Leave(ctx); err != nil {
			t.Fatal(err)
		}
		if list, _ := heartbeat.List(ctx, open()); len(list) != 1 || list[0].ID != "replica-a" {
			t.Fatalf("after b left: %+v", list)
		}
	})
}

func TestAHeartbeatCarriesItsTTL(t *testing.T) {
	backends(t, func(t *testing.T, open func() store.Store) {
		s := open()
		b := beater(s, "r1")
		b.Interval, b.TTL = time.Second, 10*time.Second
		if err := b.Beat(t.Context()); err != nil {
			t.Fatal(err)
		}
		ttl, err := s.TTL(t.Context(), "heartbeat:{r1}")
		if err != nil || ttl <= 0 || ttl > 10*time.Second {
			t.Fatalf("TTL = %v, %v", ttl, err)
		}
	})
}

func TestAReplicaThatStopsBeatingDisappearsAndLeavesTheIndex(t *testing.T) {
	clock := storetest.NewClock(started)
	m := memory.New(memory.Options{Now: clock.Now, JanitorInterval: -1})
	ctx := t.Context()
	a, b := beater(m, "a"), beater(m, "b")
	a.Now, b.Now = clock.Now, clock.Now
	_ = a.Beat(ctx)
	_ = b.Beat(ctx)
	clock.Advance(heartbeat.DefaultTTL - time.Second)
	_ = a.Beat(ctx)
	clock.Advance(2 * time.Second)
	list, err := heartbeat.List(ctx, m)
	if err != nil || len(list) != 1 || list[0].ID != "a" {
		t.Fatalf("List = %+v, %v", list, err)
	}
	if !list[0].LastSeen.Equal(started.Add(heartbeat.DefaultTTL - time.Second)) {
		t.Fatalf("last_seen = %v", list[0].LastSeen)
	}
	c := beater(m, "c")
	c.Now = clock.Now
	_ = c.Beat(ctx) // a newcomer tidies the index
	raw, _ := m.Get(ctx, heartbeat.IndexKey)
	if strings.Contains(string(raw), `"b"`) {
		t.Fatalf("the index still names b: %s", raw)
	}
}

func TestBadIDsAndAnOutage(t *testing.T) {
	m := memory.New(memory.Options{JanitorInterval: -1})
	for _, id := range []string{"", "a b", "a{b}", "x\n", "é", strings.Repeat("a", 129)} {
		if err := beater(m, id).Beat(t.Context()); !errors.Is(err, heartbeat.ErrBadID) {
			t.Errorf("id %q: %v", id, err)
		}
	}
	if m.Len() != 0 {
		t.Fatal("a bad id wrote something")
	}
	// A hostile index entry never makes List read outside the namespace.
	_ = m.Put(t.Context(), "heartbeat:{x}", []byte(`{"id":"y"}`), 0)
	_ = m.Put(t.Context(), heartbeat.IndexKey, []byte(`["x","} other{","../z"]`), 0)
	if list, err := heartbeat.List(t.Context(), m); err != nil || len(list) != 0 {
		t.Fatalf("List = %+v, %v", list, err)
	}
	cut := storetest.NewCutStore(m)
	cut.Before(func(string, string) bool { return true })
	if err := beater(cut, "a").Beat(t.Context()); !store.IsOutage(err) {
		t.Fatalf("Beat through a cut store: %v", err)
	}
	if _, err := heartbeat.List(t.Context(), cut); !store.IsOutage(err) {
		t.Fatalf("List through a cut store: %v", err)
	}
}
