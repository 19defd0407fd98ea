package session

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/internal/store/memory"
	"github.com/inps/sportello/internal/store/redis"
	"github.com/inps/sportello/internal/store/redistest"
	"github.com/inps/sportello/providers"
)

// The Store keys are part of the stored data's format: an upgraded replica must find the
// sessions the previous version opened. Changing one needs a migration, not an edit.
func TestStoreKeysAreStable(t *testing.T) {
	h := hash("secret")
	if h != "K7gNU3sdo-OL0wNhqoVWhr3g6s1xYv72ol_pe_Unols" {
		t.Errorf("hash(%q) = %q: every session key would change", "secret", h)
	}
	if got := key(h); got != "sess:"+h {
		t.Errorf("session key %q", got)
	}
	if got, want := upstreamKey(map[string]string{"idp": "https://idp", "name_id": "_n", "session_index": "_s"}), "sessup:"+hash("https://idp\x00_n\x00_s"); got != want {
		t.Errorf("upstream key %q, want %q", got, want)
	}
	if got := liveKey("pub"); got != "sesspub:pub" {
		t.Errorf("live marker key %q", got)
	}
	if got := personKey("sub"); got != "sessperson:sub" {
		t.Errorf("person index key %q", got)
	}
	if got := upstreamKey(nil); got != "" {
		t.Errorf("upstream key of no upstream session %q, want none", got)
	}
}

func TestSessionsOnMemory(t *testing.T) {
	runSessionTests(t, func(t *testing.T) store.Store {
		s := memory.New(memory.Options{})
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

func TestSessionsOnRedis(t *testing.T) {
	srv := redistest.Start(t)
	var n atomic.Int64
	runSessionTests(t, func(t *testing.T) store.Store {
		s, err := redis.New(t.Context(), redis.Options{URL: srv.URL, Prefix: srv.Prefix + strconv.FormatInt(n.Add(1), 10) + ":"})
		if err != nil {
			t.Fatalf("redis.New: %v", err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

var mario = &providers.Identity{FiscalNumber: "RSSMRA80A01H501U", Method: "spid",
	Session: map[string]string{"idp": "https://idp.example", "name_id": "_n", "session_index": "_s"}}

func runSessionTests(t *testing.T, newStore func(t *testing.T) store.Store) {
	now := time.Now()
	clock := func() time.Time { return now }
	open := func(t *testing.T) (*Repo, string, string) {
		t.Helper()
		now = time.Now()
		r := New(Options{Store: newStore(t), Idle: time.Hour, MaxAge: 2 * time.Hour, Now: clock})
		secret, public, err := r.Open(t.Context(), mario)
		if err != nil || secret == "" || public == "" || secret == public {
			t.Fatalf("Open: %q %q %v", secret, public, err)
		}
		return r, secret, public
	}
	t.Run("the cookie's secret finds the session; the store holds only its hash", func(t *testing.T) {
		r, secret, public := open(t)
		s, err := r.Get(t.Context(), secret)
		if err != nil || s == nil || s.PublicID != public || s.Identity.FiscalNumber != mario.FiscalNumber {
			t.Fatalf("Get: %+v %v", s, err)
		}
		if _, err := r.st.Get(t.Context(), "sess:"+secret); err == nil {
			t.Fatal("the session is stored under the cookie's secret itself")
		}
		for _, bad := range []string{"", public, secret + "x"} {
			if s, err := r.Get(t.Context(), bad); s != nil || err != nil {
				t.Fatalf("Get(%q): %+v %v, want no session", bad, s, err)
			}
		}
	})
	t.Run("a session older than its maximum age ends, however active", func(t *testing.T) {
		r, secret, _ := open(t)
		now = now.Add(2*time.Hour + time.Second)
		if s, err := r.Get(t.Context(), secret); s != nil || err != nil {
			t.Fatalf("past the maximum age: %+v %v, want no session", s, err)
		}
		now = time.Now()
		if s, _ := r.Get(t.Context(), secret); s != nil {
			t.Fatal("a session ended for its age came back")
		}
	})
	t.Run("an ended session is gone", func(t *testing.T) {
		r, secret, _ := open(t)
		if err := r.End(t.Context(), secret); err != nil {
			t.Fatal(err)
		}
		if s, _ := r.Get(t.Context(), secret); s != nil {
			t.Fatal("an ended session still answers")
		}
	})
	t.Run("an upstream logout ends the session it opened, once", func(t *testing.T) {
		r, secret, _ := open(t)
		other := New(Options{Store: r.st, Idle: time.Hour, Now: clock})
		laura := &providers.Identity{FiscalNumber: "BNCLRA85M41F205C", Session: map[string]string{"idp": "https://idp.example", "name_id": "_l", "session_index": "_s"}}
		lauraSecret, _, err := other.Open(t.Context(), laura)
		if err != nil {
			t.Fatal(err)
		}
		if found, err := r.EndUpstream(t.Context(), mario.Session); err != nil || !found {
			t.Fatalf("EndUpstream: %v %v", found, err)
		}
		if s, _ := r.Get(t.Context(), secret); s != nil {
			t.Fatal("the session survived its upstream logout")
		}
		if s, _ := r.Get(t.Context(), lauraSecret); s == nil {
			t.Fatal("another person's session ended too")
		}
		if found, err := r.EndUpstream(t.Context(), mario.Session); err != nil || found {
			t.Fatalf("a second EndUpstream: %v %v, want nothing found", found, err)
		}
		if found, err := r.EndUpstream(t.Context(), nil); err != nil || found {
			t.Fatalf("EndUpstream of no upstream session: %v %v", found, err)
		}
	})
	runEndTests(t, newStore)
	t.Run("the idle timeout slides with use", func(t *testing.T) {
		r, secret, _ := open(t)
		k := key(hash(secret))
		if err := r.st.Put(t.Context(), k, mustGet(t, r.st, k), time.Minute); err != nil { // as if idle for 59 minutes
			t.Fatal(err)
		}
		if s, _ := r.Get(t.Context(), secret); s == nil {
			t.Fatal("no session")
		}
		if ttl, err := r.st.TTL(t.Context(), k); err != nil || ttl <= time.Minute {
			t.Fatalf("idle timeout after a use: %v %v, want it back to the full hour", ttl, err)
		}
	})
}

func mustGet(t *testing.T, st store.Store, k string) []byte {
	t.Helper()
	v, err := st.Get(t.Context(), k)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
