package oidcfed_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/inps/sportello/internal/store/memory"
	"github.com/inps/sportello/providers/oidcfed"
	"github.com/inps/sportello/providers/oidcfed/devfed"
)

var (
	keysOnce sync.Once
	keys     []jose.JSONWebKey
)

// fedKey is one of a few RSA keys made once for these tests.
func fedKey(t testing.TB, i int) jose.JSONWebKey {
	keysOnce.Do(func() {
		for range 6 {
			k, err := devfed.Key(2048)
			if err != nil {
				panic(err)
			}
			keys = append(keys, k)
		}
	})
	return keys[i]
}

// testFed is a trust anchor, an intermediate and an OP leaf on one test server.
type testFed struct {
	srv         *httptest.Server
	ta, mid, op *devfed.Entity
	opCore      jose.JSONWebKey
	entities    []*devfed.Entity
	now         time.Time
	stopped     bool
	mu          sync.Mutex
}

func newTestFed(t *testing.T) *testFed {
	f := &testFed{now: time.Now()}
	mux := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		stopped := f.stopped
		f.mu.Unlock()
		if stopped {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		for _, e := range f.entities {
			if e.ServeFederation(w, r) {
				return
			}
		}
		http.NotFound(w, r)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	clock := func() time.Time { return f.now }
	base := f.srv.URL
	f.ta = &devfed.Entity{ID: base + "/ta", Key: fedKey(t, 0), Now: clock,
		Metadata: map[string]map[string]any{oidcfed.EntityFederated: {"organization_name": "Test TA"}}}
	f.mid = &devfed.Entity{ID: base + "/mid", Key: fedKey(t, 1), Now: clock, AuthorityHints: []string{f.ta.ID}}
	f.opCore = fedKey(t, 3)
	f.op = &devfed.Entity{ID: base + "/op", Key: fedKey(t, 2), Now: clock, AuthorityHints: []string{f.mid.ID},
		Metadata: map[string]map[string]any{oidcfed.EntityOP: {
			"issuer": base + "/op", "authorization_endpoint": base + "/op/authorize",
			"grant_types_supported": []string{"authorization_code", "refresh_token", "implicit"},
			"jwks":                  devfed.Public(f.opCore),
		}}}
	f.ta.Add(f.mid.ID, devfed.Subordinate{JWKS: devfed.Public(f.mid.Key), Policy: oidcfed.Policy{oidcfed.EntityOP: {
		"grant_types_supported": {"subset_of": []any{"authorization_code", "refresh_token"}},
	}}})
	f.mid.Add(f.op.ID, devfed.Subordinate{JWKS: devfed.Public(f.op.Key)})
	f.entities = []*devfed.Entity{f.ta, f.mid, f.op}
	return f
}

func (f *testFed) resolver(anchors ...oidcfed.Anchor) *oidcfed.Resolver {
	if anchors == nil {
		anchors = []oidcfed.Anchor{{EntityID: f.ta.ID, JWKS: devfed.Public(f.ta.Key)}}
	}
	return &oidcfed.Resolver{Anchors: anchors, Client: f.srv.Client(), Store: memory.New(memory.Options{}),
		Now: func() time.Time { return f.now }}
}

func TestTrustChainResolves(t *testing.T) {
	f := newTestFed(t)
	r := f.resolver()
	var outcomes []string
	r.OnResolve = func(_, o string) { outcomes = append(outcomes, o) }
	c, err := r.Resolve(t.Context(), oidcfed.EntityOP, f.op.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Path, []string{f.op.ID, f.mid.ID, f.ta.ID}) || c.Anchor != f.ta.ID || len(c.Statements) != 4 {
		t.Fatalf("path %v, anchor %s, %d statements", c.Path, c.Anchor, len(c.Statements))
	}
	if got := c.Metadata["grant_types_supported"]; !slices.Equal(toStrings(got), []string{"authorization_code", "refresh_token"}) {
		t.Fatalf("the anchor's policy was not applied: %v", got)
	}
	if keys, err := c.JWKS(); err != nil || keys.Keys[0].KeyID != f.opCore.KeyID {
		t.Fatalf("OP keys %v, %v", keys, err)
	}
	// Cached in the Store until exp: a second resolution asks nobody.
	f.mu.Lock()
	f.stopped = true
	f.mu.Unlock()
	if _, err := r.Resolve(t.Context(), oidcfed.EntityOP, f.op.ID, nil); err != nil {
		t.Fatalf("cached chain: %v", err)
	}
	if !slices.Equal(outcomes, []string{oidcfed.OutcomeResolved, oidcfed.OutcomeCached}) {
		t.Fatalf("outcomes %v", outcomes)
	}
	// Past its exp the chain is gone: nobody answers, so the OP has no chain.
	f.now = f.now.Add(25 * time.Hour)
	if _, err := r.Resolve(t.Context(), oidcfed.EntityOP, f.op.ID, nil); !errors.Is(err, oidcfed.ErrFetch) {
		t.Fatalf("after exp, with the federation down: %v, want ErrFetch", err)
	}
}

func TestTrustChainRefreshesBeforeExpiry(t *testing.T) {
	f := newTestFed(t)
	r := f.resolver()
	first, err := r.Resolve(t.Context(), oidcfed.EntityOP, f.op.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(23*time.Hour + 30*time.Minute) // within the hour before exp
	second, err := r.Resolve(t.Context(), oidcfed.EntityOP, f.op.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if second.Expires <= first.Expires {
		t.Fatalf("the chain was not resolved again before its exp (%d, %d)", first.Expires, second.Expires)
	}
	// A failed refresh keeps the cached chain while it is valid.
	f.now = f.now.Add(23*time.Hour + 30*time.Minute)
	f.mu.Lock()
	f.stopped = true
	f.mu.Unlock()
	if _, err := r.Resolve(t.Context(), oidcfed.EntityOP, f.op.ID, nil); err != nil {
		t.Fatalf("refresh failed with a valid chain cached: %v", err)
	}
}

func toStrings(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

func TestTrustChainRefusesHostileFederations(t *testing.T) {
	cases := []struct {
		name    string
		mod     func(f *testFed)
		anchors func(f *testFed) []oidcfed.Anchor
		marks   []string
		want    error
	}{
		{name: "OP configuration signed by a key not in its superior's statement", want: oidcfed.ErrSignature,
			mod: func(f *testFed) { f.mid.Add(f.op.ID, devfed.Subordinate{JWKS: devfed.Public(fedKey(t, 4))}) }},
		{name: "subordinate statement signed by a key the superior does not publish", want: oidcfed.ErrSignature,
			mod: func(f *testFed) { f.mid.Key = fedKey(t, 4); f.mid.JWKS = devfed.Public(fedKey(t, 1)) }},
		{name: "expired subordinate statement", want: oidcfed.ErrExpired,
			mod: func(f *testFed) {
				past := f.now.Add(-48 * time.Hour)
				f.mid.Now = func() time.Time { return past }
			}},
		{name: "chain to an unconfigured anchor", want: oidcfed.ErrNoChain,
			anchors: func(f *testFed) []oidcfed.Anchor {
				return []oidcfed.Anchor{{EntityID: f.srv.URL + "/other-ta", JWKS: devfed.Public(fedKey(t, 0))}}
			}},
		{name: "anchor configuration not signed by the configured anchor key", want: oidcfed.ErrSignature,
			anchors: func(f *testFed) []oidcfed.Anchor {
				return []oidcfed.Anchor{{EntityID: f.ta.ID, JWKS: devfed.Public(fedKey(t, 5))}}
			}},
		{name: "metadata policy violation", want: oidcfed.ErrPolicy,
			mod: func(f *testFed) {
				f.mid.Add(f.op.ID, devfed.Subordinate{JWKS: devfed.Public(f.op.Key), Policy: oidcfed.Policy{oidcfed.EntityOP: {
					"grant_types_supported": {"superset_of": []any{"client_credentials"}},
				}}})
			}},
		{name: "policies of the chain that conflict", want: oidcfed.ErrPolicy,
			mod: func(f *testFed) {
				f.ta.Add(f.mid.ID, devfed.Subordinate{JWKS: devfed.Public(f.mid.Key), Policy: oidcfed.Policy{oidcfed.EntityOP: {"x": {"value": "a"}}}})
				f.mid.Add(f.op.ID, devfed.Subordinate{JWKS: devfed.Public(f.op.Key), Policy: oidcfed.Policy{oidcfed.EntityOP: {"x": {"value": "b"}}}})
			}},
		{name: "max_path_length exceeded", want: oidcfed.ErrNoChain,
			mod: func(f *testFed) {
				zero := 0
				f.ta.Add(f.mid.ID, devfed.Subordinate{JWKS: devfed.Public(f.mid.Key), Constraints: &oidcfed.Constraints{MaxPathLength: &zero}})
			}},
		{name: "required trust mark missing", want: oidcfed.ErrTrustMark, marks: []string{"https://ta/openid_provider/public"}},
		{name: "trust mark issued by an entity outside the chain", want: oidcfed.ErrTrustMark, marks: []string{"tm"},
			mod: func(f *testFed) {
				stranger := &devfed.Entity{ID: f.srv.URL + "/stranger", Key: fedKey(t, 4)}
				tm, err := stranger.TrustMark("tm", f.op.ID)
				if err != nil {
					t.Fatal(err)
				}
				f.op.TrustMarks = []oidcfed.TrustMarkRef{{ID: "tm", TrustMark: tm}}
			}},
		{name: "leaf without authority hints", want: oidcfed.ErrNoChain,
			mod: func(f *testFed) { f.op.AuthorityHints = nil }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newTestFed(t)
			if c.mod != nil {
				c.mod(f)
			}
			var anchors []oidcfed.Anchor
			if c.anchors != nil {
				anchors = c.anchors(f)
			}
			_, err := f.resolver(anchors...).Resolve(t.Context(), oidcfed.EntityOP, f.op.ID, c.marks)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
	t.Run("trust mark issued by the anchor verifies", func(t *testing.T) {
		f := newTestFed(t)
		tm, err := f.ta.TrustMark("https://ta/openid_provider/public", f.op.ID)
		if err != nil {
			t.Fatal(err)
		}
		f.op.TrustMarks = []oidcfed.TrustMarkRef{{ID: "https://ta/openid_provider/public", TrustMark: tm}}
		c, err := f.resolver().Resolve(t.Context(), oidcfed.EntityOP, f.op.ID, []string{"https://ta/openid_provider/public"})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(c.TrustMarks, []string{"https://ta/openid_provider/public"}) {
			t.Fatalf("trust marks %v", c.TrustMarks)
		}
	})
}
