package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/inps/sportello/broker/console"
	"github.com/inps/sportello/internal/audit"
	"github.com/inps/sportello/internal/heartbeat"
	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/internal/store/memory"
	"github.com/inps/sportello/internal/store/storetest"
	"github.com/inps/sportello/internal/switches"
)

const (
	idpID   = "https://demo.spid.example.it/metadata"
	mario   = "RSSMRA80A01H501U"
	fpOfIdP = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
)

var now = time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)

type sources struct{ fail error }

func (s sources) Providers(context.Context) ([]console.Provider, error) {
	if s.fail != nil {
		return nil, s.fail
	}
	refreshed, tried := now.Add(-time.Hour), now.Add(-time.Minute)
	return []console.Provider{
		{Kind: switches.KindProvider, ID: "spid", Name: "SPID", Type: "spid",
			Metadata: &console.Metadata{Source: "3 metadata sources (1 never loaded, 1 stale)", Stale: true,
				Sources: ptr(3), Unloaded: ptr(1), StaleSources: ptr(1)}},
		{Kind: switches.KindIdP, ID: idpID, Name: "Demo IdP", Type: "spid", Parent: "spid",
			Metadata: &console.Metadata{Source: "https://registry.spid.gov.it/entities-idp", SourceType: "url", LastRefresh: &refreshed,
				LastAttempt: &tried, Stale: true},
			LastError:      "idp metadata https://registry.spid.gov.it/entities-idp: HTTP 503",
			LoginsLastHour: map[string]int64{"ok": 5, "failed": 2},
			Certificates: []console.Certificate{
				{Subject: "CN=demo", NotBefore: now.AddDate(-1, 0, 0), NotAfter: now.AddDate(1, 0, 0), SHA256: fpOfIdP},
				{Subject: "CN=old", NotBefore: now.AddDate(-3, 0, 0), NotAfter: now.AddDate(0, 0, -1), SHA256: fpOfIdP},
			}},
		{Kind: switches.KindProvider, ID: "pin", Name: "PIN INPS", Type: "pin", LastError: "none yet"},
		{Kind: switches.KindIdP, ID: fpOfIdP, Name: "CIE Sub CA", Type: "cie", Parent: "cie", LastError: "ocsp: HTTP 503",
			Certificates: []console.Certificate{{Subject: "CN=CIE Sub CA", NotBefore: now.AddDate(-1, 0, 0), NotAfter: now.AddDate(5, 0, 0), SHA256: fpOfIdP}},
			Revocation: &console.Revocation{
				CRLs: []console.CRLState{{Source: "http://crl.example/sub.crl", LastFetch: &tried, LastSuccess: &tried, NextUpdate: &refreshed, Stale: true}},
				OCSP: []console.OCSPState{{Responder: "http://ocsp.example/", LastSuccess: &refreshed, LastFailure: &tried, LastError: "HTTP 503"}},
			}},
	}, nil
}

func (s sources) Clients(context.Context) ([]console.Client, error) {
	if s.fail != nil {
		return nil, s.fail
	}
	return []console.Client{
		{ID: "demo-rp", Grants: []string{"authorization_code", "refresh_token"}, Scopes: []string{"openid"}, RedirectURIs: []string{"http://127.0.0.1:9000/callback"}, MinLevel: "https://www.spid.gov.it/SpidL2"},
		{ID: "demo-service", Grants: []string{"client_credentials"}, Exchange: []string{"inps-pensioni"}},
	}, nil
}

func (s sources) Keys(context.Context) ([]console.Key, error) {
	created := now.Add(-48 * time.Hour)
	return []console.Key{{KID: "k1", Alg: "ES256", Use: "sig", State: "active", Created: &created}, {KID: "k2", Alg: "ES256", State: "next"}}, nil
}

type auditLog struct{}

func (auditLog) Search(_ context.Context, q console.AuditQuery) ([]console.AuditRecord, error) {
	if q.Person != "" && q.Person != mario {
		return nil, nil
	}
	return []console.AuditRecord{{Seq: 7, Time: now, Type: "login.success", Actor: mario, Fields: map[string]any{"client": "demo-rp"}}}, nil
}

func (auditLog) Verify(context.Context) (console.AuditChain, error) {
	return console.AuditChain{Verified: true, Records: 7, LastSeq: 7, SignaturesChecked: true}, nil
}

type harness struct {
	t        *testing.T
	api      *console.API
	cut      *storetest.CutStore
	reader   *switches.Reader
	rec      *audit.Recorder
	mu       sync.Mutex
	unlocked []string
	router   routers.Router
	covered  map[string]bool
}

func newHarness(t *testing.T, mod ...func(*console.Config)) *harness {
	t.Helper()
	m := memory.New(memory.Options{Now: func() time.Time { return now }, JanitorInterval: -1})
	t.Cleanup(func() { _ = m.Close() })
	h := &harness{t: t, cut: storetest.NewCutStore(m), rec: &audit.Recorder{}, covered: map[string]bool{}}
	h.reader = switches.NewReader(h.cut, switches.ReaderOptions{Now: func() time.Time { return now }})
	b := &heartbeat.Beater{Store: m, Self: heartbeat.Replica{ID: "replica-1", Hostname: "h1", Version: "dev", Started: now}, Now: func() time.Time { return now }}
	if err := b.Beat(t.Context()); err != nil {
		t.Fatal(err)
	}
	cfg := console.Config{
		Authorize: func(r *http.Request) (string, []string, bool) {
			switch r.Header.Get("Authorization") {
			case "Bearer admin":
				return "op-admin", []string{"openid", console.ScopeAdmin}, true
			case "Bearer reader":
				return "op-reader", []string{console.ScopeRead}, true
			case "Bearer other":
				return "demo-service", []string{"pin:office"}, true
			}
			return "", nil, false
		},
		Sources:  sources{},
		Switches: &switches.Switches{Store: h.cut, Now: func() time.Time { return now }},
		Reader:   h.reader,
		Replicas: func(ctx context.Context) ([]heartbeat.Replica, error) { return heartbeat.List(ctx, h.cut) },
		AuditLog: auditLog{},
		Audit:    h.rec,
		Actions: console.Actions{
			RefreshMetadata: func(_ context.Context, p string) error {
				if p != "spid" && p != idpID {
					return console.ErrNotFound
				}
				return nil
			},
			RotateKeys: func(ctx context.Context) error {
				_, err := h.cut.Get(ctx, "keys:probe")
				if errors.Is(err, store.ErrNotFound) {
					return nil
				}
				return err
			},
			UnlockPIN: func(ctx context.Context, op, cf string) error {
				if _, err := h.cut.Get(ctx, "pin:probe"); err != nil && !errors.Is(err, store.ErrNotFound) {
					return err
				}
				h.mu.Lock()
				defer h.mu.Unlock()
				h.unlocked = append(h.unlocked, op+" "+cf)
				return nil
			},
			RevokePerson: func(context.Context, string) (int, error) { return 3, nil },
		},
		Now: func() time.Time { return now },
	}
	for _, f := range mod {
		f(&cfg)
	}
	api, err := console.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.api = api
	h.router = loadRouter(t)
	return h
}

var (
	routerOnce sync.Once
	router     routers.Router
	routerErr  error
)

// loadRouter loads and validates the OpenAPI document once per test binary.
func loadRouter(t *testing.T) routers.Router {
	t.Helper()
	routerOnce.Do(func() {
		doc, err := openapi3.NewLoader().LoadFromData(console.OpenAPI())
		if err != nil {
			routerErr = err
			return
		}
		if routerErr = doc.Validate(context.Background()); routerErr != nil {
			return
		}
		router, routerErr = legacy.NewRouter(doc)
	})
	if routerErr != nil {
		t.Fatalf("the OpenAPI document is not valid OpenAPI 3: %v", routerErr)
	}
	return router
}

// do calls the API and validates the response against the OpenAPI document: a status or a
// body the document does not describe fails the test.
func (h *harness) do(method, path, token, body string) (int, map[string]any, http.Header) {
	h.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequestWithContext(h.t.Context(), method, path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rw := httptest.NewRecorder()
	h.api.ServeHTTP(rw, req)
	res := rw.Result()
	raw, _ := io.ReadAll(res.Body)
	h.validate(req, res, raw)
	var out map[string]any
	if len(raw) > 0 && res.Header.Get("Content-Type") == "application/json" {
		if err := json.Unmarshal(raw, &out); err != nil {
			h.t.Fatalf("%s %s: not JSON: %s", method, path, raw)
		}
	}
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" && !strings.HasSuffix(path, "openapi.json") {
		h.t.Errorf("%s %s: Cache-Control %q", method, path, cc)
	}
	return res.StatusCode, out, res.Header
}

func (h *harness) validate(req *http.Request, res *http.Response, body []byte) {
	h.t.Helper()
	// The router matches the escaped path, so an entityID's %2F stays inside its segment.
	find := req.Clone(h.t.Context())
	find.URL = &url.URL{Path: req.URL.EscapedPath()}
	route, params, err := h.router.FindRoute(find)
	if err != nil {
		if res.StatusCode != http.StatusNotFound && res.StatusCode != http.StatusMethodNotAllowed {
			h.t.Errorf("%s %s: not in the OpenAPI document: %v", req.Method, req.URL.Path, err)
		}
		return
	}
	h.covered[route.Method+" "+route.Path] = true
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	err = openapi3filter.ValidateResponse(h.t.Context(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: res.StatusCode, Header: res.Header,
		Body: io.NopCloser(bytes.NewReader(body)), Options: &openapi3filter.Options{IncludeResponseStatus: true},
	})
	if err != nil {
		h.t.Errorf("%s %s → %d does not match the OpenAPI document: %v\n%s", req.Method, req.URL.Path, res.StatusCode, err, body)
	}
}

func switchPath(kind, id string) string {
	return "/console/api/switches/" + kind + "/" + url.PathEscape(id)
}

func TestEveryEndpointAnswersWhatTheOpenAPIDocumentSays(t *testing.T) {
	h := newHarness(t)
	gets := []string{"/console/api/openapi.json", "/console/api/providers", "/console/api/clients", "/console/api/keys",
		"/console/api/replicas", "/console/api/switches", "/console/api/audit?person=" + mario + "&client=demo-rp&type=login.success&since=2026-12-01T00:00:00Z&until=2026-12-04T00:00:00Z&limit=10"}
	for _, p := range gets {
		for _, tok := range []string{"reader", "admin"} {
			if st, body, _ := h.do("GET", p, tok, ""); st != 200 {
				t.Errorf("GET %s as %s: %d %v", p, tok, st, body)
			}
		}
	}
	posts := map[string]string{
		"refresh-metadata": `{"provider":"spid"}`,
		"rotate-keys":      `{}`,
		"unlock-pin":       `{"fiscal_code":"rssmra80a01h501u"}`,
		"revoke-person":    `{"fiscal_code":"` + mario + `"}`,
	}
	for a, body := range posts {
		if st, out, _ := h.do("POST", "/console/api/actions/"+a, "admin", body); st != 200 || out["status"] != "ok" {
			t.Errorf("POST %s: %d %v", a, st, out)
		}
	}
	if st, out, _ := h.do("PUT", switchPath("idp", idpID), "admin", `{"enabled":false,"reason":"compromised"}`); st != 200 || out["id"] != idpID {
		t.Fatalf("PUT switch: %d %v", st, out)
	}
	// Every path and method of the document was exercised.
	doc, _ := openapi3.NewLoader().LoadFromData(console.OpenAPI())
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if !h.covered[method+" "+path] {
				t.Errorf("%s %s is documented but not tested", method, path)
			}
		}
	}
}

// The PIN service's own pin.unlocked record must name the operator who lifted the lockout:
// the action gets the operator of the token, not a generic actor.
func TestUnlockPINActsInTheOperatorsName(t *testing.T) {
	h := newHarness(t)
	if st, out, _ := h.do("POST", "/console/api/actions/unlock-pin", "admin", `{"fiscal_code":"`+mario+`"}`); st != 200 {
		t.Fatalf("unlock: %d %v", st, out)
	}
	if len(h.unlocked) != 1 || h.unlocked[0] != "op-admin "+mario {
		t.Fatalf("the action ran as %q, want the operator op-admin", h.unlocked)
	}
	if ev := h.rec.Last("console.unlock_pin"); ev == nil || ev.Actor != "op-admin" {
		t.Fatalf("console record: %+v", ev)
	}
}

func TestASwitchOffIsShownAppliedAtOnceAndAudited(t *testing.T) {
	h := newHarness(t)
	until := now.Add(2 * time.Hour).Format(time.RFC3339)
	st, out, _ := h.do("PUT", switchPath("idp", idpID), "admin", `{"enabled":false,"reason":"signing key leaked","expires_at":"`+until+`"}`)
	if st != 200 || out["actor"] != "op-admin" || out["reason"] != "signing key leaked" || out["expires_at"] != until {
		t.Fatalf("PUT: %d %v", st, out)
	}
	if off, _ := h.reader.Disabled(switches.KindIdP, idpID); !off {
		t.Fatal("this replica did not apply the switch at once")
	}
	_, provs, _ := h.do("GET", "/console/api/providers", "reader", "")
	var found bool
	for _, p := range provs["providers"].([]any) {
		p := p.(map[string]any)
		if p["id"] == idpID {
			found = true
			if p["enabled"] != false || p["switch"].(map[string]any)["actor"] != "op-admin" {
				t.Fatalf("provider state: %v", p)
			}
			if c := p["logins_last_hour"].(map[string]any); c["ok"] != 5.0 || c["failed"] != 2.0 || c["started"] != 0.0 || c["cancelled"] != 0.0 || c["unavailable"] != 0.0 {
				t.Fatalf("logins of the last hour, every outcome present: %v", c)
			}
			certs := p["certificates"].([]any)
			if certs[0].(map[string]any)["expired"] != false || certs[1].(map[string]any)["expired"] != true {
				t.Fatalf("certificates: %v", certs)
			}
		} else if p["enabled"] != true {
			t.Fatalf("%v switched off too", p["id"])
		}
	}
	if !found {
		t.Fatal("the IdP is not listed")
	}
	_, sw, _ := h.do("GET", "/console/api/switches", "reader", "")
	if list := sw["switches"].([]any); len(list) != 1 {
		t.Fatalf("switches: %v", sw)
	}
	ev := h.rec.Last("console.switch")
	if ev == nil || ev.Actor != "op-admin" || ev.Fields["id"] != idpID || ev.Fields["enabled"] != false || ev.Fields["reason"] != "signing key leaked" {
		t.Fatalf("audit record: %+v", ev)
	}
	if st, out, _ := h.do("PUT", switchPath("idp", idpID), "admin", `{"enabled":true}`); st != 200 || out["enabled"] != true {
		t.Fatalf("switch-on: %d %v", st, out)
	}
	if off, _ := h.reader.Disabled(switches.KindIdP, idpID); off {
		t.Fatal("still off after the switch-on")
	}
	if n := len(h.rec.ByType("console.switch")); n != 2 {
		t.Fatalf("%d switch records, want 2", n)
	}
	_, cl, _ := h.do("PUT", switchPath("client", "demo-rp"), "admin", `{"enabled":false,"reason":"leaking tokens"}`)
	if cl["kind"] != "client" {
		t.Fatalf("client switch: %v", cl)
	}
	_, clients, _ := h.do("GET", "/console/api/clients", "reader", "")
	if c := clients["clients"].([]any)[0].(map[string]any); c["id"] != "demo-rp" || c["enabled"] != false {
		t.Fatalf("client state: %v", c)
	}
}

func TestOperatorsNeedTheRightScope(t *testing.T) {
	h := newHarness(t)
	changes := []struct{ method, path, body string }{
		{"PUT", switchPath("provider", "spid"), `{"enabled":false,"reason":"x"}`},
		{"POST", "/console/api/actions/refresh-metadata", `{"provider":"spid"}`},
		{"POST", "/console/api/actions/rotate-keys", `{}`},
		{"POST", "/console/api/actions/unlock-pin", `{"fiscal_code":"` + mario + `"}`},
		{"POST", "/console/api/actions/revoke-person", `{"fiscal_code":"` + mario + `"}`},
	}
	for _, c := range changes {
		for _, tc := range []struct {
			token string
			want  int
			code  string
		}{{"", 401, "invalid_token"}, {"forged", 401, "invalid_token"}, {"other", 403, "insufficient_scope"}, {"reader", 403, "insufficient_scope"}} {
			st, out, hdr := h.do(c.method, c.path, tc.token, c.body)
			if st != tc.want || out["error"] != tc.code || !strings.Contains(hdr.Get("WWW-Authenticate"), console.ScopeAdmin) {
				t.Errorf("%s %s as %q: %d %v %q", c.method, c.path, tc.token, st, out, hdr.Get("WWW-Authenticate"))
			}
		}
	}
	for _, p := range []string{"/console/api/providers", "/console/api/clients", "/console/api/keys", "/console/api/replicas", "/console/api/audit", "/console/api/switches"} {
		if st, _, _ := h.do("GET", p, "", ""); st != 401 {
			t.Errorf("GET %s without a token: %d", p, st)
		}
		if st, out, _ := h.do("GET", p, "other", ""); st != 403 || out["error"] != "insufficient_scope" {
			t.Errorf("GET %s with another scope: %d %v", p, st, out)
		}
	}
	if ev := h.rec.Events(); len(ev) != 0 {
		t.Fatalf("a refused request left audit records: %+v", ev)
	}
	if list, _ := (&switches.Switches{Store: h.cut}).List(t.Context()); len(list) != 0 {
		t.Fatalf("a refused switch was applied: %+v", list)
	}
	if len(h.unlocked) != 0 {
		t.Fatal("a read-only operator unlocked a PIN")
	}
}

func TestTheStoreDownIsA503AndNothingIsApplied(t *testing.T) {
	h := newHarness(t)
	h.cut.Before(func(string, string) bool { return true })
	for _, c := range []struct{ method, path, body string }{
		{"PUT", switchPath("idp", idpID), `{"enabled":false,"reason":"x"}`},
		{"GET", "/console/api/switches", ""},
		{"GET", "/console/api/replicas", ""},
		{"POST", "/console/api/actions/rotate-keys", `{}`},
		{"POST", "/console/api/actions/unlock-pin", `{"fiscal_code":"` + mario + `"}`},
	} {
		st, out, hdr := h.do(c.method, c.path, "admin", c.body)
		if st != 503 || out["error"] != "temporarily_unavailable" || hdr.Get("Retry-After") == "" {
			t.Errorf("%s %s with the Store down: %d %v", c.method, c.path, st, out)
		}
		if d, _ := out["error_description"].(string); strings.Contains(d, "cut") {
			t.Errorf("the infrastructure's error leaks: %v", out)
		}
	}
	h.cut.Before(nil)
	if list, _ := (&switches.Switches{Store: h.cut}).List(t.Context()); len(list) != 0 {
		t.Fatalf("half applied: %+v", list)
	}
	if len(h.rec.Events()) != 0 || len(h.unlocked) != 0 {
		t.Fatal("a refused change was applied or audited")
	}
	// Sources failing are a 503 too.
	h2 := newHarness(t, func(c *console.Config) { c.Sources = sources{fail: storetest.ErrCut} })
	if st, _, _ := h2.do("GET", "/console/api/providers", "reader", ""); st != 503 {
		t.Fatalf("providers with the Store down: %d", st)
	}
}

func TestBadRequestsAreRefused(t *testing.T) {
	h := newHarness(t)
	cases := []struct{ name, method, path, body string }{
		{"unknown kind", "PUT", switchPath("person", "x"), `{"enabled":false,"reason":"x"}`},
		{"no reason", "PUT", switchPath("idp", idpID), `{"enabled":false}`},
		{"enabled missing", "PUT", switchPath("idp", idpID), `{"reason":"x"}`},
		{"unknown field", "PUT", switchPath("idp", idpID), `{"enabled":false,"reason":"x","force":true}`},
		{"two objects", "PUT", switchPath("idp", idpID), `{"enabled":false,"reason":"x"}{}`},
		{"not JSON", "PUT", switchPath("idp", idpID), `enabled=false`},
		{"id with a control character", "PUT", switchPath("idp", "a\x01b"), `{"enabled":false,"reason":"x"}`},
		{"reason too long", "PUT", switchPath("idp", idpID), `{"enabled":false,"reason":"` + strings.Repeat("r", 501) + `"}`},
		{"expiry in the past", "PUT", switchPath("idp", idpID), `{"enabled":false,"reason":"x","expires_at":"2020-01-01T00:00:00Z"}`},
		{"body too large", "PUT", switchPath("idp", idpID), `{"enabled":false,"reason":"` + strings.Repeat("r", 20000) + `"}`},
		{"bad fiscal code", "POST", "/console/api/actions/unlock-pin", `{"fiscal_code":"RSSMRA80A01H501X"}`},
		{"no fiscal code", "POST", "/console/api/actions/revoke-person", `{}`},
		{"no provider", "POST", "/console/api/actions/refresh-metadata", `{}`},
		{"audit: bad person", "GET", "/console/api/audit?person=nobody", ""},
		{"audit: bad time", "GET", "/console/api/audit?since=yesterday", ""},
		{"audit: until before since", "GET", "/console/api/audit?since=2026-12-03T00:00:00Z&until=2026-12-01T00:00:00Z", ""},
		{"audit: unknown parameter", "GET", "/console/api/audit?fiscal_code=" + mario, ""},
		{"audit: repeated parameter", "GET", "/console/api/audit?type=a&type=b", ""},
		{"audit: limit too high", "GET", "/console/api/audit?limit=100000", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, out, _ := h.do(tc.method, tc.path, "admin", tc.body)
			if st != 400 || out["error"] != "invalid_request" {
				t.Fatalf("%d %v", st, out)
			}
		})
	}
	if st, out, _ := h.do("POST", "/console/api/actions/refresh-metadata", "admin", `{"provider":"nope"}`); st != 404 {
		t.Fatalf("unknown provider: %d %v", st, out)
	}
	if len(h.rec.Events()) != 0 {
		t.Fatalf("refused requests were audited: %+v", h.rec.Events())
	}
	if st, _, _ := h.do("GET", "/console/api/nothing", "admin", ""); st != 404 {
		t.Fatalf("unknown endpoint: %d", st)
	}
}

func TestAnActionTheBrokerLacksIsA501(t *testing.T) {
	h := newHarness(t, func(c *console.Config) { c.Actions = console.Actions{}; c.AuditLog = nil })
	if st, _, _ := h.do("POST", "/console/api/actions/rotate-keys", "admin", `{}`); st != 501 {
		t.Fatalf("rotate-keys: %d", st)
	}
	if st, _, _ := h.do("GET", "/console/api/audit", "reader", ""); st != 501 {
		t.Fatalf("audit: %d", st)
	}
}

func TestAnIdPSwitchNeedsItsEntityIDEncoded(t *testing.T) {
	h := newHarness(t)
	// Unencoded, the entityID's slashes make it a longer path: no such endpoint, nothing set.
	req := httptest.NewRequestWithContext(t.Context(), "PUT", "/console/api/switches/idp/https://demo.spid.example.it/metadata", strings.NewReader(`{"enabled":false,"reason":"x"}`))
	req.Header.Set("Authorization", "Bearer admin")
	rw := httptest.NewRecorder()
	h.api.ServeHTTP(rw, req)
	if rw.Code == 200 || len(h.rec.Events()) != 0 {
		t.Fatalf("an unencoded entityID was accepted: %d", rw.Code)
	}
	st, out, _ := h.do("PUT", "/console/api/switches/idp/"+url.QueryEscape(idpID), "admin", `{"enabled":false,"reason":"x"}`)
	if st != 200 || out["id"] != idpID {
		t.Fatalf("%d %v", st, out)
	}
}

func ptr[T any](v T) *T { return &v }
