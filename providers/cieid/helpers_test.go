package cieid

import (
	"flag"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/inps/sportello/internal/audit"
	"github.com/inps/sportello/internal/store/memory"
	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/saml/samltest"
	"github.com/inps/sportello/providers/saml/samlx"
	"github.com/inps/sportello/providers/spid/devidp"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// t0 is the fixed time of the tests (the committed test certificates are valid 2025-2045).
var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

const testdataDir = "../../testdata/spid/"

// zeroRand makes IDs and RelayStates deterministic for golden files.
type zeroRand struct{}

func (zeroRand) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = byte(i)
	}
	return len(b), nil
}

// env is the CIE ID SP and the dev CIE ID server on one test server.
type env struct {
	samltest.ACS
	srv   *httptest.Server
	base  string
	clock *samltest.Clock
	sp    *Provider
	fin   *samltest.Finisher
	audit *audit.Recorder
	idp   *devidp.IdP
	keys  *samlx.KeyPair
}

var _ samltest.Target = (*env)(nil)

// devServer is the dev IdP at base as dev mode runs it (devidp.NewDevCIEID), fetching the SP metadata
// with client.
func devServer(t testing.TB, base string, now func() time.Time, client *http.Client) *devidp.IdP {
	t.Helper()
	idp, err := devidp.NewDevCIEID(base, testdataDir, client, now, nil)
	if err != nil {
		t.Fatal(err)
	}
	return idp
}

func newEnv(t testing.TB, edit func(*Config)) *env {
	t.Helper()
	e := &env{clock: &samltest.Clock{T: t0}, fin: &samltest.Finisher{}, audit: &audit.Recorder{}}
	mux := http.NewServeMux()
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	e.base = e.srv.URL
	cfg := DevConfig(e.base, testdataDir)
	if edit != nil {
		edit(cfg)
	}
	if errs := cfg.Validate("providers.cieid", true); len(errs) > 0 {
		t.Fatalf("test config: %v", errs)
	}
	st := memory.New(memory.Options{Now: e.clock.Now})
	t.Cleanup(func() { _ = st.Close() })
	var err error
	e.sp, err = New(cfg, Deps{Store: st, Auditor: e.audit, Now: e.clock.Now, HTTPClient: e.srv.Client(), BaseURL: e.base})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/cieid/", e.sp.Handler(e.fin))
	e.ACS = samltest.ACS{SP: e.sp, Fin: e.fin, Base: e.base, Path: "/cieid/acs"}
	e.idp = devServer(t, e.base, e.clock.Now, e.srv.Client())
	mux.Handle(e.idp.Route(), e.idp)
	mux.HandleFunc("/start", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if err := e.sp.Start(w, r, &providers.LoginRequest{ID: q.Get("login"), ACR: q.Get("acr"), Comparison: q.Get("cmp")}); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
	})
	if e.keys, err = samlx.LoadKeyPair(testdataDir+"dev-idp-cieid.key", testdataDir+"dev-idp-cieid.crt"); err != nil {
		t.Fatal(err)
	}
	return e
}

// request starts a login and returns the redirect URL, the AuthnRequest and the RelayState.
func (e *env) request(t testing.TB, loginID, acr, cmp string) (*url.URL, *etree.Document, string) {
	t.Helper()
	return e.Request(t, &providers.LoginRequest{ID: loginID, ACR: acr, Comparison: cmp})
}

// Good is the response the CIE ID server sends for p: the eIDAS minimum data set, the
// Response's Issuer without Format.
func (e *env) Good(p samltest.Pending) samlx.ResponseParams {
	return samlx.ResponseParams{
		IdP: e.idp.EntityID(), ACS: e.base + "/cieid/acs", InResponseTo: p.RequestID,
		Audience: e.sp.EntityID(), Now: e.clock.Now(), ResponseID: "_resp" + p.RequestID[1:12],
		AssertionID: "_assert" + p.RequestID[1:12], NameID: "_nameid1", SessionIndex: "_session1", Level: 3,
		Attributes: [][2]string{
			{"name", "Mario"}, {"familyName", "Rossi"}, {"dateOfBirth", "1980-01-01"},
			{"fiscalNumber", "TINIT-RSSMRA80A01H501U"},
		},
		ResponseIssuerWithoutFormat: true,
	}
}

// Keys sign the dev CIE ID server's responses.
func (e *env) Keys() *samlx.KeyPair { return e.keys }

// login drives a whole login through the dev IdP's form (samltest.DevLogin).
func (e *env) login(t testing.TB, loginID, acr string, form url.Values) (int, string) {
	t.Helper()
	return samltest.DevLogin(t, e.srv.Client(), e.base+"/start?"+url.Values{"login": {loginID}, "acr": {acr}}.Encode(), e.base, form)
}

// httptestRecorder starts req on p and returns the redirect Location.
func httptestRecorder(t *testing.T, p *Provider, req *providers.LoginRequest) string {
	t.Helper()
	rec := httptest.NewRecorder()
	if err := p.Start(rec, httptest.NewRequest(http.MethodGet, fixedBase+"/start", nil), req); err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusFound {
		t.Fatalf("start: HTTP %d", rec.Code)
	}
	return rec.Header().Get("Location")
}

// attacker is a key pair in no metadata.
func attacker(t testing.TB) *samlx.KeyPair { return samltest.KeyPair(t, testdataDir, "attacker") }
