package console_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inps/sportello/broker/console"
	"github.com/inps/sportello/internal/audit"
	"github.com/inps/sportello/internal/switches"
)

const (
	issuer   = "https://login.example.it"
	clientID = "sportello-console"
	elena    = "CNTLNE75E52L736Y"
	laura    = "BNCLRA85M41F205C"
	l3       = "https://www.spid.gov.it/SpidL3"
)

// operators is the console's entitlements by fiscal code (console.operators).
type operators map[string][]string

func (o operators) Entitlements(_ context.Context, cf string) ([]string, error) { return o[cf], nil }

// idp is what the fake token endpoint puts in the ID token of the next login.
type idp struct {
	ACR string
	AMR []string
	CF  string
	Act any
}

type uiHarness struct {
	*harness
	ui    *console.UI
	ops   operators
	mu    sync.Mutex
	clock time.Time
	next  idp
	// pending maps a code to the nonce and challenge of its login.
	pending map[string][2]string
}

func newUIHarness(t *testing.T) *uiHarness {
	t.Helper()
	u := &uiHarness{harness: newHarness(t), clock: now, pending: map[string][2]string{},
		next: idp{ACR: l3, AMR: []string{"pwd", "hwk", "mfa"}, CF: elena},
		ops:  operators{elena: {console.ScopeAdmin}, mario: {console.ScopeRead}}}
	ui, err := console.NewUI(console.UIConfig{
		API: u.api, Store: u.cut, Issuer: issuer, ClientID: clientID,
		Token:     u.token,
		Operators: u.ops,
		Lang: func(r *http.Request) string {
			if r.URL.Query().Get("lang") == "en" {
				return "en"
			}
			return "it"
		},
		Secure: true,
		Now:    u.now,
	})
	if err != nil {
		t.Fatal(err)
	}
	u.ui = ui
	return u
}

func (u *uiHarness) now() time.Time {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.clock
}

func (u *uiHarness) advance(d time.Duration) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.clock = u.clock.Add(d)
}

// token is the fake token endpoint: it checks the PKCE verifier against the login's
// challenge and answers an ID token for u.next.
func (u *uiHarness) token(_ context.Context, form url.Values) (int, []byte, error) {
	u.mu.Lock()
	p, ok := u.pending[form.Get("code")]
	delete(u.pending, form.Get("code"))
	u.mu.Unlock()
	sum := sha256.Sum256([]byte(form.Get("code_verifier")))
	if !ok || base64.RawURLEncoding.EncodeToString(sum[:]) != p[1] || form.Get("client_id") != clientID ||
		form.Get("redirect_uri") != issuer+"/console/callback" || form.Get("grant_type") != "authorization_code" {
		return http.StatusBadRequest, []byte(`{"error":"invalid_grant"}`), nil
	}
	claims := map[string]any{"iss": issuer, "sub": "sub-" + u.next.CF, "aud": clientID, "azp": clientID,
		"exp": u.now().Add(5 * time.Minute).Unix(), "nonce": p[0], "acr": u.next.ACR, "amr": u.next.AMR,
		"fiscal_number": u.next.CF, "given_name": "Elena", "family_name": "Conti"}
	if u.next.Act != nil {
		claims["act"] = u.next.Act
	}
	payload, _ := json.Marshal(claims)
	tok := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"ES256","typ":"JWT"}`)) + "." +
		base64.RawURLEncoding.EncodeToString(payload) + ".c2ln"
	body, _ := json.Marshal(map[string]string{"id_token": tok, "access_token": "at", "token_type": "Bearer"})
	return http.StatusOK, body, nil
}

// browser is a cookie jar over the console handler.
type browser struct {
	t       *testing.T
	u       *uiHarness
	cookies map[string]*http.Cookie
}

func (u *uiHarness) browser(t *testing.T) *browser {
	return &browser{t: t, u: u, cookies: map[string]*http.Cookie{}}
}

func (b *browser) do(method, target string, form url.Values) *httptest.ResponseRecorder {
	b.t.Helper()
	var req *http.Request
	if form != nil {
		req = httptest.NewRequest(method, target, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, target, nil)
	}
	for _, c := range b.cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	b.u.ui.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c
		}
	}
	return rec
}

// login runs the console's sign-in with u.next as the person and returns the callback's
// answer.
func (b *browser) login() *httptest.ResponseRecorder {
	b.t.Helper()
	return b.loginTo("/console/providers")
}

// loginTo is login coming back to next.
func (b *browser) loginTo(next string) *httptest.ResponseRecorder {
	b.t.Helper()
	rec := b.do("GET", "/console/login?next="+url.QueryEscape(next), nil)
	if rec.Code != http.StatusSeeOther {
		b.t.Fatalf("login: %d", rec.Code)
	}
	loc, err := url.Parse(rec.Header().Get("Location"))
	if err != nil || !strings.HasPrefix(loc.String(), issuer+"/authorize?") {
		b.t.Fatalf("login redirects to %s", rec.Header().Get("Location"))
	}
	q := loc.Query()
	for k, want := range map[string]string{"client_id": clientID, "response_type": "code", "acr_values": l3,
		"code_challenge_method": "S256", "redirect_uri": issuer + "/console/callback", "prompt": "login", "delegation": "skip"} {
		if q.Get(k) != want {
			b.t.Errorf("authorize %s=%q, want %q", k, q.Get(k), want)
		}
	}
	code := "code-" + q.Get("state")[:8]
	b.u.mu.Lock()
	b.u.pending[code] = [2]string{q.Get("nonce"), q.Get("code_challenge")}
	b.u.mu.Unlock()
	return b.do("GET", "/console/callback?code="+code+"&state="+url.QueryEscape(q.Get("state")), nil)
}

// csrf reads the CSRF token of a console page.
func csrfOf(t *testing.T, body string) string {
	t.Helper()
	_, rest, ok := strings.Cut(body, `name="csrf" value="`)
	if !ok {
		t.Fatal("no CSRF field on the page")
	}
	tok, _, _ := strings.Cut(rest, `"`)
	return tok
}

func signedIn(t *testing.T, u *uiHarness) (*browser, string) {
	t.Helper()
	b := u.browser(t)
	if rec := b.login(); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `data-key="signed_in"`) {
		t.Fatalf("login: %d %s", rec.Code, rec.Body.String())
	}
	rec := b.do("GET", "/console/providers", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("providers page: %d", rec.Code)
	}
	return b, csrfOf(t, rec.Body.String())
}

func TestConsoleLoginOpensAStrictSession(t *testing.T) {
	u := newUIHarness(t)
	b := u.browser(t)
	rec := b.login()
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `content="0; url=/console/providers"`) {
		t.Fatalf("callback: %d %s", rec.Code, rec.Body.String())
	}
	c := b.cookies["sportello_console"]
	if c == nil || c.Path != "/console/" || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteStrictMode {
		t.Fatalf("session cookie %+v: want Path=/console/, HttpOnly, Secure, SameSite=Strict", c)
	}
	if strings.Contains(rec.Body.String(), "/console/callback?") {
		t.Error("the callback's page links to the callback again (the language switch would replay a used code)")
	}
	if _, ok := b.cookies["sportello_console_login"]; ok {
		t.Error("the login cookie outlives the callback")
	}
	if !slices.ContainsFunc(u.rec.Events(), func(e audit.Event) bool { return e.Type == "console.login" && e.Actor == elena }) {
		t.Error("no console.login audit record with the operator as actor")
	}
	page := b.do("GET", "/console/", nil).Body.String()
	if !strings.Contains(page, elena) || !strings.Contains(page, "console:admin") {
		t.Error("the overview does not name the operator and role")
	}
}

func TestConsolePagesNeedASession(t *testing.T) {
	u := newUIHarness(t)
	b := u.browser(t)
	for _, p := range []string{"/console/", "/console/providers", "/console/clients", "/console/keys", "/console/replicas", "/console/audit", "/console/actions"} {
		rec := b.do("GET", p, nil)
		if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/console/login?next=") {
			t.Errorf("%s without a session: %d %s, want a redirect to the login", p, rec.Code, rec.Header().Get("Location"))
		}
	}
}

func TestConsoleLoginRefusals(t *testing.T) {
	tests := []struct {
		name string
		next idp
		key  string
	}{
		{"a person without the entitlement is refused", idp{ACR: l3, AMR: []string{"pwd", "hwk", "mfa"}, CF: laura}, "not_operator"},
		{"a login below SpidL3 is refused", idp{ACR: "https://www.spid.gov.it/SpidL2", AMR: []string{"pwd", "mfa"}, CF: elena}, "level"},
		{"SpidL3 without a hardware key (amr) is refused", idp{ACR: l3, AMR: []string{"pwd", "mfa"}, CF: elena}, "level"},
		{"a delegate's login is refused", idp{ACR: l3, AMR: []string{"pwd", "hwk", "mfa"}, CF: elena, Act: map[string]any{"sub": "x"}}, "login_failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := newUIHarness(t)
			u.next = tt.next
			b := u.browser(t)
			rec := b.login()
			if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), `data-key="`+tt.key+`"`) {
				t.Fatalf("callback: %d, want 403 %s: %s", rec.Code, tt.key, rec.Body.String())
			}
			if _, ok := b.cookies["sportello_console"]; ok {
				t.Error("a refused login got a session cookie")
			}
		})
	}
	t.Run("the refusal page says why", func(t *testing.T) {
		u := newUIHarness(t)
		u.next.CF = laura
		if rec := u.browser(t).login(); !strings.Contains(rec.Body.String(), "non sei abilitato") {
			t.Error("the refusal page does not say why")
		}
	})
}

func TestConsoleCallbackNeedsItsBrowserAndState(t *testing.T) {
	u := newUIHarness(t)
	b := u.browser(t)
	rec := b.do("GET", "/console/login", nil)
	loc, _ := url.Parse(rec.Header().Get("Location"))
	state := loc.Query().Get("state")
	other := u.browser(t) // an attacker's callback URL opened in the victim's browser
	if rec := other.do("GET", "/console/callback?code=x&state="+url.QueryEscape(state), nil); rec.Code != http.StatusBadRequest {
		t.Errorf("callback in another browser: %d, want 400", rec.Code)
	}
	if rec := b.do("GET", "/console/callback?code=x&state=forged", nil); rec.Code != http.StatusBadRequest {
		t.Errorf("callback with another state: %d, want 400", rec.Code)
	}
}

func TestConsoleChangesNeedCSRFAndAdmin(t *testing.T) {
	u := newUIHarness(t)
	b, csrf := signedIn(t, u)
	form := func(tok string) url.Values {
		v := url.Values{"action": {"switch"}, "kind": {"idp"}, "id": {idpID}, "state": {"off"}, "reason": {"compromised"}}
		if tok != "" {
			v.Set("csrf", tok)
		}
		return v
	}
	for _, tc := range []struct{ name, tok string }{{"missing", ""}, {"forged", "Zm9yZ2Vk"}} {
		for _, path := range []string{"/console/confirm", "/console/apply"} {
			rec := b.do("POST", path, form(tc.tok))
			if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), `data-key="csrf"`) {
				t.Errorf("%s with a %s CSRF token: %d, want 403", path, tc.name, rec.Code)
			}
		}
	}
	if off, _ := u.reader.Disabled(switches.KindIdP, idpID); off {
		t.Fatal("a form without a valid CSRF token switched the IdP off")
	}
	// Without the session cookie (another site's form), nothing either.
	anon := u.browser(t)
	if rec := anon.do("POST", "/console/apply", form(csrf)); rec.Code != http.StatusForbidden {
		t.Errorf("a change without a session: %d, want 403", rec.Code)
	}
	// The same form with the session's token goes to the confirmation, then applies.
	rec := b.do("POST", "/console/confirm", form(csrf))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `action="/console/apply"`) {
		t.Fatalf("confirm: %d", rec.Code)
	}
	if off, _ := u.reader.Disabled(switches.KindIdP, idpID); off {
		t.Fatal("the confirmation page applied the change")
	}
	rec = b.do("POST", "/console/apply", form(csrf))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `id="change-done"`) {
		t.Fatalf("apply: %d %s", rec.Code, rec.Body.String())
	}
	off, sw := u.reader.Disabled(switches.KindIdP, idpID)
	if !off || sw.Actor != elena || sw.Reason != "compromised" {
		t.Fatalf("switch %v %+v: want off by %s for the reason given", off, sw, elena)
	}
	if !slices.ContainsFunc(u.rec.Events(), func(e audit.Event) bool { return e.Type == "console.switch" && e.Actor == elena }) {
		t.Error("no console.switch audit record with the operator as actor")
	}
}

func TestConsoleSwitchOffNeedsAReason(t *testing.T) {
	u := newUIHarness(t)
	b, csrf := signedIn(t, u)
	rec := b.do("POST", "/console/apply", url.Values{"csrf": {csrf}, "action": {"switch"}, "kind": {"idp"}, "id": {idpID}, "state": {"off"}})
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `id="console-problem"`) {
		t.Errorf("switch off without a reason: %d, want 400 with the problem", rec.Code)
	}
	if off, _ := u.reader.Disabled(switches.KindIdP, idpID); off {
		t.Error("switched off without a reason")
	}
}

func TestConsoleReadOnlyOperatorChangesNothing(t *testing.T) {
	u := newUIHarness(t)
	u.next.CF = mario
	b, csrf := signedIn(t, u)
	page := b.do("GET", "/console/providers", nil).Body.String()
	if strings.Contains(page, `action="/console/confirm"`) {
		t.Error("a read-only operator sees change buttons")
	}
	for _, path := range []string{"/console/confirm", "/console/apply"} {
		rec := b.do("POST", path, url.Values{"csrf": {csrf}, "action": {"rotate_keys"}})
		if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), `data-key="read_only"`) {
			t.Errorf("%s by a read-only operator: %d, want 403", path, rec.Code)
		}
	}
	if slices.ContainsFunc(u.rec.Events(), func(e audit.Event) bool { return e.Type == "console.rotate_keys" }) {
		t.Error("a read-only operator rotated the keys")
	}
}

func TestConsoleSessionIdleAndAbsoluteTimeout(t *testing.T) {
	u := newUIHarness(t)
	b, _ := signedIn(t, u)
	u.advance(14 * time.Minute)
	if rec := b.do("GET", "/console/", nil); rec.Code != http.StatusOK {
		t.Fatalf("14 minutes idle: %d, want the page", rec.Code)
	}
	u.advance(15 * time.Minute)
	if rec := b.do("GET", "/console/", nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("15 minutes idle: %d, want a redirect to the login", rec.Code)
	}

	u2 := newUIHarness(t)
	b2, _ := signedIn(t, u2)
	for range 8 * 6 { // busy all day, never 15 minutes idle
		u2.advance(10 * time.Minute)
		if rec := b2.do("GET", "/console/", nil); rec.Code != http.StatusOK {
			break
		}
	}
	if rec := b2.do("GET", "/console/", nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("8 hours after the login: %d, want a redirect to the login", rec.Code)
	}
}

func TestConsoleLogoutEndsTheSession(t *testing.T) {
	u := newUIHarness(t)
	b, csrf := signedIn(t, u)
	saved := *b.cookies["sportello_console"]
	if rec := b.do("POST", "/console/logout", url.Values{"csrf": {"bad"}}); rec.Code != http.StatusForbidden {
		t.Errorf("logout with a forged token: %d, want 403", rec.Code)
	}
	if rec := b.do("POST", "/console/logout", url.Values{"csrf": {csrf}}); rec.Code != http.StatusOK {
		t.Fatalf("logout: %d", rec.Code)
	}
	b.cookies["sportello_console"] = &saved // a copied cookie is worth nothing after the logout
	if rec := b.do("GET", "/console/", nil); rec.Code != http.StatusSeeOther {
		t.Errorf("after the logout: %d, want a redirect to the login", rec.Code)
	}
}

func TestConsoleStoreDownAppliesNothing(t *testing.T) {
	u := newUIHarness(t)
	b, csrf := signedIn(t, u)
	rec := b.do("GET", "/console/clients", nil)
	if rec.Code != http.StatusOK {
		t.Fatal(rec.Code)
	}
	// The Store goes away after the session was read: the page says so and nothing applies.
	u.cut.Before(func(_, key string) bool { return !strings.HasPrefix(key, "console:session:") })
	rec = b.do("POST", "/console/apply", url.Values{"csrf": {csrf}, "action": {"switch"}, "kind": {"client"}, "id": {"demo-rp"}, "state": {"off"}, "reason": {"x"}})
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "Store") {
		t.Errorf("change with the Store down: %d, want 503 naming the Store", rec.Code)
	}
	u.cut.Before(nil)
	if off, _ := u.reader.Disabled(switches.KindClient, "demo-rp"); off {
		t.Error("a change was applied with the Store down")
	}
}

func TestConsolePagesRenderInBothLanguages(t *testing.T) {
	u := newUIHarness(t)
	b, _ := signedIn(t, u)
	for _, p := range []string{"/console/", "/console/providers", "/console/clients", "/console/keys", "/console/replicas", "/console/audit", "/console/actions", "/console/audit?person=" + mario} {
		for _, lang := range []string{"it", "en"} {
			target := p + map[bool]string{true: "&", false: "?"}[strings.Contains(p, "?")] + "lang=" + lang
			rec := b.do("GET", target, nil)
			body := rec.Body.String()
			if rec.Code != http.StatusOK || !strings.Contains(body, `<html lang="`+lang+`">`) || strings.Contains(body, "console.") && strings.Contains(body, ">console.") {
				t.Errorf("%s: %d (lang %s)", target, rec.Code, lang)
			}
		}
	}
	if rec := b.do("GET", "/console/audit?person=notacode", nil); rec.Code != http.StatusBadRequest {
		t.Errorf("audit search with a bad fiscal code: %d, want 400", rec.Code)
	}
	if rec := b.do("GET", "/console/nothing", nil); rec.Code != http.StatusNotFound {
		t.Errorf("unknown console page: %d, want 404", rec.Code)
	}
}

func TestConsoleRoleFollowsTheConfiguration(t *testing.T) {
	u := newUIHarness(t)
	b, csrf := signedIn(t, u)
	u.ops[elena] = []string{console.ScopeRead} // made read-only while signed in
	if rec := b.do("POST", "/console/confirm", url.Values{"csrf": {csrf}, "action": {"rotate_keys"}}); rec.Code != http.StatusForbidden {
		t.Errorf("a change by an operator made read-only: %d, want 403", rec.Code)
	}
	delete(u.ops, elena) // removed
	if rec := b.do("GET", "/console/", nil); rec.Code != http.StatusSeeOther {
		t.Errorf("a page for an operator removed: %d, want a redirect to the login", rec.Code)
	}
}

func TestConsoleActionsPageOffersWhatTheBrokerHas(t *testing.T) {
	u := newUIHarness(t)
	b, _ := signedIn(t, u)
	page := b.do("GET", "/console/actions", nil).Body.String()
	for _, id := range []string{`id="act-unlock"`, `id="act-revoke"`, `id="act-refresh"`} {
		if !strings.Contains(page, id) {
			t.Errorf("the actions page lacks %s", id)
		}
	}
	h := newHarness(t, func(c *console.Config) { c.Actions.RevokePerson = nil })
	ui, err := console.NewUI(console.UIConfig{API: h.api, Store: h.cut, Issuer: issuer, ClientID: clientID, Token: u.token,
		Operators: u.ops, Lang: func(*http.Request) string { return "it" }, Now: u.now})
	if err != nil {
		t.Fatal(err)
	}
	u.ui = ui
	b2, _ := signedIn(t, u)
	if page := b2.do("GET", "/console/actions", nil).Body.String(); strings.Contains(page, `id="act-revoke"`) || !strings.Contains(page, `id="act-unlock"`) {
		t.Error("a broker without RevokePerson offers it (or lost the others)")
	}
}

func TestConsoleLoginComesBackOnlyToConsolePages(t *testing.T) {
	for next, want := range map[string]string{
		"/console/audit?type=console.switch": "/console/audit?type=console.switch",
		"https://evil.example/":              "/console/",
		"//evil.example/console/":            "/console/",
		"/console//evil.example":             "/console/",
		"/console/\\evil.example":            "/console/",
		"/console/api/switches":              "/console/",
		"/deleghe/":                          "/console/",
	} {
		u := newUIHarness(t)
		rec := u.browser(t).loginTo(next)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `content="0; url=`+want+`"`) {
			t.Errorf("next=%q: the sign-in goes on elsewhere than %s", next, want)
		}
	}
}

// A provider's metadata summary is shown in the page's language, never the API's English text.
func TestConsoleProvidersSummaryIsTranslated(t *testing.T) {
	u := newUIHarness(t)
	b, _ := signedIn(t, u)
	page := b.do("GET", "/console/providers", nil).Body.String()
	if !strings.Contains(page, "fonti di metadati 3") || !strings.Contains(page, "mai caricate 1") || strings.Contains(page, "metadata sources (") {
		t.Fatalf("the Italian providers page does not translate the metadata summary:\n%s", page)
	}
}

// An operator revoked (revoke-person) after the console sign-in loses the console session;
// when the revocation cannot be checked, no page is served (never an unchecked session).
func TestConsoleSessionEndsWithTheOperatorsRevocation(t *testing.T) {
	u := newUIHarness(t)
	var revoked atomic.Bool
	var failing atomic.Bool
	ui, err := console.NewUI(console.UIConfig{API: u.api, Store: u.cut, Issuer: issuer, ClientID: clientID, Token: u.token,
		Operators: u.ops, Lang: func(*http.Request) string { return "it" }, Now: u.now,
		Revoked: func(_ context.Context, cf string, since time.Time) (bool, error) {
			if failing.Load() {
				return false, errors.New("store down")
			}
			return cf == elena && revoked.Load() && !since.IsZero(), nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	u.ui = ui
	b, _ := signedIn(t, u)
	if rec := b.do("GET", "/console/", nil); rec.Code != http.StatusOK {
		t.Fatalf("overview before the revocation: %d", rec.Code)
	}
	failing.Store(true)
	if rec := b.do("GET", "/console/", nil); rec.Code == http.StatusOK {
		t.Fatal("a page served while the revocation could not be checked")
	}
	failing.Store(false)
	revoked.Store(true)
	if rec := b.do("GET", "/console/", nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("a revoked operator's page: %d, want a redirect to the login", rec.Code)
	}
	revoked.Store(false)
	if rec := b.do("GET", "/console/", nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("the session came back after the revocation: %d", rec.Code)
	}
}
