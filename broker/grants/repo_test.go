package grants_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inps/sportello/broker/grants"
	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/internal/store/memory"
	"github.com/inps/sportello/internal/store/redis"
	"github.com/inps/sportello/internal/store/redistest"
)

// The repository's rules hold on both stores, as the Store's own conformance suite does: the
// memory store and a real redis-server run the same tests.
func TestRepoOnMemory(t *testing.T) {
	runRepoTests(t, func(t *testing.T) store.Store {
		s := memory.New(memory.Options{})
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

func TestRepoOnRedis(t *testing.T) {
	srv := redistest.Start(t)
	var n atomic.Int64
	runRepoTests(t, func(t *testing.T) store.Store {
		s, err := redis.New(t.Context(), redis.Options{URL: srv.URL, Prefix: srv.Prefix + strconv.FormatInt(n.Add(1), 10) + ":"})
		if err != nil {
			t.Fatalf("redis.New: %v", err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

type repoTest struct {
	name string
	run  func(t *testing.T, r *grants.Repo)
}

func newRepo(st store.Store, grace time.Duration) *grants.Repo {
	return grants.New(grants.Options{Store: st, RefreshTTL: time.Hour, AccessTTL: 5 * time.Minute, ReuseGrace: grace})
}

func runRepoTests(t *testing.T, newStore func(t *testing.T) store.Store) {
	for _, tt := range repoTests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, newRepo(newStore(t), 0)) })
	}
	for _, tt := range personTests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, newRepo(newStore(t), 0)) })
	}
	for _, tt := range graceTests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, newRepo(newStore(t), 30*time.Second)) })
	}
}

var grant = grants.Grant{ClientID: "rp", Scopes: []string{"openid", "offline_access"}, Subject: "sub-1"}

func putCode(t *testing.T, r *grants.Repo, exp time.Time) string {
	t.Helper()
	code, err := r.RandomToken(32)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.PutCode(t.Context(), code, &grants.Code{Grant: grant, RedirectURI: "https://rp/cb", ExpiresAt: exp}, time.Minute); err != nil {
		t.Fatal(err)
	}
	return code
}

// rotate rotates tok once and returns its successor.
func rotate(t *testing.T, r *grants.Repo, tok string, public bool) (string, error) {
	t.Helper()
	ctx := t.Context()
	now := time.Now()
	rec, err := r.ActiveRefresh(ctx, tok, grant.ClientID, now)
	if err != nil {
		return "", err
	}
	rot, err := r.Begin(ctx, tok, rec, public, now)
	if err != nil {
		return "", err
	}
	var next string
	err = rot.Commit(ctx, func() (string, error) {
		var err error
		next, err = r.IssueRefresh(ctx, &rec.Grant, rec.FamilyID, rec.FamilyExp, now)
		return next, err
	})
	return next, err
}

func issue(t *testing.T, r *grants.Repo, family string, exp time.Time) string {
	t.Helper()
	tok, err := r.IssueRefresh(t.Context(), &grant, family, exp, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

var repoTests = []repoTest{
	{"of concurrent redemptions of one read of a code exactly one takes it", func(t *testing.T, r *grants.Repo) {
		code := putCode(t, r, time.Now().Add(time.Minute))
		var reads []*grants.Pending
		for range 8 {
			p, err := r.GetCode(t.Context(), code)
			if err != nil {
				t.Fatal(err)
			}
			reads = append(reads, p)
		}
		var wins, used atomic.Int64
		var wg sync.WaitGroup
		for _, p := range reads {
			wg.Go(func() {
				switch _, err := r.Redeem(context.Background(), p, time.Now()); {
				case err == nil:
					wins.Add(1)
				case errors.Is(err, grants.ErrUsed):
					used.Add(1)
				default:
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 || used.Load() != 7 {
			t.Fatalf("%d redemptions won, %d refused; want exactly one winner", wins.Load(), used.Load())
		}
	}},
	{"of concurrent token requests for one code exactly one is answered", func(t *testing.T, r *grants.Repo) {
		code := putCode(t, r, time.Now().Add(time.Minute))
		var answered atomic.Int64
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				ctx := context.Background()
				p, err := r.GetCode(ctx, code)
				if err != nil || p.Answered != nil {
					return // answered already: a replay
				}
				if _, err := r.Redeem(ctx, p, time.Now()); err != nil {
					return
				}
				if r.Answer(ctx, p, time.Hour) == nil {
					answered.Add(1)
				}
			})
		}
		wg.Wait()
		if answered.Load() != 1 {
			t.Fatalf("%d token requests were answered for one code, want exactly one", answered.Load())
		}
	}},
	{"an expired code is refused; a redeemed one only within the retry window", func(t *testing.T, r *grants.Repo) {
		exp := time.Now().Add(time.Minute)
		p, err := r.GetCode(t.Context(), putCode(t, r, exp))
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Redeemable(exp); !errors.Is(err, grants.ErrExpired) {
			t.Fatalf("a code at its expiry: %v, want ErrExpired", err)
		}
		if err := p.Redeemable(exp.Add(-time.Second)); err != nil {
			t.Fatalf("a code before its expiry: %v", err)
		}
		red, err := r.Redeem(t.Context(), p, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		again := p.Code
		again.Redeemed = red
		if err := again.Redeemable(red.At.Add(grants.RetryWindow)); err != nil {
			t.Fatalf("a retry within the window: %v", err)
		}
		if err := again.Redeemable(red.At.Add(grants.RetryWindow + time.Second)); !errors.Is(err, grants.ErrUsed) {
			t.Fatalf("a retry past the window: %v, want ErrUsed", err)
		}
	}},
	{"an unknown code is ErrUnknown; an answered code keeps only what to revoke", func(t *testing.T, r *grants.Repo) {
		if _, err := r.GetCode(t.Context(), "no-such-code"); !errors.Is(err, grants.ErrUnknown) {
			t.Fatalf("unknown code: %v, want ErrUnknown", err)
		}
		code := putCode(t, r, time.Now().Add(time.Minute))
		p, _ := r.GetCode(t.Context(), code)
		red, err := r.Redeem(t.Context(), p, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Answer(t.Context(), p, time.Hour); err != nil {
			t.Fatal(err)
		}
		back, err := r.GetCode(t.Context(), code)
		if err != nil || back.Answered == nil || back.Answered.FamilyID != red.FamilyID || back.Grant.Subject != "" {
			t.Fatalf("the answered code: %+v %v, want only its family and access token", back, err)
		}
	}},
	{"a superseded redemption is never answered and its tokens are revoked", func(t *testing.T, r *grants.Repo) {
		code := putCode(t, r, time.Now().Add(time.Minute))
		first, _ := r.GetCode(t.Context(), code)
		red1, err := r.Redeem(t.Context(), first, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		retry, _ := r.GetCode(t.Context(), code)
		if _, err := r.Redeem(t.Context(), retry, time.Now()); err != nil {
			t.Fatal(err)
		}
		if err := r.Answer(t.Context(), first, time.Hour); !errors.Is(err, grants.ErrUsed) {
			t.Fatalf("answering a superseded attempt: %v, want ErrUsed", err)
		}
		if revoked, err := r.AccessRevoked(t.Context(), red1.JTI, red1.FamilyID); err != nil || !revoked {
			t.Fatalf("the superseded attempt's access token: revoked=%v %v", revoked, err)
		}
		if err := r.Answer(t.Context(), retry, time.Hour); err != nil {
			t.Fatalf("the retry: %v", err)
		}
	}},
	{"a reused refresh token revokes its family", func(t *testing.T, r *grants.Repo) {
		rt := issue(t, r, "fam-1", time.Now().Add(time.Hour))
		next, err := rotate(t, r, rt, false)
		if err != nil || next == "" {
			t.Fatalf("first rotation: %q %v", next, err)
		}
		if _, err := rotate(t, r, rt, false); !errors.Is(err, grants.ErrReused) {
			t.Fatalf("the rotated token again: %v, want ErrReused", err)
		}
		if revoked, err := r.FamilyRevoked(t.Context(), "fam-1"); err != nil || !revoked {
			t.Fatalf("family after reuse: revoked=%v %v", revoked, err)
		}
		if _, err := rotate(t, r, next, false); !errors.Is(err, grants.ErrRevoked) {
			t.Fatalf("the successor after reuse: %v, want ErrRevoked", err)
		}
		if revoked, _ := r.AccessRevoked(t.Context(), "some-jti", "fam-1"); !revoked {
			t.Fatal("an access token of the family still passes")
		}
	}},
	{"of two concurrent rotations of one token one is reuse", func(t *testing.T, r *grants.Repo) {
		rt := issue(t, r, "fam-c", time.Now().Add(time.Hour))
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i := range errs {
			wg.Go(func() { _, errs[i] = rotate(t, r, rt, false) })
		}
		wg.Wait()
		ok, reused := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, grants.ErrReused), errors.Is(err, grants.ErrRevoked):
				reused++
			default:
				t.Error(err)
			}
		}
		if ok > 1 || ok+reused != 2 {
			t.Fatalf("%d rotations succeeded, %d refused: at most one may", ok, reused)
		}
	}},
	{"a revoked family refuses its tokens", func(t *testing.T, r *grants.Repo) {
		rt := issue(t, r, "fam-2", time.Now().Add(time.Hour))
		if err := r.RevokeFamily(t.Context(), "fam-2", "test"); err != nil {
			t.Fatal(err)
		}
		if _, err := r.ActiveRefresh(t.Context(), rt, grant.ClientID, time.Now()); !errors.Is(err, grants.ErrRevoked) {
			t.Fatalf("a token of a revoked family: %v, want ErrRevoked", err)
		}
	}},
	{"a family ends at its expiry; a token is its client's only", func(t *testing.T, r *grants.Repo) {
		exp := time.Now().Add(time.Hour)
		rt := issue(t, r, "fam-3", exp)
		if _, err := r.ActiveRefresh(t.Context(), rt, grant.ClientID, exp); !errors.Is(err, grants.ErrExpired) {
			t.Fatalf("at the family's expiry: %v, want ErrExpired", err)
		}
		if _, err := r.ActiveRefresh(t.Context(), rt, "other", time.Now()); !errors.Is(err, grants.ErrOtherClient) {
			t.Fatalf("another client: %v, want ErrOtherClient", err)
		}
		if _, err := r.ActiveRefresh(t.Context(), "no-such-token", grant.ClientID, time.Now()); !errors.Is(err, grants.ErrUnknown) {
			t.Fatalf("an unknown token: %v, want ErrUnknown", err)
		}
	}},
	{"no reuse grace unless configured", func(t *testing.T, r *grants.Repo) {
		rt := issue(t, r, "fam-4", time.Now().Add(time.Hour))
		if _, err := rotate(t, r, rt, false); err != nil {
			t.Fatal(err)
		}
		if _, err := rotate(t, r, rt, false); !errors.Is(err, grants.ErrReused) {
			t.Fatalf("a second use without a grace: %v, want ErrReused", err)
		}
	}},
	{"the deny list holds an access token until it expires", func(t *testing.T, r *grants.Repo) {
		if err := r.DenyAccess(t.Context(), "jti-1", time.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if revoked, err := r.AccessRevoked(t.Context(), "jti-1", ""); err != nil || !revoked {
			t.Fatalf("a denied token: revoked=%v %v", revoked, err)
		}
		if revoked, _ := r.AccessRevoked(t.Context(), "jti-2", "fam-none"); revoked {
			t.Fatal("a token never denied is revoked")
		}
		if err := r.DenyAccess(t.Context(), "jti-old", time.Now().Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
	}},
}

var graceTests = []repoTest{
	{"a confidential client's retry within the grace supersedes the successor", func(t *testing.T, r *grants.Repo) {
		rt := issue(t, r, "fam-g", time.Now().Add(time.Hour))
		first, err := rotate(t, r, rt, false)
		if err != nil {
			t.Fatal(err)
		}
		second, err := rotate(t, r, rt, false)
		if err != nil || second == "" || second == first {
			t.Fatalf("the retry: %q %v", second, err)
		}
		if _, err := rotate(t, r, first, false); !errors.Is(err, grants.ErrReused) {
			t.Fatalf("the superseded successor: %v, want ErrReused", err)
		}
	}},
	{"a public client gets no grace", func(t *testing.T, r *grants.Repo) {
		rt := issue(t, r, "fam-p", time.Now().Add(time.Hour))
		if _, err := rotate(t, r, rt, true); err != nil {
			t.Fatal(err)
		}
		if _, err := rotate(t, r, rt, true); !errors.Is(err, grants.ErrReused) {
			t.Fatalf("a public client's second use: %v, want ErrReused", err)
		}
	}},
}
