package broker

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/providers"
)

// hintProvider is a provider with a login hint of its own (providers.Hinter): hint_country,
// two upper-case letters, DE or ES. Its Start records the hints it was given and finishes.
type hintProvider struct {
	f     providers.Finisher
	mu    sync.Mutex
	hints []map[string]string
}

func (p *hintProvider) Info() providers.Info {
	return providers.Info{ID: "hinted", Method: "hinted", MaxACR: loa.SpidL3,
		Name: map[string]string{"it": "Suggerito", "en": "Hinted"}}
}

func (p *hintProvider) HintParams() []string { return []string{"hint_country"} }

func (p *hintProvider) CheckHint(name, value string) error {
	if name != "hint_country" || (value != "DE" && value != "ES") {
		return errors.New("not a country of this provider")
	}
	return nil
}

func (p *hintProvider) Start(w http.ResponseWriter, r *http.Request, req *providers.LoginRequest) error {
	p.mu.Lock()
	p.hints = append(p.hints, req.Hints)
	p.mu.Unlock()
	p.f.Finish(w, r, req.ID, &providers.Identity{FiscalNumber: "RSSMRA80A01H501U", Method: "spid",
		ACR: loa.SpidL2, AMR: []string{"pwd"}, AuthTime: time.Now().Truncate(time.Second)})
	return nil
}

func (p *hintProvider) last() map[string]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.hints) == 0 {
		return nil
	}
	return p.hints[len(p.hints)-1]
}

func (p *hintProvider) Handler(f providers.Finisher) http.Handler {
	p.f = f
	return http.NotFoundHandler()
}

func (p *hintProvider) Routes() []string { return []string{"/hinted/"} }

// A provider's own login hint on /authorize (providers.Hinter) reaches its Start checked; a
// value it refuses, or the hint twice, is invalid_request at the relying party's callback
// with the reason, and the provider is never started.
func TestAuthorizeProviderHints(t *testing.T) {
	hp := &hintProvider{}
	tb := newTestBrokerWith(t, memStore(t), func(o *Options) { o.Providers = append(o.Providers, hp) })
	const rp = "response_type=code&scope=openid&state=s&client_id=demo-rp&redirect_uri=http%3A%2F%2F127.0.0.1%3A9000%2Fcallback"
	t.Run("a valid hint reaches the provider", func(t *testing.T) {
		cb, resp := newBrowser(t).authorize(t, tb.URL+pathAuthorize+"?"+rp+"&idp=hinted&hint_country=DE&unrelated=x")
		if cb.Get("code") == "" {
			t.Fatalf("no code: %d %v", resp.StatusCode, cb)
		}
		if h := hp.last(); len(h) != 1 || h["hint_country"] != "DE" {
			t.Fatalf("hints %v", h)
		}
	})
	t.Run("no hint: none given", func(t *testing.T) {
		if cb, _ := newBrowser(t).authorize(t, tb.URL+pathAuthorize+"?"+rp+"&idp=hinted"); cb.Get("code") == "" {
			t.Fatal("no code")
		}
		if h := hp.last(); h != nil {
			t.Fatalf("hints %v", h)
		}
	})
	t.Run("kept with the pending login when the person picks the provider on the chooser", func(t *testing.T) {
		br := newBrowser(t)
		c := *br.Client
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		resp, err := c.Get(tb.URL + pathAuthorize + "?" + rp + "&hint_country=ES")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		chooser := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusFound || !strings.HasPrefix(chooser, tb.URL+"/login/") {
			t.Fatalf("not the chooser: %d %q", resp.StatusCode, chooser)
		}
		if cb, resp := br.authorize(t, chooser+"/hinted"); cb.Get("code") == "" {
			t.Fatalf("no code: %d %v", resp.StatusCode, cb)
		}
		if h := hp.last(); len(h) != 1 || h["hint_country"] != "ES" {
			t.Fatalf("hints %v", h)
		}
	})
	for _, tc := range []struct{ name, query, desc string }{
		{"lower case", "&hint_country=de", "hint_country: not a country of this provider"},
		{"not offered", "&hint_country=FR", "hint_country: not a country of this provider"},
		{"hostile", "&hint_country=" + url.QueryEscape("DE\r\nLocation: x"), "hint_country: not a country of this provider"},
		{"twice", "&hint_country=DE&hint_country=ES", "parameter hint_country is repeated"},
		{"refused even when another credential is named", "&hint_country=FR&idp=RSSMRA80A01H501U%3A2", "hint_country: not a country of this provider"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(hp.hints)
			q := rp + tc.query
			if !strings.Contains(q, "idp=") {
				q += "&idp=hinted"
			}
			resp, _ := authorizeRaw(t, tb, q, "")
			loc, _ := url.Parse(resp.Header.Get("Location"))
			if resp.StatusCode != http.StatusFound || loc == nil || loc.Host != "127.0.0.1:9000" {
				t.Fatalf("got %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
			}
			if cb := loc.Query(); cb.Get("error") != "invalid_request" || cb.Get("error_description") != tc.desc || cb.Get("code") != "" {
				t.Fatalf("callback %v", cb)
			}
			if len(hp.hints) != before {
				t.Fatal("the provider was started")
			}
		})
	}
}
