package broker

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/inps/sportello/broker/bclogout"
	"github.com/inps/sportello/config"
	"github.com/inps/sportello/internal/audit"
	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/internal/store/redistest"
)

// bclReceiver is a relying party's backchannel_logout_uri: it records the logout tokens
// POSTed to it and answers status.
type bclReceiver struct {
	*httptest.Server
	status atomic.Int32
	mu     sync.Mutex
	tokens []string
}

func newBCLReceiver(t *testing.T) *bclReceiver {
	r := &bclReceiver{}
	r.status.Store(http.StatusOK)
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		// §2.5: a POST of the form parameter logout_token.
		if req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		st := int(r.status.Load())
		if st == http.StatusOK {
			r.mu.Lock()
			r.tokens = append(r.tokens, req.PostFormValue("logout_token"))
			r.mu.Unlock()
		}
		w.WriteHeader(st)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *bclReceiver) received() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.tokens...)
}

// withBackchannel registers a backchannel_logout_uri for the client.
func withBackchannel(clientID, uri string, sessionRequired bool) brokerOpt {
	return func(c *config.Config) {
		for i := range c.Clients {
			if c.Clients[i].ID == clientID {
				c.Clients[i].BackchannelLogoutURI = uri
				c.Clients[i].BackchannelLogoutSessionRequired = sessionRequired
			}
		}
	}
}

// bclLogin logs Mario in with the browser for demo-rp and returns the token response.
func bclLogin(t *testing.T, tb *testBroker, br *browser) map[string]any {
	t.Helper()
	q := url.Values{"client_id": {"demo-rp"}, "response_type": {"code"}, "scope": {"openid fiscal_number offline_access"},
		"redirect_uri": {"http://127.0.0.1:9000/callback"}, "state": {"s"}, "idp": {"RSSMRA80A01H501U:2"}}
	cb, resp := br.authorize(t, tb.URL+pathAuthorize+"?"+q.Encode())
	if cb == nil || cb.Get("code") == "" {
		t.Fatalf("no code: %d %v", resp.StatusCode, cb)
	}
	st, out := postForm(t, tb.URL+pathToken, url.Values{"grant_type": {"authorization_code"}, "code": {cb.Get("code")},
		"redirect_uri": {"http://127.0.0.1:9000/callback"}}, "demo-rp", "demo-secret")
	if st != http.StatusOK {
		t.Fatalf("code exchange: %d %v", st, out)
	}
	return out
}

// bclLogout ends the browser's session at end_session with the ID token as hint.
func bclLogout(t *testing.T, tb *testBroker, br *browser, idToken string) {
	t.Helper()
	resp, err := br.Get(tb.URL + pathEndSession + "?" + url.Values{"id_token_hint": {idToken}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

// verifyLogoutToken checks a logout token against the broker's published JWKS and returns
// its typ header and claims.
func verifyLogoutToken(t *testing.T, tb *testBroker, tok string) (string, map[string]any) {
	t.Helper()
	jws, err := jose.ParseSigned(tok, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	h := jws.Signatures[0].Protected
	set := jwks(t, tb)
	keys := set.Key(h.KeyID)
	if len(keys) != 1 {
		t.Fatalf("kid %q is not in the JWKS", h.KeyID)
	}
	payload, err := jws.Verify(keys[0])
	if err != nil {
		t.Fatalf("the logout token does not verify with the published key: %v", err)
	}
	var c map[string]any
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	typ, _ := h.ExtraHeaders[jose.HeaderType].(string)
	return typ, c
}

func work(t *testing.T, tb *testBroker) int {
	t.Helper()
	n, err := tb.bcl.Work(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Back-Channel Logout 1.0 §2.4: the logout token names the session and the person as the
// client knows them, carries the event and no nonce, is typed logout+jwt and signed by a key
// of the issuer's JWKS; a client that registered no URI gets nothing.
func TestBackchannelLogoutTokenReachesTheClient(t *testing.T) {
	rp := newBCLReceiver(t)
	tb := newTestBroker(t, memStore(t), withBackchannel("demo-rp", rp.URL+"/bcl", true))
	br := newBrowser(t)
	out := bclLogin(t, tb, br)
	idc := jwtClaims(t, out["id_token"].(string))
	// demo-spa, in the same SSO session, registered no backchannel_logout_uri.
	verifier, challenge := pkce()
	q := url.Values{"client_id": {"demo-spa"}, "response_type": {"code"}, "scope": {"openid"}, "state": {"s"},
		"redirect_uri": {"http://127.0.0.1:9000/callback"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	cb, _ := br.authorize(t, tb.URL+pathAuthorize+"?"+q.Encode())
	if cb == nil || cb.Get("code") == "" {
		t.Fatal("no SSO code for demo-spa")
	}
	if st, _ := postForm(t, tb.URL+pathToken, url.Values{"grant_type": {"authorization_code"}, "code": {cb.Get("code")},
		"client_id": {"demo-spa"}, "redirect_uri": {"http://127.0.0.1:9000/callback"}, "code_verifier": {verifier}}, "", ""); st != http.StatusOK {
		t.Fatalf("demo-spa code exchange: %d", st)
	}
	if len(rp.received()) != 0 || work(t, tb) != 0 {
		t.Fatal("a logout token before any logout")
	}
	bclLogout(t, tb, br, out["id_token"].(string))
	if n := work(t, tb); n != 1 {
		t.Fatalf("%d deliveries tried, want one: demo-spa has no backchannel_logout_uri", n)
	}
	got := rp.received()
	if len(got) != 1 {
		t.Fatalf("%d logout tokens", len(got))
	}
	typ, c := verifyLogoutToken(t, tb, got[0])
	if typ != "logout+jwt" {
		t.Errorf("typ %q", typ)
	}
	if c["iss"] != tb.issuer || c["aud"] != "demo-rp" || c["sub"] != idc["sub"] || c["sid"] != idc["sid"] || c["sid"] == nil {
		t.Errorf("claims %v, ID token %v", c, idc)
	}
	if ev, _ := c["events"].(map[string]any); ev == nil || ev[bclogout.Event] == nil {
		t.Errorf("events %v", c["events"])
	}
	if _, ok := c["nonce"]; ok {
		t.Error("a logout token carries a nonce")
	}
	iat, _ := numericClaim(c, "iat")
	exp, _ := numericClaim(c, "exp")
	if c["jti"] == nil || exp <= iat || exp-iat > 300 {
		t.Errorf("jti %v, iat %d, exp %d: want a short-lived token", c["jti"], iat, exp)
	}
	if work(t, tb) != 0 || len(rp.received()) != 1 {
		t.Fatal("a delivered logout token was sent again")
	}
}

// §2.5 and the queue: a relying party that answers 503 during the logout gets the token once
// it is back, and the given-up deliveries are audited.
func TestBackchannelLogoutRetriesARelyingPartyThatWasDown(t *testing.T) {
	rp := newBCLReceiver(t)
	rp.status.Store(http.StatusServiceUnavailable)
	tb := newTestBroker(t, memStore(t), withBackchannel("demo-rp", rp.URL+"/bcl", false))
	now := time.Now()
	var mu sync.Mutex
	tb.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	br := newBrowser(t)
	out := bclLogin(t, tb, br)
	sid := jwtClaims(t, out["id_token"].(string))["sid"]
	bclLogout(t, tb, br, out["id_token"].(string))
	if work(t, tb) != 1 || len(rp.received()) != 0 {
		t.Fatal("the first attempt was not made, or counted as delivered")
	}
	advance(bclogout.DefaultBackoff)
	work(t, tb)
	rp.status.Store(http.StatusOK)
	advance(time.Hour)
	work(t, tb)
	got := rp.received()
	if len(got) != 1 {
		t.Fatalf("%d logout tokens once the relying party was back", len(got))
	}
	// Signed at the attempt: valid when delivered, an hour after the logout.
	_, c := verifyLogoutToken(t, tb, got[0])
	if exp, _ := numericClaim(c, "exp"); exp <= now.Unix() || c["sid"] != sid {
		t.Fatalf("claims %v at %d", c, now.Unix())
	}
	resp, err := http.Get(tb.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body := new(strings.Builder)
	_, _ = ioCopy(body, resp)
	for _, want := range []string{`sportello_backchannel_logout_total{outcome="enqueued"} 1`,
		`sportello_backchannel_logout_total{outcome="retried"} 2`, `sportello_backchannel_logout_total{outcome="delivered"} 1`} {
		if !strings.Contains(body.String(), want) {
			t.Errorf("/metrics lacks %q\n%s", want, grepLines(body.String(), "sportello_backchannel"))
		}
	}
}

// Two replicas on one Store, both working the queue, deliver each logout token exactly once.
func TestBackchannelLogoutTwoReplicasDeliverOnce(t *testing.T) {
	for name, st := range map[string]func(t *testing.T) store.Store{
		"memory": func(t *testing.T) store.Store { return memStore(t) },
		"redis":  func(t *testing.T) store.Store { return redisStore(t, redistest.Start(t)) },
	} {
		t.Run(name, func(t *testing.T) {
			rp := newBCLReceiver(t)
			s := st(t)
			dir := t.TempDir()
			a := newTestBrokerIn(t, s, dir, withBackchannel("demo-rp", rp.URL+"/bcl", false))
			b := newTestBrokerIn(t, s, dir, withIssuer(a.URL), withBackchannel("demo-rp", rp.URL+"/bcl", false))
			const people = 3
			for range people {
				br := newBrowser(t)
				out := bclLogin(t, a, br)
				bclLogout(t, a, br, out["id_token"].(string))
			}
			ctx, cancel := context.WithCancel(t.Context())
			var wg sync.WaitGroup
			for _, x := range []*testBroker{a, b, a, b} {
				wg.Go(func() {
					for ctx.Err() == nil && len(rp.received()) < people {
						if _, err := x.bcl.Work(ctx); err != nil && ctx.Err() == nil {
							t.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			cancel()
			for _, x := range []*testBroker{a, b} {
				if _, err := x.bcl.Work(t.Context()); err != nil {
					t.Fatal(err)
				}
			}
			got := rp.received()
			seen := map[any]bool{}
			for _, tok := range got {
				_, c := verifyLogoutToken(t, b, tok)
				seen[c["jti"]] = true
			}
			if len(got) != people || len(seen) != people {
				t.Fatalf("%d posts of %d logout tokens, want %d each once", len(got), len(seen), people)
			}
		})
	}
}

// The background loop (Run) delivers on its own, right after the logout.
func TestBackchannelLogoutRunDelivers(t *testing.T) {
	rp := newBCLReceiver(t)
	tb := newTestBroker(t, memStore(t), withBackchannel("demo-rp", rp.URL+"/bcl", false))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); tb.Run(ctx) }()
	br := newBrowser(t)
	out := bclLogin(t, tb, br)
	bclLogout(t, tb, br, out["id_token"].(string))
	deadline := time.After(20 * time.Second)
	for len(rp.received()) == 0 {
		select {
		case <-deadline:
			t.Fatal("Run delivered nothing")
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	<-done // Run returns once its work has stopped
}

// auditCapture records the audit events.
type auditCapture struct {
	mu     sync.Mutex
	events []audit.Event
}

func (a *auditCapture) Audit(_ context.Context, e audit.Event) error {
	a.mu.Lock()
	a.events = append(a.events, e)
	a.mu.Unlock()
	return nil
}

func (a *auditCapture) of(typ string) []audit.Event {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []audit.Event
	for _, e := range a.events {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// A logout that never reached the client is in the audit trail: the person's session may
// still be open there.
func TestBackchannelLogoutGivenUpIsAudited(t *testing.T) {
	rp := newBCLReceiver(t)
	rp.status.Store(http.StatusInternalServerError)
	aud := &auditCapture{}
	tb := newTestBrokerWith(t, memStore(t), func(o *Options) { o.Auditor = aud }, withBackchannel("demo-rp", rp.URL+"/bcl", false))
	now := time.Now()
	var mu sync.Mutex
	tb.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	br := newBrowser(t)
	out := bclLogin(t, tb, br)
	bclLogout(t, tb, br, out["id_token"].(string))
	for range bclogout.DefaultMaxAttempts + 2 {
		work(t, tb)
		mu.Lock()
		now = now.Add(time.Hour)
		mu.Unlock()
	}
	got := aud.of("logout.backchannel_failed")
	if len(got) != 1 || got[0].Fields["client_id"] != "demo-rp" || got[0].Fields["attempts"] != bclogout.DefaultMaxAttempts ||
		got[0].Fields["sid"] != jwtClaims(t, out["id_token"].(string))["sid"] {
		t.Fatalf("audit records %+v", got)
	}
}

// Every way a session ends tells its clients, once: an IdP-initiated logout (SAML or CIE
// SLO) and a session found past its maximum age.
func TestBackchannelLogoutOnUpstreamLogoutAndMaxAge(t *testing.T) {
	rp := newBCLReceiver(t)
	tb := newTestBroker(t, memStore(t), withBackchannel("demo-rp", rp.URL+"/bcl", false))
	sidOf := func(out map[string]any) any { return jwtClaims(t, out["id_token"].(string))["sid"] }
	lastSid := func() any {
		got := rp.received()
		_, c := verifyLogoutToken(t, tb, got[len(got)-1])
		return c["sid"]
	}

	out := bclLogin(t, tb, newBrowser(t))
	upstream := map[string]string{"idp": "https://idp.example", "name_id": "_nameid-RSSMRA80A01H501U", "session_index": "_session-RSSMRA80A01H501U"}
	if err := tb.EndUpstreamSession(t.Context(), upstream); err != nil {
		t.Fatal(err)
	}
	_ = tb.EndUpstreamSession(t.Context(), upstream) // the IdP's retry
	if work(t, tb) != 1 || len(rp.received()) != 1 || lastSid() != sidOf(out) {
		t.Fatalf("after an IdP-initiated logout: %d logout tokens", len(rp.received()))
	}

	br := newBrowser(t)
	out = bclLogin(t, tb, br)
	tb.now = func() time.Time { return time.Now().Add(13 * time.Hour) } // past tokens.session_max
	q := url.Values{"client_id": {"demo-rp"}, "response_type": {"code"}, "scope": {"openid"},
		"redirect_uri": {"http://127.0.0.1:9000/callback"}, "state": {"s"}, "prompt": {"none"}}
	if cb, _ := br.authorize(t, tb.URL+pathAuthorize+"?"+q.Encode()); cb == nil || cb.Get("error") != "login_required" {
		t.Fatalf("a session past its maximum age answered: %v", cb)
	}
	if work(t, tb) != 1 || len(rp.received()) != 2 || lastSid() != sidOf(out) {
		t.Fatalf("after the maximum age: %d logout tokens", len(rp.received()))
	}
}
