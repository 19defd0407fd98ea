package eidas

import (
	"context"
	"encoding/base64"
	"flag"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/inps/sportello/internal/audit"
	"github.com/inps/sportello/internal/store/memory"
	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/saml"
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

// env is the eIDAS SP and the dev eIDAS node on one test server.
type env struct {
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

// devNode is the dev eIDAS node at base (/dev/eidas), as dev mode runs it.
func devNode(t testing.TB, base string, now func() time.Time, sp func(context.Context) ([]byte, error)) *devidp.IdP {
	t.Helper()
	idp, err := devidp.New(devidp.Options{Name: "eidas", Prefix: "/dev/eidas", DisplayName: "eIDAS node (dev)",
		Federation: "eIDAS", BaseURL: base, Now: now, Users: devidp.EIDASUsers(), UserLabel: "PersonIdentifier",
		Countries: []string{"DE", "ES"},
		KeyFile:   testdataDir + "dev-idp-ficep.key", CertFile: testdataDir + "dev-idp-ficep.crt", SPMetadata: sp})
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
	if errs := cfg.Validate("providers.eidas", true); len(errs) > 0 {
		t.Fatalf("test config: %v", errs)
	}
	st := memory.New(memory.Options{Now: e.clock.Now})
	t.Cleanup(func() { _ = st.Close() })
	var err error
	e.sp, err = New(cfg, Deps{ProfileDeps: saml.ProfileDeps{Store: st, Auditor: e.audit, Now: e.clock.Now,
		HTTPClient: e.srv.Client(), BaseURL: e.base}})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/eidas/", e.sp.Handler(e.fin))
	e.idp = devNode(t, e.base, e.clock.Now, devidp.FetchURL(e.srv.Client(), e.base+"/eidas/metadata"))
	mux.Handle(e.idp.Route(), e.idp)
	mux.HandleFunc("/start", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if err := e.sp.Start(w, r, &providers.LoginRequest{ID: q.Get("login"), ACR: q.Get("acr"), Comparison: q.Get("cmp")}); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
	})
	if e.keys, err = samlx.LoadKeyPair(testdataDir+"dev-idp-ficep.key", testdataDir+"dev-idp-ficep.crt"); err != nil {
		t.Fatal(err)
	}
	return e
}

// Start asks the SP for an AuthnRequest and reads it back from the redirect.
func (e *env) Start(t testing.TB, loginID, acr, cmp string) samltest.Pending {
	t.Helper()
	_, doc, rs := e.request(t, loginID, acr, cmp)
	return samltest.Pending{RelayState: rs, RequestID: doc.Root().SelectAttrValue("ID", "")}
}

// request starts a login and returns the redirect URL, the AuthnRequest and the RelayState.
func (e *env) request(t testing.TB, loginID, acr, cmp string) (*url.URL, *etree.Document, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	err := e.sp.Start(rec, httptest.NewRequest(http.MethodGet, e.base+"/start", nil),
		&providers.LoginRequest{ID: loginID, ACR: acr, Comparison: cmp})
	if err != nil {
		t.Fatal(err)
	}
	loc, err := url.Parse(rec.Header().Get("Location"))
	if err != nil || rec.Code != http.StatusFound {
		t.Fatalf("start: HTTP %d %q", rec.Code, rec.Header().Get("Location"))
	}
	xml, err := samlx.InflateBase64(loc.Query().Get("SAMLRequest"))
	if err != nil {
		t.Fatal(err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(xml); err != nil {
		t.Fatal(err)
	}
	return loc, doc, loc.Query().Get("RelayState")
}

// Good is the response the eIDAS node sends for p: the minimum data set, the PersonIdentifier
// in spidCode, SPID-shaped (the Response's Issuer with Format entity).
func (e *env) Good(p samltest.Pending) samlx.ResponseParams {
	return samlx.ResponseParams{
		IdP: e.idp.EntityID(), ACS: e.base + "/eidas/acs", InResponseTo: p.RequestID,
		Audience: e.sp.EntityID(), Now: e.clock.Now(), ResponseID: "_resp" + p.RequestID[1:12],
		AssertionID: "_assert" + p.RequestID[1:12], NameID: "_nameid1", SessionIndex: "_session1", Level: 2,
		Attributes: [][2]string{
			{"dateOfBirth", "1975-05-20"}, {"familyName", "Schmidt"}, {"name", "Anna"},
			{"spidCode", "DE/IT/0123456789ABCDEF"},
		},
	}
}

// Keys sign the dev eIDAS node's responses.
func (e *env) Keys() *samlx.KeyPair { return e.keys }

// Post delivers a SAMLResponse to the ACS.
func (e *env) Post(t testing.TB, relayState string, xml []byte) (int, samltest.Outcome) {
	t.Helper()
	form := url.Values{"SAMLResponse": {base64.StdEncoding.EncodeToString(xml)}, "RelayState": {relayState}}
	req := httptest.NewRequest(http.MethodPost, e.base+"/eidas/acs", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	before := e.fin.Count()
	e.sp.Handler(e.fin).ServeHTTP(rec, req)
	if e.fin.Count() != before+1 {
		t.Fatalf("ACS called the finisher %d times", e.fin.Count()-before)
	}
	return rec.Code, e.fin.Last(t)
}

var (
	formRe  = regexp.MustCompile(`<form method="post" action="([^"]*)">`)
	inputRe = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
)

func parseForm(t testing.TB, page, base string) (string, url.Values) {
	t.Helper()
	m := formRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no form in page:\n%s", page)
	}
	action := html.UnescapeString(m[1])
	if strings.HasPrefix(action, "/") {
		action = base + action
	}
	v := url.Values{}
	for _, in := range inputRe.FindAllStringSubmatch(page, -1) {
		v.Set(html.UnescapeString(in[1]), html.UnescapeString(in[2]))
	}
	return action, v
}

func readBody(t testing.TB, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// login drives a whole login through the dev eIDAS node like a browser without
// JavaScript: start (redirect), the server's login form, the auto-submit form to the ACS.
func (e *env) login(t testing.TB, loginID, acr string, form url.Values) (int, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := e.srv.Client()
	c.Jar = jar
	resp, err := c.Get(e.base + "/start?" + url.Values{"login": {loginID}, "acr": {acr}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	page := readBody(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("start: HTTP %d: %s", resp.StatusCode, page)
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
