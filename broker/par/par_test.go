package par_test

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inps/sportello/broker/par"
	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/internal/store/memory"
	"github.com/inps/sportello/internal/store/redis"
	"github.com/inps/sportello/internal/store/redistest"
	"github.com/inps/sportello/internal/store/storetest"
)

// backend is a store under test; advance is nil when its clock cannot be moved (Redis).
type backend struct {
	s       store.Store
	advance func(time.Duration)
}

// eachStore runs fn against the memory store and a real Redis.
func eachStore(t *testing.T, fn func(t *testing.T, b backend)) {
	t.Run("memory", func(t *testing.T) {
		c := storetest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
		s := memory.New(memory.Options{Now: c.Now})
		t.Cleanup(func() { _ = s.Close() })
		fn(t, backend{s: s, advance: c.Advance})
	})
	t.Run("redis", func(t *testing.T) {
		srv := redistest.Start(t)
		s, err := redis.New(t.Context(), redis.Options{URL: srv.URL, Prefix: srv.Prefix})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		fn(t, backend{s: s})
	})
}

func newRequests(t *testing.T, s store.Store) *par.Requests {
	t.Helper()
	r, err := par.New(s, par.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func pushed() url.Values {
	return url.Values{"response_type": {"code"}, "redirect_uri": {"https://rp.example/cb"}, "scope": {"openid"},
		"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}, "state": {"s1"}}
}

func TestAPushedRequestIsRedeemedOnceByItsClient(t *testing.T) {
	eachStore(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		r := newRequests(t, b.s)
		p, err := r.Push(ctx, "demo-rp", pushed())
		if err != nil {
			t.Fatal(err)
		}
		ref, ok := strings.CutPrefix(p.RequestURI, par.URNPrefix)
		if !ok || len(ref) < 22 || p.ExpiresIn != 60 {
			t.Fatalf("pushed %+v", p)
		}
		got, err := r.Redeem(ctx, "demo-rp", p.RequestURI)
		if err != nil {
			t.Fatal(err)
		}
		want := pushed()
		want.Set("client_id", "demo-rp")
		if got.Encode() != want.Encode() {
			t.Fatalf("redeemed %v, want %v", got, want)
		}
		if _, err := r.Redeem(ctx, "demo-rp", p.RequestURI); !errors.Is(err, par.ErrInvalidRequestURI) {
			t.Fatalf("second use: %v", err)
		}
	})
}

func TestAPushedRequestIsBoundToItsClient(t *testing.T) {
	eachStore(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		r := newRequests(t, b.s)
		p, err := r.Push(ctx, "demo-rp", pushed())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Redeem(ctx, "demo-spa", p.RequestURI); !errors.Is(err, par.ErrInvalidRequestURI) {
			t.Fatalf("another client: %v", err)
		}
		// The try spent it: a leaked request_uri is worth nothing.
		if _, err := r.Redeem(ctx, "demo-rp", p.RequestURI); !errors.Is(err, par.ErrInvalidRequestURI) {
			t.Fatalf("after another client's try: %v", err)
		}
	})
}

func TestAPushedRequestExpires(t *testing.T) {
	eachStore(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		rec := &recorder{Store: b.s}
		r := newRequests(t, rec)
		p, err := r.Push(ctx, "demo-rp", pushed())
		if err != nil {
			t.Fatal(err)
		}
		if ttl, err := b.s.TTL(ctx, rec.keys[0]); err != nil || ttl <= 0 || ttl > par.DefaultTTL {
			t.Fatalf("the stored request's TTL is %s (%v)", ttl, err)
		}
		if b.advance == nil {
			return // Redis expires on its own clock; the TTL above is what it will honour
		}
		b.advance(par.DefaultTTL - time.Second)
		p2, _ := r.Push(ctx, "demo-rp", pushed())
		b.advance(time.Second)
		if _, err := r.Redeem(ctx, "demo-rp", p.RequestURI); !errors.Is(err, par.ErrInvalidRequestURI) {
			t.Fatalf("expired: %v", err)
		}
		if _, err := r.Redeem(ctx, "demo-rp", p2.RequestURI); err != nil {
			t.Fatalf("still fresh: %v", err)
		}
	})
}

func TestConcurrentRedeemsGetTheRequestOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		r := newRequests(t, b.s)
		p, err := r.Push(ctx, "demo-rp", pushed())
		if err != nil {
			t.Fatal(err)
		}
		var wins atomic.Int32
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				if _, err := r.Redeem(ctx, "demo-rp", p.RequestURI); err == nil {
					wins.Add(1)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d redeems succeeded", wins.Load())
		}
	})
}

func TestTheStoreHoldsNoUsableRequestURI(t *testing.T) {
	eachStore(t, func(t *testing.T, b backend) {
		rec := &recorder{Store: b.s}
		r := newRequests(t, rec)
		p, err := r.Push(t.Context(), "demo-rp", pushed())
		if err != nil {
			t.Fatal(err)
		}
		ref := strings.TrimPrefix(p.RequestURI, par.URNPrefix)
		if len(rec.keys) != 1 || strings.Contains(rec.keys[0], ref) || !strings.HasPrefix(rec.keys[0], par.DefaultPrefix) || rec.ttl != par.DefaultTTL {
			t.Fatalf("keys %v ttl %s", rec.keys, rec.ttl)
		}
	})
}

type recorder struct {
	store.Store
	keys []string
	ttl  time.Duration
}

func (r *recorder) PutIfAbsent(ctx context.Context, key string, v []byte, ttl time.Duration) (bool, error) {
	r.keys, r.ttl = append(r.keys, key), ttl
	return r.Store.PutIfAbsent(ctx, key, v, ttl)
}

func TestPushRules(t *testing.T) {
	with := func(k string, v ...string) url.Values {
		q := pushed()
		q[k] = v
		return q
	}
	for _, tc := range []struct {
		rule   string
		client string
		params url.Values
		ok     bool
	}{
		{"a plain request is accepted", "demo-rp", pushed(), true},
		{"client_id naming the authenticated client is accepted", "demo-rp", with("client_id", "demo-rp"), true},
		{"an unauthenticated push is refused", "", pushed(), false},
		{"request_uri must not be pushed", "demo-rp", with("request_uri", par.URNPrefix+"x"), false},
		{"client_id must name the authenticated client", "demo-rp", with("client_id", "demo-spa"), false},
		{"a parameter given twice is refused", "demo-rp", with("scope", "openid", "openid"), false},
		{"client_id given twice is refused", "demo-rp", with("client_id", "demo-rp", "demo-rp"), false},
		{"an oversized request is refused", "demo-rp", with("state", strings.Repeat("s", par.MaxSize)), false},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			err := par.CheckPush(tc.client, tc.params)
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, par.ErrInvalidRequest)) {
				t.Fatalf("got %v", err)
			}
		})
	}
	many := url.Values{}
	for i := range par.MaxParams + 1 {
		many.Set("p"+strings.Repeat("x", i), "v")
	}
	if err := par.CheckPush("demo-rp", many); !errors.Is(err, par.ErrInvalidRequest) {
		t.Fatalf("too many parameters: %v", err)
	}
	r := newRequests(t, memory.New(memory.Options{}))
	if _, err := r.Push(t.Context(), "demo-rp", with("request_uri", "x")); !errors.Is(err, par.ErrInvalidRequest) {
		t.Fatalf("Push does not apply CheckPush: %v", err)
	}
}

func TestAuthorizeWithRequestURI(t *testing.T) {
	uri := par.URNPrefix + "abc"
	for _, tc := range []struct {
		rule  string
		query string
		has   bool
		want  error
	}{
		{"request_uri and client_id are accepted", "client_id=demo-rp&request_uri=" + url.QueryEscape(uri), true, nil},
		{"no request_uri: not a PAR request", "client_id=demo-rp&response_type=code", false, nil},
		{"client_id is required", "request_uri=" + url.QueryEscape(uri), true, par.ErrInvalidRequest},
		{"no other parameter may come with request_uri", "client_id=demo-rp&scope=openid&request_uri=" + url.QueryEscape(uri), true, par.ErrInvalidRequest},
		{"redirect_uri may not be overridden", "client_id=demo-rp&redirect_uri=https://evil.example&request_uri=" + url.QueryEscape(uri), true, par.ErrInvalidRequest},
		{"request_uri twice is refused", "client_id=demo-rp&request_uri=a&request_uri=b", true, par.ErrInvalidRequest},
		{"client_id twice is refused", "client_id=a&client_id=b&request_uri=" + url.QueryEscape(uri), true, par.ErrInvalidRequest},
		{"a request_uri not issued here is refused", "client_id=demo-rp&request_uri=https://rp.example/req.jwt", true, par.ErrInvalidRequestURI},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			q, _ := url.ParseQuery(tc.query)
			gotURI, client, has, err := par.FromAuthorize(q)
			if has != tc.has || !errors.Is(err, tc.want) && (err != nil || tc.want != nil) {
				t.Fatalf("has %v err %v", has, err)
			}
			if tc.want == nil && has && (gotURI != uri || client != "demo-rp") {
				t.Fatalf("%q %q", gotURI, client)
			}
		})
	}
}

func TestRedeemRefusesForeignRequestURIs(t *testing.T) {
	r := newRequests(t, memory.New(memory.Options{}))
	for _, uri := range []string{"", "https://rp.example/r", par.URNPrefix, par.URNPrefix + strings.Repeat("a", 200), par.URNPrefix + "made-up"} {
		if _, err := r.Redeem(t.Context(), "demo-rp", uri); !errors.Is(err, par.ErrInvalidRequestURI) {
			t.Fatalf("%q: %v", uri, err)
		}
	}
}

// down is a store that fails.
type down struct{ store.Store }

var errDown = errors.New("store down")

func (down) PutIfAbsent(context.Context, string, []byte, time.Duration) (bool, error) {
	return false, errDown
}
func (down) Take(context.Context, string) ([]byte, error) { return nil, errDown }

func TestAStoreOutageIsNoClientError(t *testing.T) {
	r := newRequests(t, down{})
	if _, err := r.Push(t.Context(), "demo-rp", pushed()); !errors.Is(err, errDown) || errors.Is(err, par.ErrInvalidRequest) {
		t.Fatalf("push: %v", err)
	}
	if _, err := r.Redeem(t.Context(), "demo-rp", par.URNPrefix+"abc"); !errors.Is(err, errDown) || !store.IsOutage(err) || errors.Is(err, par.ErrInvalidRequestURI) {
		t.Fatalf("redeem: %v", err)
	}
}

func TestAFailingRandomSourceIssuesNothing(t *testing.T) {
	r, err := par.New(memory.New(memory.Options{}), par.Options{Rand: bytes.NewReader(make([]byte, 40))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Push(t.Context(), "demo-rp", pushed()); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Push(t.Context(), "demo-rp", pushed()); err == nil {
		t.Fatal("a push without randomness succeeded")
	}
	same, _ := par.New(memory.New(memory.Options{}), par.Options{Rand: bytes.NewReader(make([]byte, 64))})
	if _, err := same.Push(t.Context(), "demo-rp", pushed()); err != nil {
		t.Fatal(err)
	}
	if _, err := same.Push(t.Context(), "demo-rp", pushed()); err == nil || !strings.Contains(err.Error(), "collision") {
		t.Fatalf("a repeated reference: %v", err)
	}
}

func TestOptions(t *testing.T) {
	s := memory.New(memory.Options{})
	for _, ttl := range []time.Duration{time.Millisecond, 1500 * time.Millisecond, time.Hour, -time.Second} {
		if _, err := par.New(s, par.Options{TTL: ttl}); err == nil {
			t.Fatalf("TTL %s accepted", ttl)
		}
	}
	if _, err := par.New(nil, par.Options{}); err == nil {
		t.Fatal("no store accepted")
	}
	r, _ := par.New(s, par.Options{TTL: 90 * time.Second})
	p, err := r.Push(t.Context(), "demo-rp", pushed())
	if err != nil || p.ExpiresIn != 90 {
		t.Fatalf("%+v %v", p, err)
	}
}

// FuzzFromAuthorize feeds arbitrary queries to FromAuthorize: whatever it accepts holds one
// request_uri of ours and one client_id, and nothing else.
func FuzzFromAuthorize(f *testing.F) {
	f.Add("client_id=demo-rp&request_uri=" + url.QueryEscape(par.URNPrefix+"abc"))
	f.Add("client_id=demo-rp&request_uri=a&request_uri=b")
	f.Add("client_id=demo-rp&scope=openid&request_uri=" + url.QueryEscape(par.URNPrefix))
	f.Add("request_uri=%zz&client_id=;")
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		uri, client, has, err := par.FromAuthorize(q)
		if err != nil || !has {
			return
		}
		if len(q) != 2 || len(q["request_uri"]) != 1 || len(q["client_id"]) != 1 || client == "" || !strings.HasPrefix(uri, par.URNPrefix) {
			t.Fatalf("accepted %v", q)
		}
	})
}
