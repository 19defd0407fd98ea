package broker

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"
)

// balancer is a round-robin reverse proxy over the live brokers, standing for the load
// balancer whose URL is the issuer.
type balancer struct {
	mu   sync.Mutex
	live []*url.URL
	next int
}

func (lb *balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	lb.mu.Lock()
	if len(lb.live) == 0 {
		lb.mu.Unlock()
		http.Error(w, "no backend", http.StatusBadGateway)
		return
	}
	target := lb.live[lb.next%len(lb.live)]
	lb.next++
	lb.mu.Unlock()
	httputil.NewSingleHostReverseProxy(target).ServeHTTP(w, r)
}

func (lb *balancer) set(urls ...string) {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	lb.live = nil
	for _, u := range urls {
		p, _ := url.Parse(u)
		lb.live = append(lb.live, p)
	}
}

// Two broker instances on one Redis behind a load balancer; instance A is closed while
// logins are half-way (some at the chooser, some with a code not yet redeemed, some with a
// refresh token): instance B completes every one of them.
func TestSurvivalOneOfTwoInstancesClosedMidLogin(t *testing.T) {
	_, st := survivalRedis(t)
	lb := &balancer{}
	front := httptest.NewServer(lb)
	t.Cleanup(front.Close)
	dir := t.TempDir() // one configuration (crypto and subject keys) for both replicas
	a := newTestBrokerIn(t, st, dir, withIssuer(front.URL))
	b := newTestBrokerIn(t, st, dir, withIssuer(front.URL))
	lb.set(a.URL, b.URL)
	rp := survivalRP(front.URL)
	ctx := context.Background()

	type user struct {
		br      *browser
		loginID string
		code    string
		tok     *oauth2.Token
	}
	users := make([]*user, 12)
	for i := range users {
		u := &user{br: newBrowser(t)}
		users[i] = u
		resp, err := u.br.Get(rp.AuthCodeURL("s")) // no idp hint: the chooser
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if !strings.HasPrefix(resp.Request.URL.Path, "/login/") {
			t.Fatalf("user %d: expected the chooser, got %d %s", i, resp.StatusCode, resp.Request.URL)
		}
		u.loginID = strings.TrimPrefix(resp.Request.URL.Path, "/login/")
		if i%3 == 0 {
			continue // stays at the chooser
		}
		cb, fin := u.br.authorize(t, front.URL+"/login/"+u.loginID+"/test?hint="+url.QueryEscape("RSSMRA80A01H501U:2"))
		if cb == nil {
			t.Fatalf("user %d: login did not complete: %d", i, fin.StatusCode)
		}
		u.code = cb.Get("code")
		if i%3 == 2 {
			if u.tok, err = rp.Exchange(ctx, u.code); err != nil {
				t.Fatalf("user %d: %v", i, err)
			}
		}
	}

	// A goes away: the balancer stops sending to it, then it closes.
	lb.set(b.URL)
	a.srv.CloseClientConnections()
	a.srv.Close()

	for i, u := range users {
		switch i % 3 {
		case 0: // at the chooser: finish the login on B
			cb, fin := u.br.authorize(t, front.URL+"/login/"+u.loginID+"/test?hint="+url.QueryEscape("RSSMRA80A01H501U:2"))
			if cb == nil {
				t.Fatalf("user %d: login started on A not completed by B: %d", i, fin.StatusCode)
			}
			u.code = cb.Get("code")
			fallthrough
		case 1: // a code not yet redeemed
			tok, err := rp.Exchange(ctx, u.code)
			if err != nil {
				t.Fatalf("user %d: code redeemed at B: %v", i, err)
			}
			u.tok = tok
		case 2: // a refresh token
			tok, err := rp.TokenSource(ctx, &oauth2.Token{RefreshToken: u.tok.RefreshToken}).Token()
			if err != nil || tok.RefreshToken == u.tok.RefreshToken {
				t.Fatalf("user %d: refresh at B: %v", i, err)
			}
		}
	}
}
