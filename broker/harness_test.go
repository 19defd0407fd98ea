package broker

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/inps/sportello/broker/keys"
	"github.com/inps/sportello/config"
	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/internal/store/memory"
	"github.com/inps/sportello/providers"
)

// testProvider is a provider that exists only in tests: its Start finishes the login at once
// with the identity named by the hint "<fiscal code>:<level>" (or fails with "cancel").
type testProvider struct {
	f providers.Finisher
	// now is the broker's clock: the identity's AuthTime moves with it, as a login's does.
	now func() time.Time
}

func (p *testProvider) Info() providers.Info {
	return providers.Info{ID: "test", Method: "test", MaxACR: loa.SpidL3,
		Name: map[string]string{"it": "Prova", "en": "Test"}}
}

func (p *testProvider) Start(w http.ResponseWriter, r *http.Request, req *providers.LoginRequest) error {
	if req.Hint == "cancel" {
		p.f.Fail(w, r, req.ID, providers.ErrCancelled)
		return nil
	}
	cf, lvl, _ := strings.Cut(req.Hint, ":")
	level := 2
	if lvl == "1" {
		level = 1
	} else if lvl == "3" {
		level = 3
	}
	p.f.Finish(w, r, req.ID, &providers.Identity{
		FiscalNumber: cf, GivenName: "Mario", FamilyName: "Rossi", Birthdate: "1980-01-01",
		Email: "mario.rossi@example.it", Method: "spid", ACR: loa.ACRForLevel(level),
		AMR: []string{"pwd", "mfa"}, AuthTime: p.clock().Truncate(time.Second), SPIDIdP: "https://idp.example",
		Session: map[string]string{"idp": "https://idp.example", "name_id": "_nameid-" + cf, "session_index": "_session-" + cf},
	})
	return nil
}

func (p *testProvider) clock() time.Time {
	if p.now == nil {
		return time.Now()
	}
	return p.now()
}

func (p *testProvider) Handler(f providers.Finisher) http.Handler {
	p.f = f
	return http.NotFoundHandler()
}

func (p *testProvider) Routes() []string { return []string{"/test-provider/"} }

func (p *testProvider) Options() []providers.Option {
	return []providers.Option{{Hint: "RSSMRA80A01H501U:1", Name: "Mario L1"}, {Hint: "RSSMRA80A01H501U:2", Name: "Mario L2"},
		{Hint: "RSSMRA80A01H501U:3", Name: "Mario L3"}, {Hint: "BNCLRA85M41F205C:2", Name: "Laura L2"}, {Hint: "cancel", Name: "Cancel"}}
}

// testBroker is a broker on a real HTTP listener.
type testBroker struct {
	*Broker
	srv   *httptest.Server
	URL   string
	store store.Store
	dir   string
}

type brokerOpt func(*config.Config)

// withIssuer makes several test instances share one issuer, as replicas behind a load
// balancer do.
func withIssuer(iss string) brokerOpt { return func(c *config.Config) { c.Issuer = iss } }

// newTestBroker starts a broker with the dev-mode configuration on a free port.
func newTestBroker(t testing.TB, st store.Store, opts ...brokerOpt) *testBroker {
	t.Helper()
	return newTestBrokerIn(t, st, t.TempDir(), opts...)
}

func newTestBrokerIn(t testing.TB, st store.Store, dir string, opts ...brokerOpt) *testBroker {
	t.Helper()
	return newTestBrokerFull(t, st, dir, nil, opts...)
}

// newTestBrokerWith lets a test change the broker options (Delegations, ...).
func newTestBrokerWith(t testing.TB, st store.Store, edit func(*Options), opts ...brokerOpt) *testBroker {
	t.Helper()
	return newTestBrokerFull(t, st, t.TempDir(), edit, opts...)
}

func newTestBrokerFull(t testing.TB, st store.Store, dir string, edit func(*Options), opts ...brokerOpt) *testBroker {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	cfg, err := config.DevConfig(addr, "127.0.0.1:0", dir, config.Options{Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range opts {
		o(cfg)
	}
	tp := &testProvider{}
	o := Options{
		Config:     cfg,
		Store:      st,
		Providers:  []providers.Provider{tp},
		Keys:       &keys.StoreSource{Store: st, CryptoKey: secret(t, cfg.Keys.CryptoKey), Bootstrap: &keys.FileSource{Dir: cfg.Keys.Dir, Generate: true}},
		SubjectKey: secret(t, cfg.Subject.Key),
		CryptoKey:  secret(t, cfg.Keys.CryptoKey),
	}
	if edit != nil {
		edit(&o)
	}
	b, err := New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	tp.now = func() time.Time { return b.now() }
	srv := httptest.NewUnstartedServer(b)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return &testBroker{Broker: b, srv: srv, URL: "http://" + addr, store: st, dir: dir}
}

func secret(t testing.TB, s config.Secret) []byte {
	t.Helper()
	k, err := config.DecodeKey(s.Value)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func memStore(t testing.TB) store.Store {
	s := memory.New(memory.Options{})
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// browser is an HTTP client with a cookie jar that follows redirects until one leaves for the
// relying party's callback (port 9000), whose URL it returns.
type browser struct {
	*http.Client
}

func newBrowser(t testing.TB) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{Client: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Port() == "9000" {
				return http.ErrUseLastResponse
			}
			return nil
		}}}
}

// authorize follows the flow from an authorize URL to the relying party callback and returns
// the callback query, or the final response when it did not reach the callback.
func (b *browser) authorize(t testing.TB, authURL string) (url.Values, *http.Response) {
	t.Helper()
	resp, err := b.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if resp.StatusCode == http.StatusFound || resp.StatusCode == http.StatusSeeOther {
		loc, err := url.Parse(resp.Header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		if loc.Port() == "9000" {
			return loc.Query(), resp
		}
	}
	return nil, resp
}

func pkce() (verifier, challenge string) {
	verifier = base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat("v", 40)))
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

var errNoCallback = errors.New("no callback")

func base64URLDecode(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

func errorsAs(err error, target any) bool { return errors.As(err, target) }

func ioCopy(w io.Writer, resp *http.Response) (int64, error) {
	defer resp.Body.Close()
	return io.Copy(w, resp.Body)
}

func httptestRequest(method, target string) *http.Request {
	return httptest.NewRequest(method, target, nil)
}

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

// audiences reads the aud claim of decoded claims: a string or an array of strings.
func audiences(c map[string]any) []string {
	switch v := c["aud"].(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, a := range v {
			if s, ok := a.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// numericClaim reads a numeric claim of decoded claims.
func numericClaim(c map[string]any, k string) (int64, bool) {
	switch v := c[k].(type) {
	case json.Number:
		n, err := v.Int64()
		return n, err == nil
	case float64:
		return int64(v), true
	case int64:
		return v, true
	}
	return 0, false
}
