package broker

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/inps/sportello/config"
)

// The sid claim is a public session id, never the session cookie: a token holder cannot
// replay it as a cookie to take over the browser's SSO session.
func TestSidIsNotTheSessionCookie(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	br := newBrowser(t)
	q := url.Values{"client_id": {"demo-rp"}, "response_type": {"code"}, "scope": {"openid"},
		"redirect_uri": {"http://127.0.0.1:9000/callback"}, "state": {"s"}, "idp": {"RSSMRA80A01H501U:2"}}
	cb, _ := br.authorize(t, tb.URL+pathAuthorize+"?"+q.Encode())
	_, out := postForm(t, tb.URL+pathToken, url.Values{"grant_type": {"authorization_code"}, "code": {cb.Get("code")},
		"redirect_uri": {"http://127.0.0.1:9000/callback"}}, "demo-rp", "demo-secret")
	sid, _ := jwtClaims(t, out["id_token"].(string))["sid"].(string)
	u, _ := url.Parse(tb.URL)
	var cookie string
	for _, c := range br.Jar.Cookies(u) {
		if c.Name == cookieSession {
			cookie = c.Value
		}
	}
	if sid == "" || cookie == "" || sid == cookie {
		t.Fatalf("sid %q, cookie %q", sid, cookie)
	}
	thief := newBrowser(t)
	thief.Jar.SetCookies(u, []*http.Cookie{{Name: cookieSession, Value: sid, Path: "/"}})
	q.Del("idp")
	q.Set("prompt", "none")
	if cb, _ := thief.authorize(t, tb.URL+pathAuthorize+"?"+q.Encode()); cb == nil || cb.Get("error") != "login_required" {
		t.Fatalf("the sid claim opened the session: %v", cb)
	}
	// The session also ends at its absolute lifetime, however active it is.
	tb.now = func() time.Time { return time.Now().Add(13 * time.Hour) }
	defer func() { tb.now = time.Now }()
	if cb, _ := br.authorize(t, tb.URL+pathAuthorize+"?"+q.Encode()); cb == nil || cb.Get("error") != "login_required" {
		t.Fatalf("a session past its absolute lifetime answered: %v", cb)
	}
}

// A pending login is finished once: a second credential presented on its certificate step (a
// victim lured onto the attacker's login) is refused, and the first reference completes with
// the first identity.
func TestLoginFinishedOnlyOnce(t *testing.T) {
	cp := &certProvider{}
	tb := newTestBrokerWith(t, memStore(t), func(o *Options) { o.Providers = append(o.Providers, cp) }, func(c *config.Config) {
		c.Listen.ClientCertHeader = "X-Client-Cert"
		c.Listen.TrustedProxies = []string{"10.0.0.1"}
	})
	attacker := newBrowser(t)
	q := url.Values{"client_id": {"demo-rp"}, "response_type": {"code"}, "scope": {"openid fiscal_number"},
		"redirect_uri": {"http://127.0.0.1:9000/callback"}, "state": {"s"}, "idp": {"card"}}
	resp, err := noFollowBrowser(attacker).Get(tb.URL + pathAuthorize + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	step := loc.Query().Get("step")
	hit := func(cf string) string {
		req := httptestRequest(http.MethodGet, "/mtls/card?step="+url.QueryEscape(step))
		req.RemoteAddr = "10.0.0.1:1"
		req.Header.Set("X-Client-Cert", selfSigned(t, cf))
		w := newRecorder()
		tb.MTLSHandler().ServeHTTP(w, req)
		return w.Header().Get("Location")
	}
	first := hit("BNCLRA85M41F205C") // the attacker's own card
	if !strings.Contains(first, "/login/done?ref=") {
		t.Fatalf("first finish: %q", first)
	}
	if second := hit("RSSMRA80A01H501U"); strings.Contains(second, "/login/done") {
		t.Fatalf("a second identity finished the same login: %q", second)
	}
	c := *attacker.Client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	done, err := c.Get(first)
	if err != nil {
		t.Fatal(err)
	}
	done.Body.Close()
	cb, _ := url.Parse(done.Header.Get("Location"))
	_, out := postForm(t, tb.URL+pathToken, url.Values{"grant_type": {"authorization_code"}, "code": {cb.Query().Get("code")},
		"redirect_uri": {"http://127.0.0.1:9000/callback"}}, "demo-rp", "demo-secret")
	if fn := jwtClaims(t, out["id_token"].(string))["fiscal_number"]; fn != "BNCLRA85M41F205C" {
		t.Fatalf("the login completed as %v", fn)
	}
}

// A browser-binding cookie not made by the broker (planted, say, from a sibling domain) is
// ignored and replaced: it cannot bind someone else's login to the planter's value.
func TestPlantedBrowserCookieIgnored(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	br := newBrowser(t)
	u, _ := url.Parse(tb.URL)
	planted := strings.Repeat("A", 24)
	br.Jar.SetCookies(u, []*http.Cookie{{Name: cookieBrowser, Value: planted, Path: "/"}})
	q := url.Values{"client_id": {"demo-rp"}, "response_type": {"code"}, "scope": {"openid"},
		"redirect_uri": {"http://127.0.0.1:9000/callback"}, "state": {"s"}}
	resp, err := br.Get(tb.URL + pathAuthorize + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range br.Jar.Cookies(u) {
		if c.Name == cookieBrowser && (c.Value == planted || !tb.validBrowserID(c.Value)) {
			t.Fatalf("browser cookie %q kept", c.Value)
		}
	}
}
