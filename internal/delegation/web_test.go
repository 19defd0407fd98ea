package delegation

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/providers"
)

type csrf struct{}

func (csrf) Token(*http.Request) string { return "tok" }
func (csrf) Check(r *http.Request) bool { return r.FormValue("csrf") == "tok" }

type webFixture struct {
	*fixture
	srv     *httptest.Server
	session *providers.Identity
	lastCSP string // the Content-Security-Policy of the last answer
}

func newWebFixture(t *testing.T) *webFixture {
	t.Helper()
	return newWebFixtureOf(t, newFixture(t))
}

// newWebFixtureOf serves the pages and the operators' API of the registry of f.
func newWebFixtureOf(t *testing.T, f *fixture) *webFixture {
	t.Helper()
	fx := &webFixture{fixture: f}
	if err := SeedDev(ctx, fx.reg); err != nil {
		t.Fatal(err)
	}
	web, err := NewWeb(fx.reg, Deps{CSRF: csrf{},
		Lang:    func(r *http.Request) string { return r.Header.Get("Accept-Language") },
		Session: func(*http.Request) (*providers.Identity, error) { return fx.session, nil },
		Authorize: func(r *http.Request, scope string) (string, bool) {
			if r.Header.Get("Authorization") == "Bearer "+scope {
				return "op-roma-3", true
			}
			return "", false
		}})
	if err != nil {
		t.Fatal(err)
	}
	fx.srv = httptest.NewServer(web)
	t.Cleanup(fx.srv.Close)
	return fx
}

func person(cf, given, family string, level int) *providers.Identity {
	return &providers.Identity{FiscalNumber: cf, GivenName: given, FamilyName: family, Method: "spid",
		ACR: loa.ACRForLevel(level), AMR: []string{"pwd"}}
}

var (
	verdi   = person(DevDelegatorCF, "Giuseppe", "Verdi", 2)
	bianchi = person(DevDelegateCF, "Laura", "Bianchi", 2)
	rossi   = person("RSSMRA80A01H501U", "Mario", "Rossi", 3)
)

func (fx *webFixture) do(t *testing.T, method, path string, form url.Values, lang string) (int, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, fx.srv.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept-Language", lang)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	fx.lastCSP = resp.Header.Get("Content-Security-Policy")
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func form(kv ...string) url.Values {
	v := url.Values{"csrf": {"tok"}}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

func TestPagesNeedALevel2Session(t *testing.T) {
	fx := newWebFixture(t)
	tests := []struct {
		name    string
		session *providers.Identity
		lang    string
		status  int
		want    string
	}{
		{"without a session the page explains how to sign in", nil, "it", 401, "accedi con SPID, CIE o CNS"},
		{"without a session, in English", nil, "en", 401, "sign in with SPID, CIE or CNS"},
		{"a level 1 session is not enough", person(DevDelegatorCF, "Giuseppe", "Verdi", 1), "it", 403, "livello SPID 2 o superiore"},
		{"a level 1 session is not enough, in English", person(DevDelegatorCF, "Giuseppe", "Verdi", 1), "en", 403, "SPID level 2 or above"},
		{"a level 2 session sees the page", verdi, "it", 200, "Deleghe che ho conferito"},
		{"a level 3 session sees the page in English", rossi, "en", 200, "Delegations I gave"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx.session = tt.session
			status, body := fx.do(t, "GET", "/deleghe/", nil, tt.lang)
			if status != tt.status || !strings.Contains(body, tt.want) {
				t.Fatalf("%d %s", status, body)
			}
			if tt.status != 200 && strings.Contains(body, "<form") {
				t.Fatal("a form shown without a suitable session")
			}
		})
	}
}

func TestPagesListGivenAndReceived(t *testing.T) {
	fx := newWebFixture(t)
	fx.session = verdi
	_, body := fx.do(t, "GET", "/deleghe/", nil, "it")
	if !strings.Contains(body, "Laura Bianchi (BNCLRA85M41F205C)") || !strings.Contains(body, `name="id" value="`+DevDelegationID+`"`) ||
		!strings.Contains(body, "in sede (AA08)") || !strings.Contains(body, "senza scadenza") {
		t.Fatal(body)
	}
	fx.session = bianchi
	_, body = fx.do(t, "GET", "/deleghe/", nil, "en")
	if !strings.Contains(body, `<table id="received"`) || !strings.Contains(body, "Giuseppe Verdi (VRDGPP40C15L219U)") ||
		strings.Contains(body, `name="id"`) || !strings.Contains(body, ">active<") {
		t.Fatal(body)
	}
	// The shared layout of every citizen page: Bootstrap Italia, the skip link, a main landmark,
	// the language switch, no inline style (the Content-Security-Policy forbids it).
	for _, want := range []string{"bootstrap-italia.min.css", `<main id="main"`, `href="#main"`, `lang=it`, `<html lang="en">`} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	if strings.Contains(body, "<style") || strings.Contains(body, " style=") {
		t.Error("inline style on the page")
	}
	if csp := fx.lastCSP; strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "form-action 'self'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
}

func TestRegisterOnlineThroughThePage(t *testing.T) {
	fx := newWebFixture(t)
	fx.session = rossi
	tests := []struct {
		name   string
		form   url.Values
		status int
		want   string
	}{
		{"a forged form is refused", url.Values{"fiscal_code": {"CNTCHR83T41D969D"}}, 403, "Il modulo è scaduto"},
		{"an invalid fiscal code is refused and kept in the form", form("fiscal_code", "CNTCHR83T41D969X", "given_name", "Chiara", "family_name", "Conti"), 400, `value="CNTCHR83T41D969X"`},
		{"an end date in the past is refused", form("fiscal_code", "CNTCHR83T41D969D", "given_name", "Chiara", "family_name", "Conti", "end", "01/01/2020"), 400, "data futura"},
		{"a malformed end date is refused", form("fiscal_code", "CNTCHR83T41D969D", "given_name", "Chiara", "family_name", "Conti", "end", "31/02/2030"), 400, "data futura"},
		{"self-delegation is refused", form("fiscal_code", rossi.FiscalNumber, "given_name", "Mario", "family_name", "Rossi"), 400, "il tuo stesso codice fiscale"},
		{"a valid delegation is registered, the end written gg/mm/aaaa", form("fiscal_code", "cntchr83t41d969d", "given_name", "Chiara", "family_name", "Conti",
			"email", "chiara@example.it", "end", "31/01/2027"), 200, "La delega a Chiara Conti è attiva"},
		{"a second delegate is refused", form("fiscal_code", "RCCMNL83S18D969H", "given_name", "Emanuele", "family_name", "Ricci"), 409, "Hai già una persona delegata"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := fx.do(t, "POST", "/deleghe/register", tt.form, "it")
			if status != tt.status || !strings.Contains(body, tt.want) {
				t.Fatalf("%d %s", status, body)
			}
		})
	}
	_, body := fx.do(t, "GET", "/deleghe/", nil, "it")
	// Registered online today: revocable online only after 30 days; the last day is shown.
	if !strings.Contains(body, "Chiara Conti (CNTCHR83T41D969D)") || !strings.Contains(body, "31/01/2027") ||
		!strings.Contains(body, "Revocabile online dal 01/04/2026") || strings.Contains(body, `name="id"`) {
		t.Fatal(body)
	}
	if n := fx.rec.notes; len(n) != 1 || n[0].To != "chiara@example.it" || !strings.Contains(n[0].Body, "Mario Rossi") || !strings.Contains(n[0].Body, "fino al 31/01/2027 compreso") {
		t.Fatalf("%+v", n)
	}
	fx.clock.Advance(31 * day)
	_, body = fx.do(t, "GET", "/deleghe/", nil, "it")
	if !strings.Contains(body, `name="id"`) {
		t.Fatal("not revocable online after 31 days")
	}
}

func TestRevokeThroughThePage(t *testing.T) {
	fx := newWebFixture(t)
	fx.session = bianchi
	if status, body := fx.do(t, "POST", "/deleghe/revoke", form("id", DevDelegationID), "en"); status != 403 || !strings.Contains(body, "Only the person who gave") {
		t.Fatalf("the delegate revoked: %d %s", status, body)
	}
	fx.session = verdi
	if status, _ := fx.do(t, "POST", "/deleghe/revoke", url.Values{"id": {DevDelegationID}}, "it"); status != 403 {
		t.Fatalf("revoked without CSRF: %d", status)
	}
	if status, body := fx.do(t, "POST", "/deleghe/revoke", form("id", DevDelegationID), "it"); status != 200 || !strings.Contains(body, "è stata revocata") ||
		!strings.Contains(body, ">revocata<") {
		t.Fatalf("%d %s", status, body)
	}
	if status, body := fx.do(t, "POST", "/deleghe/revoke", form("id", DevDelegationID), "it"); status != 409 || !strings.Contains(body, "già revocata") {
		t.Fatalf("%d %s", status, body)
	}
	if status, _ := fx.do(t, "POST", "/deleghe/revoke", form("id", "nope"), "it"); status != 404 {
		t.Fatalf("%d", status)
	}
	if ok, _ := fx.reg.Active(ctx, DevDelegationID); ok {
		t.Fatal("still active")
	}
}

func TestProtectedPersonSeesOfficeOnly(t *testing.T) {
	fx := newWebFixture(t)
	if _, err := fx.reg.Register(ctx, office(KindLegalAA10, DevDelegatorCF, "RSSMRA80A01H501U")); err != nil {
		t.Fatal(err)
	}
	fx.session = verdi
	_, body := fx.do(t, "GET", "/deleghe/", nil, "it")
	if strings.Contains(body, `name="id"`) || !strings.Contains(body, "Revocabile solo presso una sede INPS") {
		t.Fatal(body)
	}
	if status, body := fx.do(t, "POST", "/deleghe/revoke", form("id", DevDelegationID), "it"); status != 403 || !strings.Contains(body, "tutela") {
		t.Fatalf("%d %s", status, body)
	}
}

func (fx *webFixture) api(t *testing.T, method, path, token string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		if s, ok := body.(string); ok {
			b = []byte(s)
		}
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, fx.srv.URL+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestOperatorsAPI(t *testing.T) {
	fx := newWebFixture(t)
	aa10 := map[string]any{"kind": "legal_aa10", "role": "amministratore_di_sostegno",
		"delegator": map[string]string{"fiscal_code": "CNTCHR83T41D969D", "given_name": "Chiara", "family_name": "Conti"},
		"delegate":  map[string]string{"fiscal_code": "RCCMNL83S18D969H", "given_name": "Emanuele", "family_name": "Ricci"},
		"reference": "AA10/2026/77", "end": "2030-12-31"}
	tests := []struct {
		name, method, path, token string
		body                      any
		status                    int
		want                      string
	}{
		{"no token, no access", "GET", "/admin/delegations/show?fiscal_code=" + DevDelegateCF, "", nil, 401, "unauthorized"},
		{"another scope, no access", "GET", "/admin/delegations/show?fiscal_code=" + DevDelegateCF, "pin:office", nil, 401, "unauthorized"},
		{"an operator registers an AA10", "POST", "/admin/delegations/register", ScopeOffice, aa10, 200, "legal_aa10"},
		{"an operator cannot register an online kind", "POST", "/admin/delegations/register", ScopeOffice,
			map[string]any{"kind": "online", "delegator": map[string]string{"fiscal_code": "CNTCHR83T41D969D"}, "delegate": map[string]string{"fiscal_code": DevDelegateCF}}, 400, "invalid_request"},
		{"AA09 without the certificate is refused", "POST", "/admin/delegations/register", ScopeOffice,
			map[string]any{"kind": "office_aa09", "delegator": map[string]string{"fiscal_code": "CNTCHR83T41D969D"}, "delegate": map[string]string{"fiscal_code": DevDelegateCF}}, 400, "invalid_request"},
		{"the one-delegate limit is reported", "POST", "/admin/delegations/register", ScopeOffice,
			map[string]any{"kind": "office_aa08", "delegator": map[string]string{"fiscal_code": DevDelegatorCF}, "delegate": map[string]string{"fiscal_code": "CNTCHR83T41D969D"}}, 409, "limit_delegator"},
		{"unknown fields are refused", "POST", "/admin/delegations/register", ScopeOffice, `{"kind":"office_aa08","bogus":1}`, 400, "invalid_request"},
		{"show by fiscal code", "GET", "/admin/delegations/show?fiscal_code=" + DevDelegatorCF, ScopeOffice, nil, 200, DevDelegationID},
		{"show an invalid fiscal code", "GET", "/admin/delegations/show?fiscal_code=XYZ", ScopeOffice, nil, 400, "invalid_request"},
		{"an operator revokes at any time", "POST", "/admin/delegations/revoke", ScopeOffice, map[string]string{"id": DevDelegationID, "reason": "AA08 revoca prot. 12"}, 200, "ok"},
		{"revoking twice is a conflict", "POST", "/admin/delegations/revoke", ScopeOffice, map[string]string{"id": DevDelegationID}, 409, "not_active"},
		{"revoking an unknown id", "POST", "/admin/delegations/revoke", ScopeOffice, map[string]string{"id": "nope"}, 404, "not_found"},
		{"get by id", "GET", "/admin/delegations/get?id=" + DevDelegationID, ScopeOffice, nil, 200, "revoked_at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out := fx.api(t, tt.method, tt.path, tt.token, tt.body)
			b, _ := json.Marshal(out)
			if status != tt.status || !strings.Contains(string(b), tt.want) {
				t.Fatalf("%d %s", status, b)
			}
		})
	}
	if got := fx.rec.types(); !strings.Contains(got, "delegation.registered/op-roma-3") || !strings.Contains(got, "delegation.revoked/op-roma-3") ||
		!strings.Contains(got, "delegation.lookup/op-roma-3") {
		t.Fatal(got)
	}
	// The end date is the last day of validity, Italian time: it ends at midnight in Rome.
	recv, _ := fx.reg.Received(ctx, "RCCMNL83S18D969H")
	if len(recv) != 1 || recv[0].End.UTC().Format("2006-01-02T15:04") != "2030-12-31T23:00" {
		t.Fatalf("%+v", recv)
	}
}

func TestMessagesHaveBothLanguages(t *testing.T) {
	for k, v := range Messages() {
		if !strings.HasPrefix(k, "delegation.") || v["it"] == "" || v["en"] == "" {
			t.Fatalf("%s: %v", k, v)
		}
	}
}
