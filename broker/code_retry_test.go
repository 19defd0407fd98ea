package broker

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inps/sportello/broker/grants"
	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/internal/store/storetest"
)

// codeFault cuts st at one command of the exchange of code: the nth CompareAndSwap of the
// code record (1: the take, 2: the answer) or the write of a refresh token. lost: the command
// runs and its answer is lost; down: every later command fails, until heal.
type codeFault struct {
	st   *storetest.CutStore
	mu   sync.Mutex
	hit  bool
	heal func()
}

func cutCodeExchange(st *storetest.CutStore, code string, nthCAS int, rt, lost, down bool) *codeFault {
	f := &codeFault{st: st}
	key := "code:" + tokenHash(code)
	seen := 0
	matches := func(op, k string) bool {
		if op == "CompareAndSwap" && k == key {
			seen++
			return seen == nthCAS
		}
		return rt && op == "Put" && strings.HasPrefix(k, "rt:")
	}
	st.Before(func(op, k string) bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.hit {
			return down
		}
		if matches(op, k) {
			f.hit = true
		}
		return false
	})
	if lost {
		st.After(func(op, k string) bool {
			f.mu.Lock()
			defer f.mu.Unlock()
			return f.hit && (op == "CompareAndSwap" && k == key && seen == nthCAS || rt && op == "Put" && strings.HasPrefix(k, "rt:"))
		})
	}
	f.heal = func() { st.Before(nil); st.After(nil) }
	return f
}

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
		name       string
		nthCAS     int
		rt         bool
		lost, down bool
	}{
		{"the store cut right after the take", 1, false, false, true},
		{"the take applied, its answer lost, the store cut", 1, false, true, true},
		{"the store cut after the refresh token was written", 0, true, false, true},
		{"the refresh-token write applied, its answer lost", 0, true, true, false},
		{"the last write applied, its answer lost", 2, false, true, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cs := storetest.NewCutStore(memStore(t))
			tb := newTestBroker(t, cs)
			code, verifier := spaCode(t, tb)
			fault := cutCodeExchange(cs, code, c.nthCAS, c.rt, c.lost, c.down)
			if st, out := spaRedeem(t, tb, code, verifier); st != http.StatusServiceUnavailable || out["error"] != "temporarily_unavailable" {
				t.Fatalf("during the fault: %d %v, want 503 temporarily_unavailable", st, out)
			}
			fault.heal()
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
	cs := storetest.NewCutStore(memStore(t))
	tb := newTestBrokerWith(t, cs, func(o *Options) { o.Now = clk.Now })
	failOnce := func(code, verifier string) {
		t.Helper()
		fault := cutCodeExchange(cs, code, 1, false, false, true)
		if st, _ := spaRedeem(t, tb, code, verifier); st != http.StatusServiceUnavailable {
			t.Fatalf("during the fault: %d", st)
		}
		fault.heal()
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
	clk.Advance(grants.RetryWindow + time.Second)
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
