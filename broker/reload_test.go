package broker

import (
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/inps/sportello/config"
	"github.com/inps/sportello/internal/loa"
)

// A reload of the clients takes effect at the next request: demo-rp's new redirect URI is
// accepted and the old one refused. A reload naming a provider that does not exist changes
// nothing: the new URI stays, the rejected one is still refused.
func TestReloadClientsReplacesTheRegistrationAtOnce(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	_, challenge := pkce()
	try := func(redirect string) int {
		t.Helper()
		q := url.Values{"client_id": {"demo-rp"}, "response_type": {"code"}, "scope": {"openid"}, "state": {"s"},
			"redirect_uri": {redirect}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
		_, resp := newBrowser(t).authorize(t, tb.URL+pathAuthorize+"?"+q.Encode())
		return resp.StatusCode
	}
	const old, moved = "http://127.0.0.1:9000/callback", "http://127.0.0.1:9001/moved"
	if st := try(old); st == http.StatusBadRequest {
		t.Fatalf("the registered URI refused before the reload: %d", st)
	}
	if st := try(moved); st != http.StatusBadRequest {
		t.Fatalf("an unregistered URI accepted before the reload: %d", st)
	}
	cfg := *tb.cfg
	cfg.Clients = slices.Clone(cfg.Clients)
	i := slices.IndexFunc(cfg.Clients, func(c config.Client) bool { return c.ID == "demo-rp" })
	cfg.Clients[i].RedirectURIs = []string{moved}
	if err := tb.ReloadClients(&cfg); err != nil {
		t.Fatal(err)
	}
	if st := try(moved); st == http.StatusBadRequest {
		t.Fatalf("the new URI refused after the reload: %d", st)
	}
	if st := try(old); st != http.StatusBadRequest {
		t.Fatalf("the old URI accepted after the reload: %d", st)
	}

	bad := cfg
	bad.Clients = slices.Clone(cfg.Clients)
	bad.Clients[i].RedirectURIs = []string{old}
	bad.Clients[i].Credentials = []string{"nosuch"}
	if err := tb.ReloadClients(&bad); err == nil {
		t.Fatal("a client naming no provider was accepted")
	}
	if st := try(old); st != http.StatusBadRequest {
		t.Fatalf("a rejected reload took effect: %d", st)
	}
	if st := try(moved); st == http.StatusBadRequest {
		t.Fatalf("a rejected reload dropped the clients in force: %d", st)
	}
}

// The global policy reloads with the clients: a request that asks no level gets the new
// policy.default_acr at once, and a client's own minimum still wins over it.
func TestReloadClientsAppliesTheDefaultLevel(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	cl, ok := tb.client("demo-rp")
	if !ok {
		t.Fatal("no demo-rp")
	}
	before := tb.requiredACR(cl, nil, nil)
	cfg := *tb.cfg
	cfg.Policy.DefaultACR = loa.SpidL3
	if err := tb.ReloadClients(&cfg); err != nil {
		t.Fatal(err)
	}
	cl, _ = tb.client("demo-rp")
	if got := tb.requiredACR(cl, nil, nil); got != loa.SpidL3 || got == before {
		t.Fatalf("after reloading default_acr %s: a request asking nothing needs %s (before: %s)", loa.SpidL3, got, before)
	}
	if got := tb.requiredACR(cl, []string{loa.SpidL1}, nil); got != loa.SpidL1 {
		t.Fatalf("a request asking L1 needs %s", got)
	}
}
