package broker

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inps/sportello/broker/keys"
	"github.com/inps/sportello/internal/switches"
	"github.com/inps/sportello/providers"
)

// fakeSwitches is a switches.Reader's answer, set by the test.
type fakeSwitches struct {
	mu  sync.Mutex
	off map[string]bool
}

func (f *fakeSwitches) set(kind switches.Kind, id string, off bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.off == nil {
		f.off = map[string]bool{}
	}
	f.off[string(kind)+" "+id] = off
}

func (f *fakeSwitches) Disabled(kind switches.Kind, id string) (bool, switches.Switch) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.off[string(kind)+" "+id] {
		return true, switches.Switch{Kind: kind, ID: id, Reason: "test", Actor: "op"}
	}
	return false, switches.Switch{}
}

func switchedBroker(t *testing.T) (*testBroker, *fakeSwitches) {
	sw := &fakeSwitches{}
	return newTestBrokerWith(t, memStore(t), func(o *Options) { o.Switches = sw }), sw
}

func TestASwitchedOffClientsTokensStop(t *testing.T) {
	tb, sw := switchedBroker(t)
	toks := loginTokens(t, tb, "openid fiscal_number offline_access")
	at, rt := toks["access_token"].(string), toks["refresh_token"].(string)
	sw.set(switches.KindClient, "demo-rp", true)

	t.Run("introspection says inactive", func(t *testing.T) {
		for _, tok := range []string{at, rt} {
			if out := introspect(t, tb, tok, "demo-service", "demo-service-secret"); out["active"] != false {
				t.Fatalf("introspection of a switched-off client's token: %v", out)
			}
		}
	})
	t.Run("refresh is refused", func(t *testing.T) {
		if out := refreshAs(t, tb, rt); out["error"] != "unauthorized_client" || out["access_token"] != nil {
			t.Fatalf("refresh: %v", out)
		}
	})
	t.Run("token exchange of its tokens is refused", func(t *testing.T) {
		if st, out := exchangeFor(t, tb, at, "inps-pensioni"); st != http.StatusBadRequest || out["error"] != "invalid_grant" {
			t.Fatalf("exchange: %d %v", st, out)
		}
	})
	t.Run("a switched-off caller is refused at the token endpoint", func(t *testing.T) {
		sw.set(switches.KindClient, "demo-service", true)
		defer sw.set(switches.KindClient, "demo-service", false)
		st, out := postForm(t, tb.URL+pathToken, url.Values{"grant_type": {"client_credentials"}}, "demo-service", "demo-service-secret")
		if st != http.StatusBadRequest || out["error"] != "unauthorized_client" {
			t.Fatalf("client_credentials: %d %v", st, out)
		}
	})
	t.Run("authorize shows a page and does not redirect", func(t *testing.T) {
		q := url.Values{"client_id": {"demo-rp"}, "response_type": {"code"}, "scope": {"openid"},
			"redirect_uri": {"http://127.0.0.1:9000/callback"}, "state": {"s"}, "idp": {"RSSMRA80A01H501U:2"}}
		cb, resp := newBrowser(t).authorize(t, tb.URL+pathAuthorize+"?"+q.Encode())
		body, _ := io.ReadAll(resp.Body)
		if cb != nil || resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "sospeso temporaneamente") {
			t.Fatalf("authorize: %v %d %s", cb, resp.StatusCode, body)
		}
	})
	t.Run("switched back on, its tokens work again", func(t *testing.T) {
		sw.set(switches.KindClient, "demo-rp", false)
		if out := introspect(t, tb, at, "demo-service", "demo-service-secret"); out["active"] != true {
			t.Fatalf("introspection after the switch-on: %v", out)
		}
	})
}

func TestASwitchedOffProviderOrIdPRefusesNewLogins(t *testing.T) {
	tb, sw := switchedBroker(t)
	login := func(t *testing.T) (url.Values, int, string) {
		q := url.Values{"client_id": {"demo-rp"}, "response_type": {"code"}, "scope": {"openid"},
			"redirect_uri": {"http://127.0.0.1:9000/callback"}, "state": {"s"}, "idp": {"RSSMRA80A01H501U:2"}}
		cb, resp := newBrowser(t).authorize(t, tb.URL+pathAuthorize+"?"+q.Encode())
		body, _ := io.ReadAll(resp.Body)
		return cb, resp.StatusCode, string(body)
	}
	if cb, st, _ := login(t); cb.Get("code") == "" {
		t.Fatalf("login before any switch: %d %v", st, cb)
	}
	for _, tc := range []struct {
		name string
		kind switches.Kind
		id   string
	}{
		{"the provider", switches.KindProvider, "test"},
		{"the IdP the login goes through (checked when the identity comes back)", switches.KindIdP, "https://idp.example"},
		{"the IdP chosen by its hint", switches.KindIdP, "RSSMRA80A01H501U:2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sw.set(tc.kind, tc.id, true)
			defer sw.set(tc.kind, tc.id, false)
			cb, st, body := login(t)
			if cb.Get("code") != "" {
				t.Fatal("a login through a switched-off upstream got a code")
			}
			if cb != nil && cb.Get("error") != "temporarily_unavailable" {
				t.Fatalf("the relying party got %v", cb)
			}
			if cb == nil && !strings.Contains(body, "sospeso temporaneamente per motivi di sicurezza") {
				t.Fatalf("page %d without the switched-off message: %s", st, body)
			}
		})
	}
	if cb, st, _ := login(t); cb.Get("code") == "" {
		t.Fatalf("login after the switches went back on: %d %v", st, cb)
	}
}

func TestBearerScopesNamesTheOperatorAndStopsASwitchedOffClient(t *testing.T) {
	tb, sw := switchedBroker(t)
	now := time.Now()
	tok, err := tb.signJWT("ES256", keys.TypAccessToken, map[string]any{"iss": tb.URL, "sub": "demo-operator", "client_id": "demo-operator",
		"aud": []string{tb.URL + "/api"}, "scope": "console:read console:admin", "jti": "j1", "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	r := httptestRequest(http.MethodGet, "/console/api/providers")
	r.Header.Set("Authorization", "Bearer "+tok)
	op, scopes, ok := tb.BearerScopes(r)
	if !ok || op != "demo-operator" || strings.Join(scopes, " ") != "console:read console:admin" {
		t.Fatalf("BearerScopes = %q %v %v", op, scopes, ok)
	}
	if _, ok := tb.AuthorizeBearer(r, "pin:office"); ok {
		t.Fatal("a token without the scope was accepted")
	}
	sw.set(switches.KindClient, "demo-operator", true)
	if _, _, ok := tb.BearerScopes(r); ok {
		t.Fatal("a switched-off client's token still authorises")
	}
	r.Header.Set("Authorization", "Bearer x")
	if _, _, ok := tb.BearerScopes(r); ok {
		t.Fatal("a forged token authorises")
	}
}

// A CIE login over OpenID Connect Federation is checked against its OP's switch when the
// identity comes back, as a SPID IdP is: a login started before the switch is refused too.
func TestIdentityThroughASwitchedOffCIEOPIsRefused(t *testing.T) {
	tb, sw := switchedBroker(t)
	const op = "https://cie-op.example"
	id := &providers.Identity{Method: providers.MethodCIE, CIEOP: op}
	if tb.identitySwitchedOff(id) {
		t.Fatal("refused before any switch")
	}
	sw.set(switches.KindIdP, op, true)
	if !tb.identitySwitchedOff(id) {
		t.Fatal("an identity through a switched-off CIE OP passed")
	}
	sw.set(switches.KindIdP, "https://other-op.example", true)
	sw.set(switches.KindIdP, op, false)
	if tb.identitySwitchedOff(id) {
		t.Fatal("another OP's switch refused this identity")
	}
}
