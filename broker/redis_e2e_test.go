package broker

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/inps/sportello/internal/store"
	redisstore "github.com/inps/sportello/internal/store/redis"
	"github.com/inps/sportello/internal/store/redistest"
)

func redisStore(t testing.TB, srv redistest.Server) store.Store {
	t.Helper()
	s, err := redisstore.New(context.Background(), redisstore.Options{URL: srv.URL, Prefix: srv.Prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestEndToEndRedis(t *testing.T) {
	runE2E(t, redisStore(t, redistest.Start(t)))
}

// Two broker instances on one Redis: an authorisation started on the first completes on the
// second, and a code issued by one is redeemed at the other.
func TestTwoInstancesShareOneRedis(t *testing.T) {
	srv := redistest.Start(t)
	dir := t.TempDir()
	a := newTestBrokerIn(t, redisStore(t, srv), dir)
	b := newTestBrokerIn(t, redisStore(t, srv), dir, withIssuer(a.URL))
	ctx := context.Background()
	rp := func(tb *testBroker) *oauth2.Config {
		return &oauth2.Config{ClientID: "demo-rp", ClientSecret: "demo-secret", RedirectURL: "http://127.0.0.1:9000/callback",
			Scopes: []string{"openid", "fiscal_number"}, Endpoint: oauth2.Endpoint{AuthURL: tb.URL + pathAuthorize, TokenURL: tb.URL + pathToken}}
	}
	// Start on A (no idp hint: the chooser), continue the same login on B.
	br := newBrowser(t)
	resp, err := br.Get(rp(a).AuthCodeURL("s1"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Host != strings.TrimPrefix(a.URL, "http://") || !strings.HasPrefix(resp.Request.URL.Path, "/login/") {
		t.Fatalf("expected the chooser on A, got %s", resp.Request.URL)
	}
	loginID := strings.TrimPrefix(resp.Request.URL.Path, "/login/")
	// The browser cookie is per host:port in the jar; copy it to B's host.
	au, _ := url.Parse(a.URL)
	bu, _ := url.Parse(b.URL)
	br.Jar.SetCookies(bu, br.Jar.Cookies(au))
	cb, fin := br.authorize(t, b.URL+"/login/"+loginID+"/test?hint="+url.QueryEscape("RSSMRA80A01H501U:2"))
	if cb == nil {
		// B finishes with a redirect to the issuer's /login/done, served here by A.
		t.Fatalf("login started on A did not complete through B: %d", fin.StatusCode)
	}
	// Code issued by B, redeemed at A.
	tok, err := rp(a).Exchange(ctx, cb.Get("code"))
	if err != nil {
		t.Fatalf("code from B redeemed at A: %v", err)
	}
	// A's token verifies with B's keys (one shared key set).
	req, _ := http.NewRequest(http.MethodGet, b.URL+pathUserinfo, nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	uresp, err := http.DefaultClient.Do(req)
	if err != nil || uresp.StatusCode != http.StatusOK {
		t.Fatalf("userinfo at B for a token of A: %v %v", err, uresp)
	}
	uresp.Body.Close()
}
