package session

import (
	"context"
	"errors"
	"maps"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/providers"
)

// ends records what OnEnd is told.
type ends struct {
	mu  sync.Mutex
	got []Ended
}

func (e *ends) onEnd(_ context.Context, x Ended) {
	e.mu.Lock()
	e.got = append(e.got, x)
	e.mu.Unlock()
}

func (e *ends) take() []Ended {
	e.mu.Lock()
	defer e.mu.Unlock()
	g := e.got
	e.got = nil
	return g
}

func subjectOf(id *providers.Identity) string { return "sub-" + id.FiscalNumber }

var laura = &providers.Identity{FiscalNumber: "BNCLRA85M41F205C", Method: "spid"}

func runEndTests(t *testing.T, newStore func(t *testing.T) store.Store) {
	var now time.Time
	clock := func() time.Time { return now }
	repo := func(t *testing.T) (*Repo, *ends) {
		now = time.Now()
		e := &ends{}
		return New(Options{Store: newStore(t), Idle: time.Hour, MaxAge: 2 * time.Hour, Now: clock, Subject: subjectOf, OnEnd: e.onEnd}), e
	}
	open := func(t *testing.T, r *Repo, id *providers.Identity) (string, string) {
		t.Helper()
		secret, pub, err := r.Open(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		return secret, pub
	}
	wantEnded := func(t *testing.T, got []Ended, pub, reason string, clients map[string]string) {
		t.Helper()
		if len(got) != 1 || got[0].PublicID != pub || got[0].Reason != reason || got[0].Subject != subjectOf(mario) || !maps.Equal(got[0].Clients, clients) {
			t.Fatalf("OnEnd told %+v, want once %s for %s with %v", got, reason, pub, clients)
		}
	}
	t.Run("a logout tells OnEnd once, with the clients that got tokens", func(t *testing.T) {
		r, e := repo(t)
		secret, pub := open(t, r, mario)
		for _, c := range [][2]string{{"demo-rp", "sub-a"}, {"demo-spa", "sub-a"}, {"demo-rp", "sub-a"}} {
			if err := r.AddClient(t.Context(), pub, c[0], c[1]); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := r.Get(t.Context(), secret); err != nil { // the idle slide keeps the clients
			t.Fatal(err)
		}
		if err := r.End(t.Context(), secret); err != nil {
			t.Fatal(err)
		}
		wantEnded(t, e.take(), pub, EndLogout, map[string]string{"demo-rp": "sub-a", "demo-spa": "sub-a"})
		if err := r.End(t.Context(), secret); err != nil || len(e.take()) != 0 {
			t.Fatal("a second logout of the session told OnEnd again")
		}
		if err := r.AddClient(t.Context(), pub, "demo-rp", "sub-a"); !errors.Is(err, ErrEnded) {
			t.Fatalf("AddClient to an ended session: %v, want ErrEnded", err)
		}
	})
	t.Run("an upstream logout tells OnEnd once", func(t *testing.T) {
		r, e := repo(t)
		_, pub := open(t, r, mario)
		if found, err := r.EndUpstream(t.Context(), mario.Session); err != nil || !found {
			t.Fatalf("EndUpstream: %v %v", found, err)
		}
		wantEnded(t, e.take(), pub, EndUpstream, nil)
		_, _ = r.EndUpstream(t.Context(), mario.Session)
		if len(e.take()) != 0 {
			t.Fatal("told twice")
		}
	})
	t.Run("a session found past its maximum age tells OnEnd once", func(t *testing.T) {
		r, e := repo(t)
		secret, pub := open(t, r, mario)
		now = now.Add(2*time.Hour + time.Second)
		for range 2 {
			if s, err := r.Get(t.Context(), secret); s != nil || err != nil {
				t.Fatalf("%+v %v", s, err)
			}
		}
		wantEnded(t, e.take(), pub, EndMaxAge, nil)
	})
	t.Run("a session gone with its idle timeout is told when the person logs in again", func(t *testing.T) {
		r, e := repo(t)
		secret, pub := open(t, r, mario)
		if err := r.AddClient(t.Context(), pub, "demo-rp", "sub-a"); err != nil {
			t.Fatal(err)
		}
		if err := r.st.Delete(t.Context(), key(hash(secret))); err != nil { // what the idle TTL does
			t.Fatal(err)
		}
		_, again := open(t, r, mario)
		wantEnded(t, e.take(), pub, EndIdle, map[string]string{"demo-rp": "sub-a"})
		if pubs, _ := r.person(t.Context(), subjectOf(mario)); len(pubs) != 1 || pubs[0] != again {
			t.Fatalf("person index %v, want only the new session %s", pubs, again)
		}
	})
	t.Run("a login's Store reads do not grow with the person's sessions", func(t *testing.T) {
		r, _ := repo(t)
		counting := &getCounter{Store: r.st}
		r.st = counting
		readsOfALogin := func() int64 {
			before := counting.gets.Load()
			open(t, r, mario)
			return counting.gets.Load() - before
		}
		for range 2 * sweepPerLogin {
			open(t, r, mario)
		}
		few := readsOfALogin()
		for range 4 * sweepPerLogin {
			open(t, r, mario)
		}
		if many := readsOfALogin(); many != few {
			t.Fatalf("a login read the Store %d times beside %d live sessions of the person, %d beside %d", many, 6*sweepPerLogin+1, few, 2*sweepPerLogin)
		}
		if pubs, _ := r.person(t.Context(), subjectOf(mario)); len(pubs) != 6*sweepPerLogin+2 {
			t.Fatalf("person index holds %d sessions, want every live one (%d)", len(pubs), 6*sweepPerLogin+2)
		}
	})
	t.Run("EndPerson ends every session of the person and no one else's", func(t *testing.T) {
		r, e := repo(t)
		s1, p1 := open(t, r, mario)
		s2, p2 := open(t, r, mario)
		ls, _ := open(t, r, laura)
		n, err := r.EndPerson(t.Context(), subjectOf(mario))
		if err != nil || n != 2 {
			t.Fatalf("EndPerson: %d %v, want 2", n, err)
		}
		got := e.take()
		if len(got) != 2 || got[0].Reason != EndOperator || got[1].Reason != EndOperator ||
			!(got[0].PublicID == p1 && got[1].PublicID == p2 || got[0].PublicID == p2 && got[1].PublicID == p1) {
			t.Fatalf("OnEnd told %+v", got)
		}
		for _, s := range []string{s1, s2} {
			if x, _ := r.Get(t.Context(), s); x != nil {
				t.Fatal("a session survived EndPerson")
			}
		}
		if x, _ := r.Get(t.Context(), ls); x == nil {
			t.Fatal("another person's session ended")
		}
		if n, err := r.EndPerson(t.Context(), subjectOf(mario)); err != nil || n != 0 || len(e.take()) != 0 {
			t.Fatalf("a second EndPerson: %d %v", n, err)
		}
	})
	t.Run("a logout racing an operator's EndPerson tells OnEnd exactly once", func(t *testing.T) {
		r, e := repo(t)
		other := New(Options{Store: r.st, Idle: time.Hour, MaxAge: 2 * time.Hour, Now: clock, Subject: subjectOf, OnEnd: e.onEnd})
		for range 10 {
			secret, pub := open(t, r, mario)
			var wg sync.WaitGroup
			wg.Go(func() { _ = r.End(context.WithoutCancel(t.Context()), secret) })
			wg.Go(func() { _, _ = other.EndPerson(context.WithoutCancel(t.Context()), subjectOf(mario)) })
			wg.Wait()
			if got := e.take(); len(got) != 1 || got[0].PublicID != pub {
				t.Fatalf("OnEnd told %+v, want once for %s", got, pub)
			}
		}
	})
}

// getCounter counts the Store reads (Get) made through it.
type getCounter struct {
	store.Store
	gets atomic.Int64
}

func (c *getCounter) Get(ctx context.Context, key string) ([]byte, error) {
	c.gets.Add(1)
	return c.Store.Get(ctx, key)
}
