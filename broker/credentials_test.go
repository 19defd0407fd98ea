package broker

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/inps/sportello/broker/keys"
	"github.com/inps/sportello/config"
	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/providers"
)

// otherProvider is a second credential beside testProvider, whose Start is never to be reached
// by a client that does not offer it.
type otherProvider struct{ started bool }

func (p *otherProvider) Info() providers.Info {
	return providers.Info{ID: "other", Method: "other", MaxACR: loa.SpidL3, Name: map[string]string{"it": "Altro", "en": "Other"}}
}
func (p *otherProvider) Start(w http.ResponseWriter, r *http.Request, _ *providers.LoginRequest) error {
	p.started = true
	http.Redirect(w, r, "/other-provider/form", http.StatusFound)
	return nil
}
func (p *otherProvider) Handler(providers.Finisher) http.Handler { return http.NotFoundHandler() }
func (p *otherProvider) Routes() []string                        { return []string{"/other-provider/"} }

// A client's credentials are the only ones its logins may use: the chooser shows no other,
// and neither idp= nor a crafted chooser link starts another; a client without credentials
// keeps every provider.
func TestAClientsCredentialsAreTheOnlyOnesItsLoginsUse(t *testing.T) {
	other := &otherProvider{}
	onlyTest := func(c *config.Config) {
		for i := range c.Clients {
			if c.Clients[i].ID == "demo-rp" {
				c.Clients[i].Credentials = []string{"test"}
			}
		}
	}
	tb := newTestBrokerWith(t, memStore(t), func(o *Options) { o.Providers = append(o.Providers, other) }, onlyTest)
	u, page := chooserOf(t, tb, newBrowser(t), nil)
	if !strings.Contains(page, `id="opt-test"`) || strings.Contains(page, `id="opt-other"`) {
		t.Fatalf("chooser: %.2000s", page)
	}
	br := newBrowser(t)
	q := url.Values{"client_id": {"demo-rp"}, "response_type": {"code"}, "scope": {"openid"},
		"redirect_uri": {"http://127.0.0.1:9000/callback"}, "state": {"s"}, "idp": {"other"}}
	_, resp := br.authorize(t, tb.URL+pathAuthorize+"?"+q.Encode())
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("idp=other: HTTP %d", resp.StatusCode)
	}
	loginID := strings.TrimPrefix(u.Path, "/login/")
	resp, err := br.Get(tb.URL + "/login/" + loginID + "/other")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || other.started {
		t.Fatalf("a crafted link to another credential: HTTP %d started=%v %.300s", resp.StatusCode, other.started, body)
	}
	// demo-spa names no credentials: it has both.
	_, challenge := pkce()
	_, page = chooserOf(t, tb, newBrowser(t), url.Values{"client_id": {"demo-spa"}, "code_challenge": {challenge},
		"code_challenge_method": {"S256"}})
	if !strings.Contains(page, `id="opt-test"`) || !strings.Contains(page, `id="opt-other"`) {
		t.Fatalf("demo-spa chooser: %.2000s", page)
	}
}

func TestACredentialNamingNoProviderStopsTheBroker(t *testing.T) {
	cfg, err := config.DevConfig("127.0.0.1:0", "127.0.0.1:0", t.TempDir(), config.Options{Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Clients[0].Credentials = []string{"nosuch"}
	st := memStore(t)
	_, err = New(context.Background(), Options{Config: cfg, Store: st, Providers: []providers.Provider{&testProvider{}},
		Keys:       &keys.StoreSource{Store: st, CryptoKey: secret(t, cfg.Keys.CryptoKey), Bootstrap: &keys.FileSource{Dir: cfg.Keys.Dir, Generate: true}},
		SubjectKey: secret(t, cfg.Subject.Key), CryptoKey: secret(t, cfg.Keys.CryptoKey)})
	if err == nil || !strings.Contains(err.Error(), `"nosuch"`) {
		t.Fatalf("New: %v", err)
	}
}
