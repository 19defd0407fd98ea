package pinweb

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inps/sportello/internal/audit"
	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/internal/notify"
	"github.com/inps/sportello/internal/store/memory"
	"github.com/inps/sportello/internal/store/storetest"
	"github.com/inps/sportello/pin"
	"github.com/inps/sportello/providers"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) // 10:00 in Rome

// finisher stands in for the broker: it records the finished logins.
type finisher struct {
	mu       sync.Mutex
	finished map[string]*providers.Identity
}

func (f *finisher) Finish(w http.ResponseWriter, r *http.Request, loginID string, id *providers.Identity) {
	f.mu.Lock()
	f.finished[loginID] = id
	f.mu.Unlock()
	io.WriteString(w, "FINISHED "+loginID)
}

func (f *finisher) Fail(w http.ResponseWriter, r *http.Request, loginID string, err error) {
	http.Error(w, "FAILED", http.StatusBadRequest)
}

func (f *finisher) LoginRequest(_ context.Context, loginID string) (*providers.LoginRequest, error) {
	if strings.HasPrefix(loginID, "L") {
		return &providers.LoginRequest{ID: loginID, ACR: loa.SpidL1}, nil
	}
	return nil, providers.ErrLoginExpired
}

type csrf struct{}

func (csrf) Token(*http.Request) string { return "tok" }
func (csrf) Check(r *http.Request) bool { return r.FormValue("csrf") == "tok" }

type fixture struct {
	srv     *httptest.Server
	svc     *pin.Service
	clock   *storetest.Clock
	cut     *storetest.CutStore
	outbox  *notify.Outbox
	fin     *finisher
	session *providers.Identity
	events  *audit.Recorder
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	clock := storetest.NewClock(t0)
	st := storetest.NewCutStore(memory.New(memory.Options{Now: clock.Now}))
	events := &audit.Recorder{}
	outbox := notify.NewOutbox(0, clock.Now)
	svc, err := pin.New(pin.Options{Store: st, Now: clock.Now, Notifier: outbox, Auditor: events,
		Config: pin.Config{PublicURL: "http://broker.test", Argon2: pin.Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1, KeyLen: 32}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := pin.SeedDev(context.Background(), svc); err != nil {
		t.Fatal(err)
	}
	fx := &fixture{svc: svc, clock: clock, cut: st, outbox: outbox, events: events, fin: &finisher{finished: map[string]*providers.Identity{}}}
	web, err := New(svc, Deps{CSRF: csrf{},
		ChooserURL: func(id string) string { return "/login/" + id },
		LoginURL:   func(next string) string { return "/accedi?next=" + next },
		Lang:       func(r *http.Request) string { return r.Header.Get("Accept-Language") },
		Session:    func(*http.Request) (*providers.Identity, error) { return fx.session, nil },
		Authorize: func(r *http.Request, scope string) (string, bool) {
			tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
			if tok == scope {
				return "op-" + scope, true
			}
			return "", false
		}})
	if err != nil {
		t.Fatal(err)
	}
	fx.srv = httptest.NewServer(web.Handler(fx.fin))
	t.Cleanup(fx.srv.Close)
	return fx
}

func (fx *fixture) post(t *testing.T, path string, form url.Values, lang string) (int, string) {
	t.Helper()
	if form.Get("csrf") == "" {
		form.Set("csrf", "tok")
	}
	req, _ := http.NewRequest("POST", fx.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept-Language", lang)
	return do(t, req)
}

func (fx *fixture) get(t *testing.T, path, lang string) (int, string) {
	req, _ := http.NewRequest("GET", fx.srv.URL+path, nil)
	req.Header.Set("Accept-Language", lang)
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	resp, err := (&http.Client{Jar: jar}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestLoginFormCarriesTheContractFields(t *testing.T) {
	fx := newFixture(t)
	code, body := fx.get(t, "/pin/login?login=L1", "it")
	for _, want := range []string{`name="fiscal_code"`, `name="pin"`, `name="login" value="L1"`, `name="csrf" value="tok"`, "Accedi"} {
		if code != 200 || !strings.Contains(body, want) {
			t.Fatalf("login form lacks %s: %d %s", want, code, body)
		}
	}
	if strings.Contains(body, "<script") {
		t.Fatal("pages must work without JavaScript")
	}
	if code, body := fx.get(t, "/pin/login?login=expired", "en"); code != 400 || !strings.Contains(body, "sign-in request has expired") {
		t.Fatalf("expired login: %d %s", code, body)
	}
}

func TestLoginFinishesWithTheIdentity(t *testing.T) {
	fx := newFixture(t)
	_, body := fx.post(t, "/pin/login", url.Values{"login": {"L1"}, "fiscal_code": {pin.DevGiovannaFerrari}, "pin": {"a1b2c3d4"}}, "it")
	id := fx.fin.finished["L1"]
	if body != "FINISHED L1" || id == nil || id.PINType != "dispositivo" || id.ACR != loa.SpidL2 || id.Method != "pin" {
		t.Fatalf("%s %+v", body, id)
	}
	fx.post(t, "/pin/login", url.Values{"login": {"L2"}, "fiscal_code": {pin.DevMarcoColombo}, "pin": {"Z9Y8X7W6"}}, "it")
	if id := fx.fin.finished["L2"]; id == nil || len(id.Entitlements) != 1 || id.Entitlements[0] != "isee:consultazione" {
		t.Fatalf("Marco Colombo: %+v", id)
	}
}

func TestWrongPINPageSaysUntilWhen(t *testing.T) {
	fx := newFixture(t)
	tests := []struct{ name, lang, want string }{
		{"wrong PIN explained in Italian with the time in Rome", "it", "riprova tra 3 minuti (alle 10:03 ora italiana, CET, UTC+1)"},
		{"locked account explained in English", "en", "Try again in 3 minutes (at 10:03 Italian time, CET, UTC+1)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, body := fx.post(t, "/pin/login", url.Values{"login": {"L1"}, "fiscal_code": {pin.DevGiovannaFerrari}, "pin": {"WRONG123"}}, tt.lang)
			if !strings.Contains(html.UnescapeString(body), tt.want) || !strings.Contains(body, `name="pin"`) {
				t.Fatalf("%s", body)
			}
			// The help desk's reference code goes with every error shown on a PIN page.
			if !regexp.MustCompile(`id="form-error">.*class="sp-ref">[0-9a-f]{16}</span>`).MatchString(body) {
				t.Fatalf("no reference code with the error:\n%s", body)
			}
		})
	}
	if fx.fin.finished["L1"] != nil {
		t.Fatal("a wrong PIN finished the login")
	}
}

func TestFirstAccessThroughThePages(t *testing.T) {
	fx := newFixture(t)
	_, body := fx.post(t, "/pin/login", url.Values{"login": {"L9"}, "fiscal_code": {pin.DevLuciaEsposito}, "pin": {"1A2B3C4D5E6F7089"}}, "en")
	if !strings.Contains(body, "First access") || !strings.Contains(body, `action="/pin/first-access"`) {
		t.Fatalf("%s", body)
	}
	form := url.Values{"login": {"L9"}, "fiscal_code": {pin.DevLuciaEsposito}, "current_pin": {"1A2B3C4D5E6F7089"}, "new_pin": {"Lucia123"}, "new_pin2": {"Lucia123"}}
	if _, body := fx.post(t, "/pin/first-access", form, "en"); !strings.Contains(body, "given or family name") {
		t.Fatalf("the name rule is explained: %s", body)
	}
	form.Set("new_pin2", "other")
	if _, body := fx.post(t, "/pin/first-access", form, "en"); !strings.Contains(body, "two new PINs differ") {
		t.Fatalf("%s", body)
	}
	form.Set("new_pin", "Q7W8E9R0")
	form.Set("new_pin2", "q7w8e9r0")
	if _, body := fx.post(t, "/pin/first-access", form, "en"); body != "FINISHED L9" {
		t.Fatalf("%s", body)
	}
}

func TestExpiredPINLeadsToRenewal(t *testing.T) {
	fx := newFixture(t)
	_, body := fx.post(t, "/pin/login", url.Values{"login": {"L3"}, "fiscal_code": {pin.DevPaoloGreco}, "pin": {"E5X9P2R7"}}, "it")
	if !strings.Contains(body, "PIN scaduto") || !strings.Contains(body, `action="/pin/renew"`) {
		t.Fatalf("%s", body)
	}
	form := url.Values{"login": {"L3"}, "fiscal_code": {pin.DevPaoloGreco}, "current_pin": {"E5X9P2R7"}, "new_pin": {"H4J5K6L7"}, "new_pin2": {"H4J5K6L7"}}
	if _, body := fx.post(t, "/pin/renew", form, "it"); body != "FINISHED L3" {
		t.Fatalf("%s", body)
	}
}

func TestFormsWithoutCSRFAreRefused(t *testing.T) {
	fx := newFixture(t)
	code, _ := fx.post(t, "/pin/login", url.Values{"csrf": {"forged"}, "login": {"L1"}, "fiscal_code": {pin.DevGiovannaFerrari}, "pin": {"A1B2C3D4"}}, "it")
	if code != http.StatusForbidden || fx.fin.finished["L1"] != nil {
		t.Fatalf("status %d", code)
	}
}

func TestPhonePINPage(t *testing.T) {
	fx := newFixture(t)
	if code, body := fx.get(t, "/pin/phone", "en"); code != 401 || !strings.Contains(body, "sign in with SPID, CIE or CNS") {
		t.Fatalf("without a session: %d %s", code, body)
	}
	fx.session = &providers.Identity{FiscalNumber: pin.DevMarioRossi, Method: providers.MethodSPID, ACR: loa.SpidL2, AuthTime: t0}
	_, body := fx.post(t, "/pin/phone", url.Values{"validity": {"1w"}}, "en")
	m := regexp.MustCompile(`phone PIN is (\d{8}), valid until 09/03/2026 10:00`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("%s", body)
	}
	_, body = fx.post(t, "/pin/login", url.Values{"login": {"L1"}, "fiscal_code": {pin.DevMarioRossi}, "pin": {m[1]}}, "en")
	if fx.fin.finished["L1"] != nil || !strings.Contains(body, "Wrong fiscal code or PIN") {
		t.Fatalf("the PIN telefonico must not log in: %s", body)
	}
}

func TestConversionUpload(t *testing.T) {
	fx := newFixture(t)
	png := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 100)...)
	tests := []struct {
		name string
		doc  []byte
		want string
	}{
		{"a text file named .png is refused", []byte("not an image"), "Document refused"},
		{"a 2 MiB file is refused", append(append([]byte{}, png...), make([]byte, 2<<20)...), "Document refused"},
		{"a PNG is accepted", png, "Request received"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			mw := multipart.NewWriter(&b)
			mw.WriteField("csrf", "tok")
			mw.WriteField("fiscal_code", pin.DevMarcoColombo)
			mw.WriteField("pin", "Z9Y8X7W6")
			fw, _ := mw.CreateFormFile("document", "id.png")
			fw.Write(tt.doc)
			mw.Close()
			req, _ := http.NewRequest("POST", fx.srv.URL+"/pin/convert", &b)
			req.Header.Set("Content-Type", mw.FormDataContentType())
			req.Header.Set("Accept-Language", "en")
			if _, body := do(t, req); !strings.Contains(body, tt.want) {
				t.Fatalf("%s", body)
			}
		})
	}
	code, body := fx.admin(t, "POST", "/admin/pin/convert/approve", ScopeOffice, map[string]any{"fiscal_code": pin.DevMarcoColombo})
	if code != 200 {
		t.Fatalf("approve: %d %s", code, body)
	}
	fx.post(t, "/pin/login", url.Values{"login": {"L5"}, "fiscal_code": {pin.DevMarcoColombo}, "pin": {"Z9Y8X7W6"}}, "en")
	if id := fx.fin.finished["L5"]; id == nil || id.PINType != "dispositivo" {
		t.Fatalf("after approval: %+v", id)
	}
}

func (fx *fixture) admin(t *testing.T, method, path, token string, body any) (int, string) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, fx.srv.URL+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+token)
	return do(t, req)
}

func TestAdminAPI(t *testing.T) {
	fx := newFixture(t)
	if code, _ := fx.admin(t, "GET", "/admin/pin/show?fiscal_code="+pin.DevGiovannaFerrari, "nope", nil); code != 401 {
		t.Fatalf("no token: %d", code)
	}
	code, body := fx.admin(t, "GET", "/admin/pin/show?fiscal_code="+pin.DevGiovannaFerrari, ScopeContactCenter, nil)
	if code != 200 || !strings.Contains(body, `"type":"dispositivo"`) || strings.Contains(body, "salt") || strings.Contains(body, "A1B2C3D4") {
		t.Fatalf("show: %d %s", code, body)
	}
	if code, _ := fx.admin(t, "POST", "/admin/pin/revoke", ScopeContactCenter, map[string]any{"fiscal_code": pin.DevGiovannaFerrari}); code != 401 {
		t.Fatalf("the contact center may not revoke: %d", code)
	}
	code, body = fx.admin(t, "POST", "/admin/pin/phone/check", ScopeContactCenter, map[string]any{"fiscal_code": pin.DevMarioRossi, "pin": "12345678"})
	if code != 200 || !strings.Contains(body, `"valid":true`) {
		t.Fatalf("phone check: %d %s", code, body)
	}
	code, body = fx.admin(t, "POST", "/admin/pin/issue", ScopeOffice, map[string]any{"person": map[string]any{
		"fiscal_code": "RSSMRA80A01H501U", "given_name": "Mario", "family_name": "Rossi", "resident_abroad": true},
		"id_document": "passport YA0000001"})
	if code != 200 || !strings.Contains(body, "PIN DISPOSITIVO") {
		t.Fatalf("issue: %d %s", code, body)
	}
	code, body = fx.admin(t, "POST", "/admin/pin/authorisations/add", ScopeOffice, map[string]any{"fiscal_code": pin.DevGiovannaFerrari,
		"municipality": "Comune di Roma", "convenzione": "C-1", "authorisations": []string{"casellario_pensionati"}})
	if code != 200 || !strings.Contains(body, "casellario_pensionati") {
		t.Fatalf("authorise: %d %s", code, body)
	}
	if code, _ := fx.admin(t, "POST", "/admin/pin/unlock", ScopeOffice, map[string]any{"fiscal_code": "bad"}); code != 400 {
		t.Fatalf("bad fiscal code: %d", code)
	}
	if code, _ := fx.admin(t, "POST", "/admin/pin/unlock", ScopeOffice, map[string]any{"fiscal_code": pin.DevGiovannaFerrari, "extra": 1}); code != 400 {
		t.Fatalf("unknown JSON fields must be refused: %d", code)
	}
}

func TestLostPINAnswersTheSameForEveryone(t *testing.T) {
	fx := newFixture(t)
	_, a := fx.post(t, "/pin/lost", url.Values{"fiscal_code": {pin.DevGiovannaFerrari}, "email": {"giovanna.ferrari@example.org"}, "pec": {"giovanna.ferrari@pec.example.org"}}, "en")
	_, b := fx.post(t, "/pin/lost", url.Values{"fiscal_code": {"RCCMNL83S18D969H"}, "email": {"x@example.org"}, "pec": {"y@example.org"}}, "en")
	if a != b || !strings.Contains(a, "If the data match a PIN") {
		t.Fatalf("answers differ:\n%s\n%s", a, b)
	}
}

func TestMessagesHaveBothLanguages(t *testing.T) {
	for k, v := range Messages() {
		if v["it"] == "" || v["en"] == "" {
			t.Errorf("%s lacks a language", k)
		}
	}
}

// The Contact Center takes a request by phone: the same checks and delivery as online, the
// record and the audit trail naming the channel and the operator. Only its scope may.
func TestContactCenterRequest(t *testing.T) {
	fx := newFixture(t)
	person := map[string]any{"fiscal_code": "RSSMRA80A01H501U", "given_name": "Mario", "family_name": "Rossi",
		"resident_abroad": true, "contacts": map[string]any{"mobile": "+393331112222", "postal": "Calle 1, Madrid"}}
	if code, _ := fx.admin(t, "POST", "/admin/pin/request", ScopeOffice, map[string]any{"person": person}); code != 401 {
		t.Fatalf("an office token took a Contact-Center request: %d", code)
	}
	if code, body := fx.admin(t, "POST", "/admin/pin/request", ScopeContactCenter, map[string]any{"person": map[string]any{
		"fiscal_code": "RSSMRA80A01H501X", "given_name": "Mario", "family_name": "Rossi"}}); code != 400 {
		t.Fatalf("a bad fiscal code: %d %s", code, body)
	}
	// Officials and intermediaries are exempt from the eligibility policy: never by phone.
	for _, cat := range []string{"official", "intermediary"} {
		if code, _ := fx.admin(t, "POST", "/admin/pin/request", ScopeContactCenter, map[string]any{"person": person, "category": cat}); code != 400 {
			t.Fatalf("a %s PIN requested by phone: %d", cat, code)
		}
	}
	code, body := fx.admin(t, "POST", "/admin/pin/request", ScopeContactCenter, map[string]any{"person": person})
	if code != 200 {
		t.Fatalf("request: %d %s", code, body)
	}
	code, body = fx.admin(t, "GET", "/admin/pin/show?fiscal_code=RSSMRA80A01H501U", ScopeContactCenter, nil)
	if code != 200 || !strings.Contains(body, `"channel":"contact_center"`) || !strings.Contains(body, `"state":"issued"`) {
		t.Fatalf("record: %d %s", code, body)
	}
	e := fx.events.Last("pin.requested")
	if e == nil || e.Actor != "op-"+ScopeContactCenter || e.Fields["channel"] != pin.ContactCenter {
		t.Fatalf("audit: %+v", e)
	}
	if code, _ := fx.admin(t, "POST", "/admin/pin/request", ScopeContactCenter, map[string]any{"person": person}); code == 200 {
		t.Fatal("a second PIN was requested for the same person")
	}
}

// An office rejection of a conversion: the PIN stays ordinario, the decision is audited under
// the operator's name, and a second decision is refused.
func TestConversionRejected(t *testing.T) {
	fx := newFixture(t)
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	mw.WriteField("csrf", "tok")
	mw.WriteField("fiscal_code", pin.DevMarcoColombo)
	mw.WriteField("pin", "Z9Y8X7W6")
	fw, _ := mw.CreateFormFile("document", "id.jpg")
	fw.Write(append([]byte("\xff\xd8\xff\xe0"), make([]byte, 100)...)) // a JPEG
	mw.Close()
	req, _ := http.NewRequest("POST", fx.srv.URL+"/pin/convert", &b)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Accept-Language", "en")
	if _, body := do(t, req); !strings.Contains(body, "Request received") {
		t.Fatalf("JPEG upload: %s", body)
	}
	code, body := fx.admin(t, "POST", "/admin/pin/convert/reject", ScopeOffice, map[string]any{"fiscal_code": pin.DevMarcoColombo, "reason": "document unreadable"})
	if code != 200 {
		t.Fatalf("reject: %d %s", code, body)
	}
	if e := fx.events.Last("pin.conversion_rejected"); e == nil || e.Actor != "op-"+ScopeOffice || e.Fields["reason"] != "document unreadable" {
		t.Fatalf("audit: %+v", e)
	}
	if code, _ := fx.admin(t, "POST", "/admin/pin/convert/approve", ScopeOffice, map[string]any{"fiscal_code": pin.DevMarcoColombo}); code == 200 {
		t.Fatal("a rejected conversion was approved afterwards")
	}
	fx.post(t, "/pin/login", url.Values{"login": {"L9"}, "fiscal_code": {pin.DevMarcoColombo}, "pin": {"Z9Y8X7W6"}}, "en")
	if id := fx.fin.finished["L9"]; id == nil || id.PINType != "ordinario" {
		t.Fatalf("after rejection: %+v", id)
	}
}

// An unknown PIN page is a page in the person's language with the real ones, not a bare 404.
func TestUnknownPINPage(t *testing.T) {
	fx := newFixture(t)
	code, body := fx.get(t, "/pin/nonexistent", "en")
	if code != http.StatusNotFound || !strings.Contains(body, "This page does not exist") || !strings.Contains(body, `href="/pin/lost`) ||
		!strings.Contains(body, `class="sp-ref"`) {
		t.Fatalf("%d %s", code, body)
	}
}
