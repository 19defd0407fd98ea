package oidcfed_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/inps/sportello/internal/audit"
	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/internal/store/memory"
	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/oidcfed"
	"github.com/inps/sportello/providers/oidcfed/devfed"
)

// recorder is the broker's side of a login: what Finish and Fail were given.
type recorder struct {
	mu  sync.Mutex
	id  *providers.Identity
	err error
}

func (f *recorder) Finish(w http.ResponseWriter, _ *http.Request, _ string, id *providers.Identity) {
	f.mu.Lock()
	f.id, f.err = id, nil
	f.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (f *recorder) Fail(w http.ResponseWriter, _ *http.Request, _ string, err error) {
	f.mu.Lock()
	f.id, f.err = nil, err
	f.mu.Unlock()
	w.WriteHeader(http.StatusForbidden)
}

func (f *recorder) LoginRequest(context.Context, string) (*providers.LoginRequest, error) {
	return nil, providers.ErrLoginExpired
}

// world is a broker's federation RP and the dev federation on one test server.
type world struct {
	srv  *httptest.Server
	fed  *devfed.Federation
	p    *oidcfed.Provider
	fin  *recorder
	rec  *audit.Recorder
	spid *devfed.OP
	cie  *devfed.OP
}

func newWorld(t *testing.T) *world {
	w := &world{fin: &recorder{}, rec: &audit.Recorder{}}
	var h http.Handler = http.NotFoundHandler()
	w.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { h.ServeHTTP(rw, r) }))
	t.Cleanup(w.srv.Close)
	fed, err := devfed.New(w.srv.URL, devfed.Options{Client: w.srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	w.fed, w.spid, w.cie = fed, fed.OPs[0], fed.OPs[1]
	c := &oidcfed.Config{AuthorityHints: []string{fed.TA.ID}, KeysDir: t.TempDir(), MinLevel: 1,
		OpenIDProviders: []oidcfed.OPConfig{
			{EntityID: w.spid.Entity.ID, Profile: oidcfed.ProfileSPID, TrustMarks: []string{fed.TA.ID + devfed.MarkOP}},
			{EntityID: w.cie.Entity.ID, Profile: oidcfed.ProfileCIE},
		}}
	c.ApplyDefaults()
	c.WithAnchor(fed.Anchor().EntityID, fed.Anchor().JWKS)
	c.WithKeys(&oidcfed.FileKeySource{Dir: c.KeysDir, Generate: true, Bits: 2048})
	w.p, err = oidcfed.Open(providers.Host{ID: "oidcfed", Issuer: w.srv.URL, Store: memory.New(memory.Options{}), Auditor: w.rec}, c,
		oidcfed.Options{Client: w.srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fed.Enroll(w.p.EntityID(), w.p.FederationJWKS()); err != nil {
		t.Fatal(err)
	}
	rp := w.p.Handler(w.fin)
	mux := http.NewServeMux()
	mux.Handle(devfed.Route, fed.Handler())
	mux.Handle(oidcfed.WellKnown, rp)
	mux.Handle(oidcfed.CallbackPath, rp)
	h = mux
	if err := w.p.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	return w
}

var reqField = regexp.MustCompile(`name="req" value="([^"]+)"`)

// login runs a login at op up to the callback URL the OP redirects to.
func (w *world) loginTo(t *testing.T, op *devfed.OP, acr, user, level string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/login/x/oidcfed", nil)
	if err := w.p.Start(rec, r, &providers.LoginRequest{ID: "login-1", ACR: acr, Comparison: loa.Minimum, Hint: op.Entity.ID, ForceAuthn: true, Lang: "it"}); err != nil {
		t.Fatal(err)
	}
	authz := rec.Header().Get("Location")
	if !strings.HasPrefix(authz, op.Entity.ID+"/authorize?") {
		t.Fatalf("Start redirected to %q", authz)
	}
	client := w.srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Get(authz)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	m := reqField.FindSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("authorize answered %d: %s", resp.StatusCode, body)
	}
	resp, err = client.PostForm(op.Entity.ID+"/authorize", url.Values{"req": {string(m[1])}, "username": {user},
		"password": {"test-password"}, "level": {level}, "action": {"login"}})
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	cb := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(cb, w.srv.URL+oidcfed.CallbackPath+"?") {
		t.Fatalf("login answered %d to %q", resp.StatusCode, cb)
	}
	return cb
}

// callback delivers the authorization response and returns what the broker was given.
func (w *world) callback(t *testing.T, cb string) (*providers.Identity, error) {
	t.Helper()
	u, _ := url.Parse(cb)
	rec := httptest.NewRecorder()
	w.p.Handler(w.fin).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, u.RequestURI(), nil))
	w.fin.mu.Lock()
	defer w.fin.mu.Unlock()
	return w.fin.id, w.fin.err
}

func TestLoginThroughTheFederation(t *testing.T) {
	w := newWorld(t)
	if got := w.p.Options(); len(got) != 2 || got[0].Hint != w.spid.Entity.ID || got[0].Name != "SPID OIDC (dev)" {
		t.Fatalf("options %+v", got)
	}
	for _, c := range []struct {
		op     *devfed.OP
		level  string
		method string
	}{
		{w.spid, "2", providers.MethodSPID}, {w.spid, "3", providers.MethodSPID},
		{w.cie, "2", providers.MethodCIE}, {w.cie, "3", providers.MethodCIE},
	} {
		t.Run(c.op.Profile+" L"+c.level, func(t *testing.T) {
			acr := "https://www.spid.gov.it/SpidL" + c.level
			id, err := w.callback(t, w.loginTo(t, c.op, acr, "RSSMRA80A01H501U", c.level))
			if err != nil {
				t.Fatal(err)
			}
			if err := id.Validate(); err != nil {
				t.Fatal(err)
			}
			if id.FiscalNumber != "RSSMRA80A01H501U" || id.Method != c.method || id.ACR != acr || id.GivenName != "Mario" ||
				id.FamilyName != "Rossi" || id.Birthdate != "1980-01-01" || id.Email != "mario.rossi@example.it" {
				t.Fatalf("identity %+v", id)
			}
			if c.method == providers.MethodSPID && (id.SPIDIdP != c.op.Entity.ID || id.SPIDOP != c.op.Entity.ID || id.CIEOP != "") {
				t.Fatalf("spid_idp %q, spid_op %q, cie_op %q", id.SPIDIdP, id.SPIDOP, id.CIEOP)
			}
			if c.method == providers.MethodCIE && (id.CIEOP != c.op.Entity.ID || id.CIEChannel != oidcfed.ChannelOIDCFed || id.SPIDOP != "" || id.SPIDIdP != "") {
				t.Fatalf("cie_op %q, spid_op %q, spid_idp %q", id.CIEOP, id.SPIDOP, id.SPIDIdP)
			}
			if id.Attributes["oidcfed_op"] != c.op.Entity.ID {
				t.Fatalf("attributes %v", id.Attributes)
			}
			// Logout revokes the OP's access token.
			at := id.Session["access_token"]
			if c.op.Revoked(at) {
				t.Fatal("no live access token before logout")
			}
			rec := httptest.NewRecorder()
			if err := w.p.Logout(rec, httptest.NewRequest(http.MethodGet, "/logout", nil), id, "/logged-out"); err != nil {
				t.Fatal(err)
			}
			if !c.op.Revoked(at) || rec.Header().Get("Location") != "/logged-out" {
				t.Fatal("logout did not revoke the OP's token")
			}
		})
	}
}

func TestLoginRefusesHostileOPs(t *testing.T) {
	w := newWorld(t)
	other := w.cie
	cases := []struct {
		name  string
		op    *devfed.OP
		hooks devfed.Hooks
		acr   string
		level string
		cb    func(string) string
		want  error
	}{
		{name: "ID token from another OP", op: w.spid, want: providers.ErrCredentialRejected,
			hooks: devfed.Hooks{IDToken: func(c map[string]any) { c["iss"] = other.Entity.ID }}},
		{name: "ID token signed with another OP's key", op: w.spid, want: providers.ErrCredentialRejected,
			hooks: devfed.Hooks{SignWith: &other.Core}},
		{name: "ID token for another client", op: w.spid, want: providers.ErrCredentialRejected,
			hooks: devfed.Hooks{IDToken: func(c map[string]any) { c["aud"] = "https://other-rp.example.it" }}},
		{name: "ID token expired", op: w.spid, want: providers.ErrCredentialRejected,
			hooks: devfed.Hooks{IDToken: func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() }}},
		{name: "ID token nonce of another request", op: w.spid, want: providers.ErrCredentialRejected,
			hooks: devfed.Hooks{IDToken: func(c map[string]any) { c["nonce"] = strings.Repeat("a", 48) }}},
		{name: "ID token with alg none", op: w.spid, want: providers.ErrCredentialRejected,
			hooks: devfed.Hooks{IDTokenJWT: func(_ string, c map[string]any) string { return unsignedJWT(c) }}},
		{name: "ID token with alg HS256 keyed by the OP's public key", op: w.spid, want: providers.ErrCredentialRejected,
			hooks: devfed.Hooks{IDTokenJWT: func(_ string, c map[string]any) string { return hmacJWT(t, w.spid, c) }}},
		{name: "level below the one asked", op: w.spid, acr: loa.SpidL3, level: "2", want: providers.ErrLevelNotReached},
		{name: "userinfo JWE for another key", op: w.cie, want: providers.ErrCredentialRejected,
			hooks: devfed.Hooks{EncryptTo: &other.Core}},
		{name: "userinfo about another subject", op: w.cie, want: providers.ErrCredentialRejected,
			hooks: devfed.Hooks{Userinfo: func(c map[string]any) { c["sub"] = "someone-else" }}},
		{name: "userinfo with a fiscal number whose check letter is wrong", op: w.cie, want: providers.ErrCredentialRejected,
			hooks: devfed.Hooks{Userinfo: func(c map[string]any) { c[oidcfed.ClaimFiscalNumber] = "TINIT-RSSMRA80A01H501A" }}},
		{name: "CIE response without iss", op: w.cie, want: providers.ErrCredentialRejected,
			cb: func(cb string) string { return strings.Replace(cb, "&iss=", "&x=", 1) }},
		{name: "response iss of another OP (mix-up)", op: w.spid, want: providers.ErrCredentialRejected,
			cb: func(cb string) string { return cb + "&iss=" + url.QueryEscape(other.Entity.ID) }},
		{name: "unknown state", op: w.spid, want: providers.ErrLoginExpired,
			cb: func(cb string) string {
				return regexp.MustCompile(`state=[0-9a-f]+`).ReplaceAllString(cb, "state="+strings.Repeat("0", 48))
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.op.Hooks = c.hooks
			defer func() { c.op.Hooks = devfed.Hooks{} }()
			acr, level := c.acr, c.level
			if acr == "" {
				acr, level = loa.SpidL2, "2"
			}
			cb := w.loginTo(t, c.op, acr, "RSSMRA80A01H501U", level)
			if c.cb != nil {
				cb = c.cb(cb)
			}
			id, err := w.callback(t, cb)
			t.Log(err)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v (identity %v), want %v", err, id, c.want)
			}
			if ev := w.rec.Last("oidcfed.authn_response"); c.want != providers.ErrLoginExpired && (ev == nil || ev.Fields["outcome"] != "refused" || ev.Fields["error"] == "") {
				t.Fatalf("the refusal is not in the transaction log: %v", ev)
			}
		})
	}
	t.Run("state replay", func(t *testing.T) {
		cb := w.loginTo(t, w.spid, loa.SpidL2, "RSSMRA80A01H501U", "2")
		if _, err := w.callback(t, cb); err != nil {
			t.Fatal(err)
		}
		if _, err := w.callback(t, cb); !errors.Is(err, providers.ErrLoginExpired) {
			t.Fatalf("replayed authorization response: %v, want ErrLoginExpired", err)
		}
	})
	t.Run("person cancels", func(t *testing.T) {
		cb := w.loginTo(t, w.spid, loa.SpidL2, "RSSMRA80A01H501U", "2")
		cb = regexp.MustCompile(`code=[0-9a-f]+`).ReplaceAllString(cb, "error=access_denied")
		if _, err := w.callback(t, cb); !errors.Is(err, providers.ErrDenied) {
			t.Fatalf("access_denied: %v, want ErrDenied", err)
		}
	})
}

// An OP without a valid chain is not offered, and readiness says how many are.
func TestOPWithoutAChainIsNotOffered(t *testing.T) {
	w := newWorld(t)
	if r := w.p.Readiness(t.Context()); r.Status != providers.ReadyOK {
		t.Fatalf("readiness %+v", r)
	}
	// The intermediate stops stating the SPID OP: its chain breaks at the next resolution.
	w.fed.Intermediate.Add(w.spid.Entity.ID, devfed.Subordinate{JWKS: devfed.Public(w.cie.Core)})
	c := w.fed.RPConfig(t.TempDir())
	p, err := oidcfed.Open(providers.Host{ID: "oidcfed", Issuer: w.srv.URL, Store: memory.New(memory.Options{})}, c,
		oidcfed.Options{Client: w.srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Refresh(t.Context()); err != nil {
		t.Fatal(err) // the CIE OP still resolves
	}
	if got := p.Options(); len(got) != 1 || got[0].Hint != w.cie.Entity.ID {
		t.Fatalf("options %+v, want the CIE OP only", got)
	}
	// The console's view: the SPID OP not offered, with the refresh's error; the CIE OP
	// offered, with its chain's expiry.
	ops := p.OPs()
	if len(ops) != 2 || ops[0].EntityID != w.spid.Entity.ID || ops[1].EntityID != w.cie.Entity.ID {
		t.Fatalf("OPs %+v", ops)
	}
	if s := ops[0]; s.Offered || s.LastError == "" || s.LastAttempt.IsZero() || !s.LastResolved.IsZero() {
		t.Fatalf("the SPID OP without a chain: %+v", s)
	}
	if c := ops[1]; !c.Offered || c.LastError != "" || c.LastResolved.IsZero() || !c.ChainExpires.After(c.LastResolved) {
		t.Fatalf("the CIE OP: %+v", c)
	}
	// Without a hint (idp=<provider id>) the one OP offered is the one used.
	rec0 := httptest.NewRecorder()
	if err := p.Start(rec0, httptest.NewRequest(http.MethodGet, "/login/x/oidcfed", nil), &providers.LoginRequest{ID: "l", ACR: loa.SpidL2}); err != nil ||
		!strings.HasPrefix(rec0.Header().Get("Location"), w.cie.Entity.ID+"/authorize?") {
		t.Fatalf("Start without a hint: %v, Location %q", err, rec0.Header().Get("Location"))
	}
	if r := p.Readiness(t.Context()); r.Status != providers.ReadyWarn || r.Detail != "1 of 2 OpenID Providers with a valid trust chain" {
		t.Fatalf("readiness %+v", r)
	}
	rec := httptest.NewRecorder()
	err = p.Start(rec, httptest.NewRequest(http.MethodGet, "/login/x/oidcfed", nil), &providers.LoginRequest{ID: "l", ACR: loa.SpidL2, Hint: w.spid.Entity.ID})
	var ue *providers.UserError
	if !errors.As(err, &ue) || ue.Code != "oidcfed.no_op" || !errors.Is(err, oidcfed.ErrSignature) || rec.Header().Get("Location") != "" {
		t.Fatalf("Start at an OP without a chain: %v, Location %q", err, rec.Header().Get("Location"))
	}
}

// The transaction log: the trust chain and the request object, then the response with the
// verified ID token and userinfo claims, and the revocation; codes and tokens never whole.
func TestLoginTransactionLog(t *testing.T) {
	w := newWorld(t)
	cb := w.loginTo(t, w.cie, loa.SpidL2, "RSSMRA80A01H501U", "2")
	id, err := w.callback(t, cb)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.p.Logout(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/logout", nil), id, "/"); err != nil {
		t.Fatal(err)
	}
	req, resp, rev := w.rec.Last("oidcfed.authn_request"), w.rec.Last("oidcfed.authn_response"), w.rec.Last("oidcfed.revocation")
	if req == nil || resp == nil || rev == nil {
		t.Fatalf("events %v", w.rec.Events())
	}
	if chain, _ := req.Fields["trust_chain"].([]string); len(chain) != 3 || req.Fields["request"] == "" || req.Fields["op"] != w.cie.Entity.ID {
		t.Fatalf("request record %v", req.Fields)
	}
	idt, _ := resp.Fields["id_token"].(map[string]any)
	ui, _ := resp.Fields["userinfo"].(map[string]any)
	if resp.Fields["outcome"] != "success" || resp.Actor != "RSSMRA80A01H501U" || idt["acr"] != loa.SpidL2 ||
		ui[oidcfed.ClaimFiscalNumber] != "TINIT-RSSMRA80A01H501U" || rev.Fields["status"] != http.StatusOK {
		t.Fatalf("response %v, revocation %v", resp.Fields, rev.Fields)
	}
	u, _ := url.Parse(cb)
	all, _ := json.Marshal(w.rec.Events())
	for name, secret := range map[string]string{"code": u.Query().Get("code"), "access token": id.Session["access_token"]} {
		if secret == "" || strings.Contains(string(all), secret) {
			t.Fatalf("the %s is in the audit trail (or empty)", name)
		}
	}
}

// unsignedJWT is claims as a JWS with alg none (go-jose makes none).
func unsignedJWT(c map[string]any) string {
	h, _ := json.Marshal(map[string]any{"alg": "none", "typ": "JWT"})
	p, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p) + "."
}

// hmacJWT signs claims with HS256 keyed by the OP's public key bytes (the key-confusion
// attack), under the OP's kid.
func hmacJWT(t *testing.T, op *devfed.OP, c map[string]any) string {
	pub, err := json.Marshal(op.Core.Public())
	if err != nil {
		t.Fatal(err)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: pub}, (&jose.SignerOptions{}).WithHeader("kid", op.Core.KeyID))
	if err != nil {
		t.Fatal(err)
	}
	jwt, err := oidcfed.SignJWT(s, c)
	if err != nil {
		t.Fatal(err)
	}
	return jwt
}
