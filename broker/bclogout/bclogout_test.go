package bclogout_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/inps/sportello/broker/bclogout"
	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/internal/store/memory"
	"github.com/inps/sportello/internal/store/redis"
	"github.com/inps/sportello/internal/store/redistest"
)

const issuer = "https://login.inps.it"

var epoch = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// eachStore runs fn against the memory store and a real Redis.
func eachStore(t *testing.T, fn func(t *testing.T, s store.Store)) {
	t.Run("memory", func(t *testing.T) {
		s := memory.New(memory.Options{})
		t.Cleanup(func() { _ = s.Close() })
		fn(t, s)
	})
	t.Run("redis", func(t *testing.T) {
		srv := redistest.Start(t)
		s, err := redis.New(t.Context(), redis.Options{URL: srv.URL, Prefix: srv.Prefix})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		fn(t, s)
	})
}

// keys is the issuer's signing key.
type keys struct {
	priv *ecdsa.PrivateKey
}

func newKeys(t testing.TB) keys {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return keys{priv: k}
}

func (k keys) signer() bclogout.Signer {
	return bclogout.KeySigner{Alg: jose.ES256, Key: k.priv, KeyID: "id-1"}
}

// parse verifies a logout token and returns its header type and claims.
func (k keys) parse(t testing.TB, tok string) (string, map[string]any) {
	t.Helper()
	jws, err := jose.ParseSigned(tok, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	payload, err := jws.Verify(&k.priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	h := jws.Signatures[0].Protected
	if h.KeyID != "id-1" {
		t.Fatalf("kid %q", h.KeyID)
	}
	typ, _ := h.ExtraHeaders[jose.HeaderType].(string)
	return typ, c
}

// clock is the workers' manual clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// rp is a relying party's backchannel_logout_uri.
type rp struct {
	*httptest.Server
	status   atomic.Int32 // answered status
	mu       sync.Mutex
	tokens   []string
	perJTI   map[string]int
	inFlight map[string]int
	overlap  atomic.Bool // two deliveries of one jti at once
	k        keys
	t        testing.TB
}

func newRP(t testing.TB, k keys) *rp {
	r := &rp{perJTI: map[string]int{}, inFlight: map[string]int{}, k: k, t: t}
	r.status.Store(http.StatusOK)
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		tok := req.PostFormValue("logout_token")
		_, c := k.parse(t, tok)
		jti, _ := c["jti"].(string)
		r.mu.Lock()
		r.tokens = append(r.tokens, tok)
		r.inFlight[jti]++
		if r.inFlight[jti] > 1 {
			r.overlap.Store(true)
		}
		r.mu.Unlock()
		status := int(r.status.Load())
		r.mu.Lock()
		r.inFlight[jti]--
		if status == http.StatusOK || status == http.StatusNoContent {
			r.perJTI[jti]++
		}
		r.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *rp) received() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.tokens...)
}

func newQueue(t testing.TB, s store.Store, k keys, c *clock, mod func(*bclogout.Options)) *bclogout.Queue {
	t.Helper()
	o := bclogout.Options{Issuer: issuer, Signer: k.signer(), Store: s, Now: c.Now, AllowHTTP: true,
		Logger: slog.New(slog.DiscardHandler)}
	if mod != nil {
		mod(&o)
	}
	q, err := bclogout.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func TestTheLogoutTokenClaims(t *testing.T) {
	k := newKeys(t)
	for _, tc := range []struct {
		rule     string
		sub, sid string
	}{{"sub and sid", "sub-of-rossi", "sid-1"}, {"sid only", "", "sid-1"}, {"sub only", "sub-of-rossi", ""}} {
		t.Run(tc.rule, func(t *testing.T) {
			l := bclogout.Logout{ClientID: "demo-rp", URI: "https://rp.example/bcl", Subject: tc.sub, SessionID: tc.sid}
			tok, err := bclogout.Token(t.Context(), k.signer(), issuer, l, "jti-1", epoch, 2*time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			typ, c := k.parse(t, tok)
			if typ != "logout+jwt" {
				t.Fatalf("typ %q", typ)
			}
			want := map[string]any{"iss": issuer, "aud": "demo-rp", "iat": float64(epoch.Unix()), "exp": float64(epoch.Add(2 * time.Minute).Unix()),
				"jti": "jti-1", "events": map[string]any{"http://schemas.openid.net/event/backchannel-logout": map[string]any{}}}
			if tc.sub != "" {
				want["sub"] = tc.sub
			}
			if tc.sid != "" {
				want["sid"] = tc.sid
			}
			got, _ := json.Marshal(c)
			exp, _ := json.Marshal(want)
			if string(got) != string(exp) {
				t.Fatalf("claims\n%s\nwant\n%s", got, exp)
			}
			if _, ok := c["nonce"]; ok {
				t.Fatal("a logout token carries a nonce")
			}
		})
	}
}

func TestEnqueueRefusesBadLogouts(t *testing.T) {
	k := newKeys(t)
	q := newQueue(t, memory.New(memory.Options{}), k, &clock{now: epoch}, func(o *bclogout.Options) { o.AllowHTTP = false })
	for _, l := range []bclogout.Logout{
		{URI: "https://rp.example/bcl", Subject: "s"},
		{ClientID: "demo-rp", URI: "https://rp.example/bcl"},
		{ClientID: "demo-rp", URI: "http://rp.example/bcl", Subject: "s"},
		{ClientID: "demo-rp", URI: "https://rp.example/bcl#f", Subject: "s"},
		{ClientID: "demo-rp", URI: "/bcl", Subject: "s"},
		{ClientID: "demo-rp", URI: "https://u:p@rp.example/bcl", Subject: "s"},
	} {
		if _, err := q.Enqueue(t.Context(), l); err == nil {
			t.Fatalf("%+v accepted", l)
		}
	}
}

func TestARelyingPartyDownGetsTheTokenWhenItComesBack(t *testing.T) {
	eachStore(t, func(t *testing.T, s store.Store) {
		k := newKeys(t)
		rp := newRP(t, k)
		rp.status.Store(http.StatusServiceUnavailable)
		c := &clock{now: epoch}
		q := newQueue(t, s, k, c, nil)
		id, err := q.Enqueue(t.Context(), bclogout.Logout{ClientID: "demo-rp", URI: rp.URL + "/bcl", Subject: "sub-of-rossi", SessionID: "sid-1"})
		if err != nil {
			t.Fatal(err)
		}
		work := func() int {
			n, err := q.Work(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := work(); n != 1 {
			t.Fatalf("first pass tried %d", n)
		}
		st, _ := q.Status(t.Context(), id)
		if st.State != bclogout.StatePending || st.Attempts != 1 || !strings.Contains(st.LastError, "503") || st.Next != epoch.Add(bclogout.DefaultBackoff).UnixNano() {
			t.Fatalf("after a 503: %+v", st)
		}
		if n := work(); n != 0 {
			t.Fatalf("tried %d before the backoff ran out", n)
		}
		c.Advance(bclogout.DefaultBackoff)
		work()
		st, _ = q.Status(t.Context(), id)
		if st.Attempts != 2 || st.Next != c.Now().Add(2*bclogout.DefaultBackoff).UnixNano() {
			t.Fatalf("the backoff does not double: %+v", st)
		}
		// The relying party comes back, an hour later.
		rp.status.Store(http.StatusOK)
		c.Advance(time.Hour)
		work()
		st, _ = q.Status(t.Context(), id)
		if st.State != bclogout.StateDelivered || st.Attempts != 3 || st.LastError != "" {
			t.Fatalf("after the relying party came back: %+v", st)
		}
		got := rp.received()
		if len(got) != 3 {
			t.Fatalf("%d posts", len(got))
		}
		_, last := k.parse(t, got[2])
		_, first := k.parse(t, got[0])
		if exp := int64(last["exp"].(float64)); exp <= c.Now().Unix() {
			t.Fatalf("the token delivered an hour later has expired: exp %d, now %d", exp, c.Now().Unix())
		}
		if last["jti"] != first["jti"] || last["jti"] != st.JTI {
			t.Fatalf("the jti changed between attempts: %v, %v", first["jti"], last["jti"])
		}
		if n := work(); n != 0 {
			t.Fatalf("a delivered entry was tried again (%d)", n)
		}
	})
}

func TestWorkersNeverDeliverOneEntryTwice(t *testing.T) {
	eachStore(t, func(t *testing.T, s store.Store) {
		k := newKeys(t)
		rp := newRP(t, k)
		c := &clock{now: epoch}
		const entries, workers = 40, 4
		producer := newQueue(t, s, k, c, nil)
		for i := range entries {
			if _, err := producer.Enqueue(t.Context(), bclogout.Logout{ClientID: "demo-rp", URI: rp.URL + "/bcl", SessionID: "sid-" + strconv.Itoa(i)}); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		for range workers {
			q := newQueue(t, s, k, c, nil)
			wg.Go(func() {
				for range 20 {
					if _, err := q.Work(t.Context()); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		rp.mu.Lock()
		defer rp.mu.Unlock()
		if len(rp.perJTI) != entries || len(rp.tokens) != entries || rp.overlap.Load() {
			t.Fatalf("%d entries delivered in %d posts (overlap %v)", len(rp.perJTI), len(rp.tokens), rp.overlap.Load())
		}
		for jti, n := range rp.perJTI {
			if n != 1 {
				t.Fatalf("%s delivered %d times", jti, n)
			}
		}
	})
}

// stuck is a transport that holds a request until released, as a worker that hangs (or
// died) in the middle of a delivery.
type stuck struct {
	arrived chan struct{}
	release chan struct{}
}

func (s *stuck) RoundTrip(*http.Request) (*http.Response, error) {
	close(s.arrived)
	<-s.release
	return nil, errors.New("the worker died")
}

func TestAnEntryHeldByACrashedWorkerIsDeliveredByAnother(t *testing.T) {
	eachStore(t, func(t *testing.T, s store.Store) {
		k := newKeys(t)
		rp := newRP(t, k)
		c := &clock{now: epoch}
		tr := &stuck{arrived: make(chan struct{}), release: make(chan struct{})}
		crashed := newQueue(t, s, k, c, func(o *bclogout.Options) { o.HTTPClient = &http.Client{Transport: tr} })
		id, err := crashed.Enqueue(t.Context(), bclogout.Logout{ClientID: "demo-rp", URI: rp.URL + "/bcl", SessionID: "sid-1"})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, _ = crashed.Work(context.WithoutCancel(t.Context()))
		}()
		<-tr.arrived
		other := newQueue(t, s, k, c, nil)
		if n, err := other.Work(t.Context()); err != nil || n != 0 {
			t.Fatalf("an entry under lease was taken: %d %v", n, err)
		}
		c.Advance(3 * bclogout.DefaultTimeout) // the lease runs out
		if n, err := other.Work(t.Context()); err != nil || n != 1 {
			t.Fatalf("the entry of the crashed worker: %d %v", n, err)
		}
		close(tr.release) // the hung worker wakes up: its write must not undo the delivery
		<-done
		st, err := other.Status(t.Context(), id)
		if err != nil || st.State != bclogout.StateDelivered || len(rp.received()) != 1 {
			t.Fatalf("%+v %v, %d posts", st, err, len(rp.received()))
		}
	})
}

func TestDeliveryGivesUpAfterMaxAttempts(t *testing.T) {
	eachStore(t, func(t *testing.T, s store.Store) {
		k := newKeys(t)
		rp := newRP(t, k)
		rp.status.Store(http.StatusInternalServerError)
		c := &clock{now: epoch}
		var gaveUp []bclogout.Status
		var mu sync.Mutex
		q := newQueue(t, s, k, c, func(o *bclogout.Options) {
			o.MaxAttempts = 3
			o.OnGiveUp = func(_ context.Context, st bclogout.Status) { mu.Lock(); gaveUp = append(gaveUp, st); mu.Unlock() }
		})
		id, err := q.Enqueue(t.Context(), bclogout.Logout{ClientID: "demo-rp", URI: rp.URL + "/bcl", Subject: "s"})
		if err != nil {
			t.Fatal(err)
		}
		for range 6 {
			if _, err := q.Work(t.Context()); err != nil {
				t.Fatal(err)
			}
			c.Advance(time.Hour)
		}
		st, err := q.Status(t.Context(), id)
		if err != nil || st.State != bclogout.StateFailed || st.Attempts != 3 || !strings.Contains(st.LastError, "500") {
			t.Fatalf("%+v %v", st, err)
		}
		if len(rp.received()) != 3 {
			t.Fatalf("%d posts for 3 attempts", len(rp.received()))
		}
		if len(gaveUp) != 1 || gaveUp[0].ID != id || gaveUp[0].State != bclogout.StateFailed {
			t.Fatalf("give-ups recorded: %+v", gaveUp)
		}
		// The head has moved past it: the next entry is the first one read.
		rp.status.Store(http.StatusNoContent)
		id2, _ := q.Enqueue(t.Context(), bclogout.Logout{ClientID: "demo-rp", URI: rp.URL + "/bcl", Subject: "s"})
		if n, err := q.Work(t.Context()); err != nil || n != 1 {
			t.Fatalf("%d %v", n, err)
		}
		if st, _ := q.Status(t.Context(), id2); st.State != bclogout.StateDelivered {
			t.Fatalf("a 204 is not a delivery: %+v", st)
		}
	})
}

// racing runs a worker's pass between the counter's answer and the entry's write, as a
// replica that scans just then.
type racing struct {
	store.Store
	worker func()
	once   sync.Once
}

func (r *racing) Incr(ctx context.Context, key string, delta int64, ttl time.Duration) (int64, error) {
	n, err := r.Store.Incr(ctx, key, delta, ttl)
	r.once.Do(r.worker)
	return n, err
}

func TestASlotVoidedBeforeItsWriteSendsTheWriterToTheNext(t *testing.T) {
	eachStore(t, func(t *testing.T, s store.Store) {
		k := newKeys(t)
		rp := newRP(t, k)
		c := &clock{now: epoch}
		worker := newQueue(t, s, k, c, nil)
		r := &racing{Store: s}
		r.worker = func() {
			if _, err := worker.Work(t.Context()); err != nil {
				t.Error(err)
			}
		}
		producer := newQueue(t, r, k, c, nil)
		id, err := producer.Enqueue(t.Context(), bclogout.Logout{ClientID: "demo-rp", URI: rp.URL + "/bcl", Subject: "s"})
		if err != nil || id != "2" {
			t.Fatalf("id %q %v: the voided slot 1 was not skipped", id, err)
		}
		if n, err := worker.Work(t.Context()); err != nil || n != 1 || len(rp.received()) != 1 {
			t.Fatalf("%d %v", n, err)
		}
	})
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	k := newKeys(t)
	target := newRP(t, k)
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/bcl", http.StatusTemporaryRedirect)
	}))
	defer redirector.Close()
	c := &clock{now: epoch}
	q := newQueue(t, memory.New(memory.Options{}), k, c, nil)
	id, _ := q.Enqueue(t.Context(), bclogout.Logout{ClientID: "demo-rp", URI: redirector.URL, Subject: "s"})
	if _, err := q.Work(t.Context()); err != nil {
		t.Fatal(err)
	}
	st, _ := q.Status(t.Context(), id)
	if st.State != bclogout.StatePending || !strings.Contains(st.LastError, "307") || len(target.received()) != 0 {
		t.Fatalf("%+v, %d posts at the target", st, len(target.received()))
	}
}

type down struct{ store.Store }

var errDown = errors.New("store down")

func (down) Incr(context.Context, string, int64, time.Duration) (int64, error) { return 0, errDown }
func (down) Get(context.Context, string) ([]byte, error)                       { return nil, errDown }

func TestAStoreOutageIsReported(t *testing.T) {
	k := newKeys(t)
	q := newQueue(t, down{}, k, &clock{now: epoch}, nil)
	if _, err := q.Enqueue(t.Context(), bclogout.Logout{ClientID: "demo-rp", URI: "https://rp.example/bcl", Subject: "s"}); !errors.Is(err, errDown) {
		t.Fatalf("enqueue: %v", err)
	}
	if _, err := q.Work(t.Context()); !errors.Is(err, errDown) {
		t.Fatalf("work: %v", err)
	}
}

func TestOptions(t *testing.T) {
	k := newKeys(t)
	s := memory.New(memory.Options{})
	for _, o := range []bclogout.Options{
		{Signer: k.signer(), Store: s},
		{Issuer: issuer, Store: s},
		{Issuer: issuer, Signer: k.signer()},
		{Issuer: issuer, Signer: k.signer(), Store: s, Timeout: time.Minute, Lease: 30 * time.Second},
	} {
		if _, err := bclogout.New(o); err == nil {
			t.Fatalf("%+v accepted", o)
		}
	}
}

func TestTheTokenUsesTheClientsIDTokenAlgorithm(t *testing.T) {
	k := newKeys(t)
	l := bclogout.Logout{ClientID: "demo-rp", URI: "https://rp.example/bcl", Subject: "s", Alg: jose.RS256}
	if _, err := bclogout.Token(t.Context(), k.signer(), issuer, l, "j", epoch, time.Minute); err == nil {
		t.Fatal("an ES256 key signed for an RS256 client")
	}
	var got jose.SignatureAlgorithm
	f := bclogout.SignerFunc(func(_ context.Context, alg jose.SignatureAlgorithm, typ string, _ []byte) (string, error) {
		got = alg
		if typ != bclogout.TokenType {
			t.Fatalf("typ %q", typ)
		}
		return "signed", nil
	})
	if tok, err := bclogout.Token(t.Context(), f, issuer, l, "j", epoch, time.Minute); err != nil || tok != "signed" || got != jose.RS256 {
		t.Fatalf("%q %v, alg %s", tok, err, got)
	}
	l.Alg = ""
	if _, err := bclogout.Token(t.Context(), f, issuer, l, "j", epoch, time.Minute); err != nil || got != bclogout.DefaultAlg {
		t.Fatalf("default alg %s: %v", got, err)
	}
}

func TestOnAttemptIsToldEachRecordedOutcome(t *testing.T) {
	k := newKeys(t)
	rp := newRP(t, k)
	rp.status.Store(http.StatusServiceUnavailable)
	c := &clock{now: epoch}
	var states []string
	q := newQueue(t, memory.New(memory.Options{}), k, c, func(o *bclogout.Options) {
		o.MaxAttempts = 2
		o.OnAttempt = func(_ context.Context, st bclogout.Status) { states = append(states, st.State) }
	})
	for range 2 {
		if _, err := q.Enqueue(t.Context(), bclogout.Logout{ClientID: "demo-rp", URI: rp.URL + "/bcl", SessionID: "sid"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := q.Work(t.Context()); err != nil { // both fail once
		t.Fatal(err)
	}
	c.Advance(time.Hour)
	rp.status.Store(http.StatusOK)
	if _, err := q.Work(t.Context()); err != nil { // both delivered
		t.Fatal(err)
	}
	if got := strings.Join(states, ","); got != "pending,pending,delivered,delivered" {
		t.Fatalf("outcomes told: %s", got)
	}
}
