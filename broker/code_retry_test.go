package broker

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inps/sportello/broker/store"
	"github.com/inps/sportello/broker/store/storetest"
)

var errCut = errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")

// cutStore cuts the store at a chosen command, as a Redis outage would: the command that
// matches is applied, its answer reaches the broker or is lost (lost), and with cut every
// later command fails until heal.
type cutStore struct {
	store.Store
	mu    sync.Mutex
	match func(op, key string, value []byte) bool
	lost  bool
	cut   bool
	down  bool
}

func (c *cutStore) arm(lost, cut bool, match func(op, key string, value []byte) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.match, c.lost, c.cut = match, lost, cut
}

func (c *cutStore) heal() { c.mu.Lock(); c.down = false; c.mu.Unlock() }

// enter returns an error for a command refused by the outage, and whether the command that
// matched must lose its answer.
func (c *cutStore) enter(op, key string, value []byte) (lose bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.down {
		return false, errCut
	}
	if c.match != nil && c.match(op, key, value) {
		c.match = nil
		c.down = c.cut
		return c.lost, nil
	}
	return false, nil
}

func (c *cutStore) Get(ctx context.Context, key string) ([]byte, error) {
	if _, err := c.enter("get", key, nil); err != nil {
		return nil, err
	}
	return c.Store.Get(ctx, key)
}

func (c *cutStore) Put(ctx context.Context, key string, v []byte, ttl time.Duration) error {
	lose, err := c.enter("put", key, v)
	if err != nil {
		return err
	}
	if err := c.Store.Put(ctx, key, v, ttl); err != nil || !lose {
		return err
	}
	return errCut
}

func (c *cutStore) PutIfAbsent(ctx context.Context, key string, v []byte, ttl time.Duration) (bool, error) {
	lose, err := c.enter("putifabsent", key, v)
	if err != nil {
		return false, err
	}
	ok, err := c.Store.PutIfAbsent(ctx, key, v, ttl)
	if lose {
		return false, errCut
	}
	return ok, err
}

func (c *cutStore) CompareAndSwap(ctx context.Context, key string, old, next []byte, ttl time.Duration) (bool, error) {
	lose, err := c.enter("cas", key, next)
	if err != nil {
		return false, err
	}
	ok, err := c.Store.CompareAndSwap(ctx, key, old, next, ttl)
	if lose {
		return false, errCut
	}
	return ok, err
}

func (c *cutStore) Take(ctx context.Context, key string) ([]byte, error) {
	if _, err := c.enter("take", key, nil); err != nil {
		return nil, err
	}
	return c.Store.Take(ctx, key)
}

func (c *cutStore) Delete(ctx context.Context, key string) error {
	if _, err := c.enter("delete", key, nil); err != nil {
		return err
	}
	return c.Store.Delete(ctx, key)
}

// theTake matches the command that takes a code (a compare-and-swap to "redeemed", or a
// plain take); theAnswer the one that records its answer; anRT the write of a refresh token.
func theTake(op, key string, v []byte) bool {
	return strings.HasPrefix(key, "code:") && (op == "take" || op == "cas" && bytes.Contains(v, []byte(`"redeemed"`)))
}

func theAnswer(op, key string, v []byte) bool {
	return op == "cas" && strings.HasPrefix(key, "code:") && bytes.Contains(v, []byte(`"answered"`))
}

func anRT(op, key string, _ []byte) bool { return op == "put" && strings.HasPrefix(key, "rt:") }

// spaCode logs Mario in through demo-spa (public, PKCE) and returns the code and the verifier.
func spaCode(t *testing.T, tb *testBroker) (string, string) {
	t.Helper()
	verifier, challenge := pkce()
	return codeFor(t, tb, "demo-spa", url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}}), verifier
}

func spaRedeem(t *testing.T, tb *testBroker, code, verifier string) (int, map[string]any) {
	t.Helper()
	return postForm(t, tb.URL+pathToken, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_id": {"demo-spa"},
		"redirect_uri": {"http://127.0.0.1:9000/callback"}, "code_verifier": {verifier}}, "", "")
}

// A code whose tokens never reached the client — the store cut after the take, after the
// tokens were written, or the last write's answer lost — is not lost: the same client with the
// same code_verifier gets tokens on its retry, exactly once; a replay after that answer is
// refused and revokes them (RFC 6749 §4.1.2).
func TestCodeRetryAfterAStoreFault(t *testing.T) {
	cases := []struct {
		name      string
		lost, cut bool
		match     func(op, key string, v []byte) bool
	}{
		{"the store cut right after the take", false, true, theTake},
		{"the take applied, its answer lost, the store cut", true, true, theTake},
		{"the store cut after the refresh token was written", false, true, anRT},
		{"the refresh-token write applied, its answer lost", true, false, anRT},
		{"the last write applied, its answer lost", true, false, theAnswer},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cs := &cutStore{Store: memStore(t)}
			tb := newTestBroker(t, cs)
			code, verifier := spaCode(t, tb)
			cs.arm(c.lost, c.cut, c.match)
			if st, out := spaRedeem(t, tb, code, verifier); st != http.StatusServiceUnavailable || out["error"] != "temporarily_unavailable" {
				t.Fatalf("during the fault: %d %v, want 503 temporarily_unavailable", st, out)
			}
			cs.heal()
			st, out := spaRedeem(t, tb, code, verifier)
			if st != http.StatusOK || out["access_token"] == nil || out["id_token"] == nil || out["refresh_token"] == nil {
				t.Fatalf("the retry: %d %v, want tokens", st, out)
			}
			at := out["access_token"].(string)
			if _, st := userinfo(t, tb, at); st != http.StatusOK {
				t.Fatalf("the retry's access token: %d", st)
			}
			if st, again := spaRedeem(t, tb, code, verifier); st != http.StatusBadRequest || again["error"] != "invalid_grant" {
				t.Fatalf("a replay after the answer: %d %v, want invalid_grant", st, again)
			}
			if got := introspect(t, tb, at, "demo-service", "demo-service-secret"); got["active"] != false {
				t.Fatalf("the replay did not revoke the tokens it was answered with: %v", got)
			}
			if _, got := postForm(t, tb.URL+pathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {out["refresh_token"].(string)},
				"client_id": {"demo-spa"}}, "", ""); got["error"] != "invalid_grant" {
				t.Fatalf("the refresh token after the replay: %v", got)
			}
		})
	}
}

// Only the client the code was issued to, with the verifier of its challenge, within the
// window, may retry; a refused retry consumes nothing.
func TestCodeRetryIsTheClientsOnly(t *testing.T) {
	clk := storetest.NewClock(time.Now())
	cs := &cutStore{Store: memStore(t)}
	tb := newTestBrokerWith(t, cs, func(o *Options) { o.Now = clk.Now })
	failOnce := func(code, verifier string) {
		t.Helper()
		cs.arm(false, true, theTake)
		if st, _ := spaRedeem(t, tb, code, verifier); st != http.StatusServiceUnavailable {
			t.Fatalf("during the fault: %d", st)
		}
		cs.heal()
	}
	code, verifier := spaCode(t, tb)
	failOnce(code, verifier)
	other, _ := pkce()
	if st, out := spaRedeem(t, tb, code, other+"x"); st != http.StatusBadRequest || out["error_description"] != "code_verifier does not match code_challenge" {
		t.Fatalf("a retry with another verifier: %d %v", st, out)
	}
	if st, out := postForm(t, tb.URL+pathToken, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {"http://127.0.0.1:9000/callback"}, "code_verifier": {verifier}}, "demo-rp", "demo-secret"); st != http.StatusBadRequest ||
		out["error_description"] != "code was issued to another client" {
		t.Fatalf("a retry by another client: %d %v", st, out)
	}
	if st, out := spaRedeem(t, tb, code, verifier); st != http.StatusOK {
		t.Fatalf("the client's own retry after refused ones: %d %v", st, out)
	}

	late, lateVerifier := spaCode(t, tb)
	failOnce(late, lateVerifier)
	clk.Advance(codeRetryWindow + time.Second)
	if st, out := spaRedeem(t, tb, late, lateVerifier); st != http.StatusBadRequest || out["error_description"] != "authorization code already used" {
		t.Fatalf("a retry after the window: %d %v", st, out)
	}
}

// blockingRT holds the first refresh-token write until released, so that a retry can
// overtake the attempt that made it.
type blockingRT struct {
	store.Store
	held    atomic.Bool
	entered chan struct{}
	release chan struct{}
}

func (b *blockingRT) Put(ctx context.Context, key string, v []byte, ttl time.Duration) error {
	if strings.HasPrefix(key, "rt:") && b.held.CompareAndSwap(false, true) {
		close(b.entered)
		<-b.release
	}
	return b.Store.Put(ctx, key, v, ttl)
}

// Two redemptions racing (a client retrying while its first request is still running): one
// answer carries tokens, the other is invalid_grant, and the overtaken attempt's tokens are
// dead.
func TestCodeRetryOvertakingARunningAttemptAnswersOnce(t *testing.T) {
	bs := &blockingRT{Store: memStore(t), entered: make(chan struct{}), release: make(chan struct{})}
	tb := newTestBroker(t, bs)
	code, verifier := spaCode(t, tb)
	type answer struct {
		st  int
		out map[string]any
	}
	first := make(chan answer)
	go func() { st, out := spaRedeem(t, tb, code, verifier); first <- answer{st, out} }()
	<-bs.entered
	release := sync.OnceFunc(func() { close(bs.release) })
	defer release() // never leave the first request hanging (the server waits for it)
	st, out := spaRedeem(t, tb, code, verifier)
	if st != http.StatusOK {
		t.Fatalf("the retry: %d %v", st, out)
	}
	release()
	a := <-first
	if a.st != http.StatusBadRequest || a.out["error"] != "invalid_grant" {
		t.Fatalf("the overtaken attempt: %d %v, want invalid_grant", a.st, a.out)
	}
	if _, st := userinfo(t, tb, out["access_token"].(string)); st != http.StatusOK {
		t.Fatalf("the retry's tokens must live: %d", st)
	}
}
