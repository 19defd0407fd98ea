package spid

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inps/sportello/internal/audit"
	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/internal/store/memory"
	"github.com/inps/sportello/internal/store/storetest"
	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/saml"
	"github.com/inps/sportello/providers/saml/samltest"
	"github.com/inps/sportello/providers/saml/samlx"
	"github.com/inps/sportello/providers/spid/devidp"
)

// t0 is the fixed time of the tests (the committed test certificates are valid 2025-2045).
var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

const testdataDir = "../../testdata/spid/"

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// outcome is what the fake Finisher saw.
type outcome = samltest.Outcome

// fakeFinisher stands in for the broker: it records the outcome and answers 200 or 403.
type fakeFinisher struct {
	mu     sync.Mutex
	n      int
	latest *outcome // only the last: the fuzz targets call the finisher millions of times
}

func (f *fakeFinisher) record(o outcome) {
	f.mu.Lock()
	f.n++
	f.latest = &o
	f.mu.Unlock()
}

func (f *fakeFinisher) Finish(w http.ResponseWriter, r *http.Request, loginID string, id *providers.Identity) {
	f.record(outcome{LoginID: loginID, Identity: id})
	_, _ = io.WriteString(w, "finished "+loginID)
}

func (f *fakeFinisher) Fail(w http.ResponseWriter, r *http.Request, loginID string, err error) {
	f.record(outcome{LoginID: loginID, Err: err})
	http.Error(w, "failed", http.StatusForbidden)
}

func (f *fakeFinisher) LoginRequest(ctx context.Context, loginID string) (*providers.LoginRequest, error) {
	return nil, providers.ErrLoginExpired
}

func (f *fakeFinisher) last(t testing.TB) outcome {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.latest == nil {
		t.Fatal("the finisher was not called")
	}
	return *f.latest
}

func (f *fakeFinisher) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}

// env is an SP and two dev IdPs (demo on HTTP-Redirect, test on HTTP-POST) on one server.
type env struct {
	srv     *httptest.Server
	base    string
	clock   *testClock
	sp      *Provider
	fin     *fakeFinisher
	audit   *audit.Recorder
	idps    map[string]*devidp.IdP
	idpKeys *samlx.KeyPair
	store   store.Store
	log     *storetest.Buffer // the provider's ordinary log, at debug level
}

func testConfig(base string) *Config {
	cfg := &Config{
		SPSection: saml.SPSection{
			KeyFile: testdataDir + "sp-dev.key", CertFile: testdataDir + "sp-dev.crt",
			IdPs: []IdPConfig{
				{MetadataURL: base + "/dev/spid/demo/metadata", Binding: "redirect"},
				{MetadataURL: base + "/dev/spid/test/metadata", Binding: "post"},
			},
		},
		Organization: Organization{
			Names:        map[string]string{"it": "Istituto Nazionale della Previdenza Sociale", "en": "National Social Security Institute"},
			DisplayNames: map[string]string{"it": "INPS", "en": "INPS"},
			URLs:         map[string]string{"it": "https://www.inps.it", "en": "https://www.inps.it/en"},
		},
		Contact: Contact{Email: "spid@inps.example.it", Phone: "+390659051"},
		IPACode: "inps",
	}
	cfg.applyDefaults()
	return cfg
}

func newEnv(t testing.TB) *env { return newEnvWithStore(t, nil) }

// newEnvWithStore builds the env on st (a fresh memory store when nil).
func newEnvWithStore(t testing.TB, st store.Store) *env {
	t.Helper()
	return buildEnv(t, st, samlx.KeyInfoCertificate)
}

// buildEnv builds the env on st (a fresh memory store when nil), with dev IdPs that sign with
// KeyInfo of shape ki; opts adjust the provider's Deps.
func buildEnv(t testing.TB, st store.Store, ki samlx.KeyInfoShape, opts ...func(*Deps)) *env {
	t.Helper()
	e := &env{clock: &testClock{t: t0}, fin: &fakeFinisher{}, audit: &audit.Recorder{}, idps: map[string]*devidp.IdP{}, log: &storetest.Buffer{}}
	mux := http.NewServeMux()
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	e.base = e.srv.URL
	cfg := testConfig(e.base)
	if errs := cfg.Validate("providers.spid", true); len(errs) > 0 {
		t.Fatalf("test config: %v", errs)
	}
	if st == nil {
		ms := memory.New(memory.Options{Now: e.clock.Now})
		t.Cleanup(func() { _ = ms.Close() })
		st = ms
	}
	e.store = st
	var err error
	d := Deps{Store: st, Auditor: e.audit, Now: e.clock.Now, HTTPClient: e.srv.Client(),
		BaseURL: e.base, Logger: slog.New(slog.NewTextHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	for _, o := range opts {
		o(&d)
	}
	e.sp, err = New(cfg, d)
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/spid/", e.sp.Handler(e.fin))
	var list []*devidp.IdP
	for _, name := range []string{"demo", "test"} {
		idp, err := devidp.New(devidp.Options{
			Name: name, BaseURL: e.base, Now: e.clock.Now,
			KeyFile: testdataDir + "dev-idp-" + name + ".key", CertFile: testdataDir + "dev-idp-" + name + ".crt",
			SPMetadata: devidp.FetchURL(e.srv.Client(), e.base+"/spid/metadata"),
			KeyInfo:    ki,
		})
		if err != nil {
			t.Fatal(err)
		}
		e.idps[name] = idp
		list = append(list, idp)
		mux.Handle(idp.Route(), idp)
	}
	mux.Handle("GET /dev/spid/{$}", devidp.ListHandler(list))
	mux.HandleFunc("/start", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		err := e.sp.Start(w, r, &providers.LoginRequest{ID: q.Get("login"), ACR: q.Get("acr"),
			Comparison: q.Get("cmp"), Hint: q.Get("idp")})
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
	})
	e.idpKeys, err = samlx.LoadKeyPair(testdataDir+"dev-idp-demo.key", testdataDir+"dev-idp-demo.crt")
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) client(t testing.TB) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := e.srv.Client()
	c.Jar = jar
	return c
}

// parseForm extracts the action and hidden fields of the first form in an HTML page;
// readBody reads a response's body (the profiles' shared helpers).
var (
	parseForm = samltest.ParseForm
	readBody  = samltest.ReadBody
)

// login drives a whole login through a dev IdP like a browser without JavaScript: start,
// (auto-submit form for HTTP-POST), the IdP's login form, the auto-submit form to the ACS.
// It returns the final response body and status.
func (e *env) login(t testing.TB, idp, loginID, acr string, form url.Values) (int, string) {
	t.Helper()
	c := e.client(t)
	u := e.base + "/start?" + url.Values{"login": {loginID}, "acr": {acr}, "idp": {e.idps[idp].EntityID()}}.Encode()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	page := readBody(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("start: HTTP %d: %s", resp.StatusCode, page)
	}
	if strings.Contains(page, `name="SAMLRequest"`) { // HTTP-POST binding
		action, fields := parseForm(t, page, e.base)
		resp, err = c.PostForm(action, fields)
		if err != nil {
			t.Fatal(err)
		}
		page = readBody(t, resp)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("idp sso: HTTP %d: %s", resp.StatusCode, page)
		}
	}
	action, fields := parseForm(t, page, e.base)
	for k, v := range form {
		fields[k] = v
	}
	resp, err = c.PostForm(action, fields)
	if err != nil {
		t.Fatal(err)
	}
	page = readBody(t, resp)
	action, fields = parseForm(t, page, e.base)
	resp, err = c.PostForm(action, fields)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, readBody(t, resp)
}

func TestMain(m *testing.M) {
	os.Exit(m.Run())
}
