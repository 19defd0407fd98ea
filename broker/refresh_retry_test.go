package broker

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inps/sportello/internal/store"

	"github.com/inps/sportello/config"
	"github.com/inps/sportello/internal/store/storetest"
)

func withReuseGrace(d time.Duration) brokerOpt {
	return func(c *config.Config) { c.Tokens.RefreshReuseGrace = &d }
}

// refresh rotates rt as demo-rp and returns the status, the OAuth error and the new token.
func refresh(t *testing.T, tb *testBroker, rt string) (int, string, string) {
	t.Helper()
	code, e, body := tokenPost(t, tb.URL, refreshForm(rt))
	next, _ := body["refresh_token"].(string)
	return code, e, next
}

// A client whose rotation answer was lost presents the old refresh token again within the
// grace: it gets a new successor, the one it never received is dead, and using that one later
// is reuse that revokes the family.
func TestRefreshRetryWithinGrace(t *testing.T) {
	clk := storetest.NewClock(time.Now())
	tb := newTestBrokerWith(t, memStore(t), func(o *Options) { o.Now = clk.Now }, withReuseGrace(30*time.Second))
	rt1 := survivalLogin(t, tb.URL).RefreshToken

	code, e, lost := refresh(t, tb, rt1) // the answer "never reaches the client"
	if code != 200 || lost == "" {
		t.Fatalf("first rotation: %d %s", code, e)
	}
	clk.Advance(10 * time.Second)
	code, e, rt3 := refresh(t, tb, rt1)
	if code != 200 || rt3 == "" || rt3 == lost {
		t.Fatalf("retry within the grace: %d %s (new successor %v)", code, e, rt3 != lost)
	}
	// The retry of the retry is still within the grace counted from the first rotation.
	clk.Advance(10 * time.Second)
	code, e, rt4 := refresh(t, tb, rt1)
	if code != 200 || rt4 == "" {
		t.Fatalf("second retry within the grace: %d %s", code, e)
	}
	code, e, rt5 := refresh(t, tb, rt4)
	if code != 200 || rt5 == "" {
		t.Fatalf("the retry's successor must work: %d %s", code, e)
	}
	// rt3 was superseded by the second retry: presenting it is reuse.
	if code, e, _ := refresh(t, tb, rt3); code != 400 || e != "invalid_grant" {
		t.Fatalf("a superseded successor: %d %s, want invalid_grant", code, e)
	}
	if code, e, _ := refresh(t, tb, rt5); code != 400 || e != "invalid_grant" {
		t.Fatalf("the family must be revoked after reuse of a superseded successor: %d %s", code, e)
	}
}

// Each condition of the grace, violated, is reuse: the family is revoked.
func TestRefreshReuseOutsideTheGraceRevokes(t *testing.T) {
	cases := []struct {
		name  string
		grace time.Duration
		setup func(t *testing.T, tb *testBroker, clk *storetest.Clock, rt1, rt2 string)
	}{
		{"strict configuration (grace 0)", 0, func(*testing.T, *testBroker, *storetest.Clock, string, string) {}},
		{"after the grace", 30 * time.Second, func(_ *testing.T, _ *testBroker, clk *storetest.Clock, _, _ string) { clk.Advance(31 * time.Second) }},
		{"the successor was used", 30 * time.Second, func(t *testing.T, tb *testBroker, _ *storetest.Clock, _, rt2 string) {
			if code, e, _ := refresh(t, tb, rt2); code != 200 {
				t.Fatalf("rotating the successor: %d %s", code, e)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clk := storetest.NewClock(time.Now())
			tb := newTestBrokerWith(t, memStore(t), func(o *Options) { o.Now = clk.Now }, withReuseGrace(tc.grace))
			rt1 := survivalLogin(t, tb.URL).RefreshToken
			code, e, rt2 := refresh(t, tb, rt1)
			if code != 200 {
				t.Fatalf("rotation: %d %s", code, e)
			}
			tc.setup(t, tb, clk, rt1, rt2)
			if code, e, _ := refresh(t, tb, rt1); code != 400 || e != "invalid_grant" {
				t.Fatalf("reuse: %d %s, want invalid_grant", code, e)
			}
			// Every token of the family is dead now, whichever was live.
			if code, _, _ := refresh(t, tb, rt2); code == 200 {
				t.Fatal("the family survived the reuse")
			}
		})
	}
}

// Two retries racing: whether they run one after the other (a retry of a retry, allowed) or
// truly at once (one claim of the lost successor fails: reuse), the family never ends with
// two live refresh tokens.
func TestRefreshConcurrentRetries(t *testing.T) {
	for round := 0; round < 5; round++ {
		tb := newTestBroker(t, memStore(t), withReuseGrace(30*time.Second))
		rt1 := survivalLogin(t, tb.URL).RefreshToken
		if code, e, _ := refresh(t, tb, rt1); code != 200 {
			t.Fatalf("rotation: %d %s", code, e)
		}
		var wg sync.WaitGroup
		got := make([]string, 2)
		for i := range got {
			wg.Add(1)
			go func() { defer wg.Done(); _, _, got[i] = refresh(t, tb, rt1) }()
		}
		wg.Wait()
		live := 0
		for _, rt := range got {
			if rt == "" {
				continue
			}
			if code, _, _ := refresh(t, tb, rt); code == 200 {
				live++
			}
		}
		if live > 1 {
			t.Fatalf("round %d: %d refresh tokens of one family worked after racing retries", round, live)
		}
	}
}

// The grace runs from the first rotation: retries never extend it.
func TestRefreshRetriesDoNotExtendTheGrace(t *testing.T) {
	clk := storetest.NewClock(time.Now())
	tb := newTestBrokerWith(t, memStore(t), func(o *Options) { o.Now = clk.Now }, withReuseGrace(30*time.Second))
	rt1 := survivalLogin(t, tb.URL).RefreshToken
	if code, e, _ := refresh(t, tb, rt1); code != 200 {
		t.Fatalf("rotation: %d %s", code, e)
	}
	clk.Advance(20 * time.Second)
	code, e, rt3 := refresh(t, tb, rt1)
	if code != 200 {
		t.Fatalf("retry at +20s: %d %s", code, e)
	}
	clk.Advance(20 * time.Second) // +40s from the rotation, +20s from the retry
	if code, e, _ := refresh(t, tb, rt1); code != 400 || e != "invalid_grant" {
		t.Fatalf("retry at +40s: %d %s, want invalid_grant", code, e)
	}
	if code, _, _ := refresh(t, tb, rt3); code == 200 {
		t.Fatal("the family survived a reuse after the grace")
	}
}

// A narrowed refresh that issued no refresh token leaves nothing to supersede: using the old
// token again is reuse, and cannot bring back a chain with the original scopes.
func TestRefreshWithoutSuccessorHasNoGrace(t *testing.T) {
	tb := newTestBroker(t, memStore(t), withReuseGrace(30*time.Second))
	rt1 := survivalLogin(t, tb.URL).RefreshToken
	code, e, body := tokenPost(t, tb.URL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt1}, "scope": {"openid"}})
	if code != 200 || body["refresh_token"] != nil {
		t.Fatalf("narrowed refresh: %d %s, refresh token %v (want none without offline_access)", code, e, body["refresh_token"])
	}
	if code, e, _ := refresh(t, tb, rt1); code != 400 || e != "invalid_grant" {
		t.Fatalf("second use after a rotation without successor: %d %s, want invalid_grant", code, e)
	}
}

// faultyStore fails writes of new refresh tokens while armed, as a Redis failover would.
type faultyStore struct {
	store.Store
	armed atomic.Bool
}

func (f *faultyStore) Put(ctx context.Context, key string, v []byte, ttl time.Duration) error {
	if f.armed.Load() && strings.HasPrefix(key, "rt:") {
		return errors.New("READONLY You can't write against a read only replica")
	}
	return f.Store.Put(ctx, key, v, ttl)
}

func (f *faultyStore) PutIfAbsent(ctx context.Context, key string, v []byte, ttl time.Duration) (bool, error) {
	if f.armed.Load() && strings.HasPrefix(key, "rt:") {
		return false, errors.New("READONLY You can't write against a read only replica")
	}
	return f.Store.PutIfAbsent(ctx, key, v, ttl)
}

// A retry that fails half-way (its claim written, its new token not) answers 503, and the
// client's next retry still works: the broker recognises its own unfinished claim.
func TestRefreshRetryAfterAFailedRetry(t *testing.T) {
	fs := &faultyStore{Store: memStore(t)}
	tb := newTestBroker(t, fs, withReuseGrace(30*time.Second))
	rt1 := survivalLogin(t, tb.URL).RefreshToken
	if code, e, _ := refresh(t, tb, rt1); code != 200 {
		t.Fatalf("rotation: %d %s", code, e)
	}
	fs.armed.Store(true)
	if code, e, _ := refresh(t, tb, rt1); code != 503 {
		t.Fatalf("retry during the fault: %d %s, want 503", code, e)
	}
	fs.armed.Store(false)
	code, e, rt3 := refresh(t, tb, rt1)
	if code != 200 || rt3 == "" {
		t.Fatalf("retry after the fault: %d %s", code, e)
	}
	if code, e, _ := refresh(t, tb, rt3); code != 200 {
		t.Fatalf("its successor: %d %s", code, e)
	}
}
