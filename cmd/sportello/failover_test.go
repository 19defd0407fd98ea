package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"

	"github.com/inps/sportello/internal/store/redistest"
)

// Redis Sentinel with the replica behind a link that delays the replication stream by
// 20–200 ms, and the broker run through serve's own wiring (dev mode on the Sentinel URL, no
// durability setting: the default). Refresh rotations, a lockout and a confirmed PIN change
// are each answered, then the primary's host dies (SIGKILL, and the bytes still on the link are
// lost). Every write answered with a 200
// must be on the promoted replica: without WAIT the acknowledged writes still in the slow
// link die with the primary (all refresh chains break, the lockout and the new PIN vanish).
func TestSentinelFailoverWithALaggingReplicaLosesNoAcknowledgedWrite(t *testing.T) {
	primary := redistest.StartProcess(t, "--repl-diskless-sync-delay", "0")
	link := redistest.StartProxy(t, primary.Addr())
	replica := redistest.StartProcess(t, "--replicaof", "127.0.0.1", link.Port())
	sentinel := redistest.StartSentinel(t, "sportello", primary)
	issuer, _ := devBroker(t, "--redis", "redis://"+sentinel.Addr()+"?master_name=sportello")

	// Before the lag: four people's refresh token chains.
	const chains = 4
	latest := make([]string, chains)
	for i := range latest {
		latest[i] = cieRefreshToken(t, issuer)
	}
	link.SetLag(20*time.Millisecond, 200*time.Millisecond)

	// Under the lag, each answered with a 200 (or the page that says it was done).
	const newPIN = "Q7W3E9R2"
	pinFirstAccess(t, issuer, "ESPLCU90D45Z404Y", "1A2B3C4D5E6F7089", newPIN)
	if page := pinAttempt(t, issuer, "CLMMRC70B10G273W", "00000000"); !strings.Contains(page, "pin-lockout") && !strings.Contains(page, "bloccat") {
		t.Fatalf("a wrong PIN did not answer the lockout page:\n%.600s", page)
	}
	for round := 0; round < 2; round++ {
		var wg sync.WaitGroup
		for i := range latest {
			wg.Go(func() {
				if code, next := refresh(t, issuer, latest[i]); code == 200 {
					latest[i] = next
				} else {
					t.Errorf("chain %d: rotation answered %d before the failover", i, code)
				}
			})
		}
		wg.Wait()
	}
	// The primary's host dies: the server and what it had not yet delivered over the link.
	link.Cut()
	primary.Kill()

	// Sentinel promotes the replica; a new replica joins it, so durable writes work again.
	sc := goredis.NewSentinelClient(&goredis.Options{Addr: sentinel.Addr()})
	defer sc.Close()
	var promoted string
	if !eventuallyTrue(30*time.Second, func() bool {
		addr, err := sc.GetMasterAddrByName(context.Background(), "sportello").Result()
		if err == nil && len(addr) == 2 {
			promoted = addr[0] + ":" + addr[1]
		}
		return promoted == replica.Addr()
	}) {
		t.Fatalf("no failover to the replica: master %q", promoted)
	}
	redistest.StartProcess(t, "--replicaof", "127.0.0.1", strings.TrimPrefix(replica.Addr(), "127.0.0.1:"))

	// On the promoted replica itself: the lockout and the new PIN record.
	direct := goredis.NewClient(&goredis.Options{Addr: replica.Addr()})
	defer direct.Close()
	if n, err := direct.Exists(t.Context(), "sportello:pin:{CLMMRC70B10G273W}:web:lock").Result(); err != nil || n != 1 {
		t.Errorf("the lockout answered before the failover is not on the new primary (%d, %v)", n, err)
	}
	// Through the broker: every chain's latest token rotates, the new PIN logs in.
	for i, rt := range latest {
		var code int
		eventuallyTrue(20*time.Second, func() bool { code, _ = refresh(t, issuer, rt); return code != 503 })
		if code != 200 {
			t.Errorf("chain %d: the last refresh token answered with a 200 fails after the failover: %d", i, code)
		}
	}
	var page string
	eventuallyTrue(20*time.Second, func() bool {
		page = pinAttempt(t, issuer, "ESPLCU90D45Z404Y", newPIN)
		return !strings.Contains(page, "503")
	})
	if !strings.HasPrefix(page, "callback:") {
		t.Errorf("the PIN changed before the failover does not log in after it:\n%.600s", page)
	}
}

// cieRefreshToken logs Mario Rossi in with his CIE and returns a refresh token of demo-rp.
func cieRefreshToken(t *testing.T, issuer string) string {
	t.Helper()
	c := client(t, "../../testdata/pki/mario-rossi-cie.crt", "../../testdata/pki/mario-rossi-cie.key")
	v := oauth2.GenerateVerifier()
	rp := demoRP(issuer)
	resp, err := c.Get(rp.AuthCodeURL("st", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("idp", "cie"),
		oauth2.SetAuthURLParam("acr_values", "https://www.spid.gov.it/SpidL3")))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := rp.Exchange(context.Background(), callbackCode(t, resp), oauth2.VerifierOption(v))
	if err != nil || tok.RefreshToken == "" {
		t.Fatalf("code exchange: %v (refresh token %q)", err, tok.RefreshToken)
	}
	return tok.RefreshToken
}

func demoRP(issuer string) oauth2.Config {
	return oauth2.Config{ClientID: "demo-rp", ClientSecret: "demo-secret", RedirectURL: "http://127.0.0.1:9000/callback",
		Endpoint: oauth2.Endpoint{AuthURL: issuer + "/authorize", TokenURL: issuer + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader},
		Scopes:   []string{"openid", "fiscal_number", "offline_access"}}
}

// refresh rotates rt for demo-rp: the status and the new refresh token.
func refresh(t *testing.T, issuer, rt string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, issuer+"/oauth/token",
		strings.NewReader(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("demo-rp", "demo-secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	var body struct {
		RefreshToken string `json:"refresh_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body.RefreshToken
}

// pinAttempt submits the PIN form for cf in a new browser: "callback:<code>" when it logged
// in, otherwise the status and the page.
func pinAttempt(t *testing.T, issuer, cf, pin string) string {
	t.Helper()
	c := client(t, "", "")
	form, err := c.Get(authURL(issuer, "pin", "https://www.spid.gov.it/SpidL1", oauth2.GenerateVerifier()))
	if err != nil {
		t.Fatal(err)
	}
	if form.StatusCode != 200 {
		form.Body.Close()
		return form.Status
	}
	return outcome(submit(t, c, form, url.Values{"fiscal_code": {cf}, "pin": {pin}}))
}

// pinFirstAccess logs cf in with the 16-character PIN and sets the new one: the confirmed
// change ends at the relying party's callback.
func pinFirstAccess(t *testing.T, issuer, cf, first, next string) {
	t.Helper()
	c := client(t, "", "")
	form, err := c.Get(authURL(issuer, "pin", "https://www.spid.gov.it/SpidL1", oauth2.GenerateVerifier()))
	if err != nil {
		t.Fatal(err)
	}
	change := submit(t, c, form, url.Values{"fiscal_code": {cf}, "pin": {first}})
	if change.StatusCode != http.StatusOK {
		t.Fatalf("no first-access form: %s", outcome(change))
	}
	done := submit(t, c, change, url.Values{"fiscal_code": {cf}, "current_pin": {first}, "new_pin": {next}, "new_pin2": {next}})
	if got := outcome(done); !strings.HasPrefix(got, "callback:") {
		t.Fatalf("PIN change not confirmed: %.600s", got)
	}
}

func outcome(resp *http.Response) string {
	defer resp.Body.Close()
	if loc, _ := url.Parse(resp.Header.Get("Location")); loc != nil && loc.Port() == "9000" && loc.Query().Get("code") != "" {
		return "callback:" + loc.Query().Get("code")
	}
	body, _ := io.ReadAll(resp.Body)
	return resp.Status + "\n" + string(body)
}

func eventuallyTrue(d time.Duration, f func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if f() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}
