package broker

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/inps/sportello/config"
	"github.com/inps/sportello/internal/audit"
	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/providers"
)

// returnProvider is a redirecting login like SPID's: Start sends the browser away, and the
// answer comes back as a POST to /ret/acs, which — as the IdP's cross-site POST — may carry no
// cookie. Its outcome field says what the "IdP" answered: "ok:<fiscal code>", "cancel" or
// "denied". /ret/form is a provider page that asks for the pending login (as the PIN form).
type returnProvider struct{}

func (returnProvider) Info() providers.Info {
	return providers.Info{ID: "ret", Method: "spid", MaxACR: loa.SpidL3}
}

func (returnProvider) Start(w http.ResponseWriter, r *http.Request, req *providers.LoginRequest) error {
	http.Redirect(w, r, "/ret/idp?login="+url.QueryEscape(req.ID), http.StatusFound)
	return nil
}

func (returnProvider) Routes() []string { return []string{"/ret/"} }

func (returnProvider) Handler(f providers.Finisher) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/ret/idp", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "idp") })
	mux.HandleFunc("/ret/form", func(w http.ResponseWriter, r *http.Request) {
		if _, err := f.LoginRequest(r.Context(), r.URL.Query().Get("login")); err != nil {
			http.Error(w, "expired", http.StatusBadRequest)
			return
		}
		_, _ = io.WriteString(w, "form")
	})
	mux.HandleFunc("/ret/acs", func(w http.ResponseWriter, r *http.Request) {
		login, outcome := r.PostFormValue("login"), r.PostFormValue("outcome")
		switch {
		case strings.HasPrefix(outcome, "ok:"):
			f.Finish(w, r, login, &providers.Identity{FiscalNumber: strings.TrimPrefix(outcome, "ok:"), Method: "spid",
				ACR: loa.SpidL2, AMR: []string{"pwd", "mfa"}, AuthTime: time.Now()})
		case outcome == "cancel":
			f.Fail(w, r, login, providers.ErrCancelled)
		default:
			f.Fail(w, r, login, &providers.UserError{Code: "login.denied", Err: providers.ErrDenied})
		}
	})
	return mux
}

// bindingFixture is a broker with the returnProvider and a certificate provider behind a
// trusted proxy, and its audit trail.
type bindingFixture struct {
	tb     *testBroker
	cp     *certProvider
	events *audit.Recorder
}

func newBindingFixture(t *testing.T) *bindingFixture {
	fx := &bindingFixture{cp: &certProvider{}, events: &audit.Recorder{}}
	fx.tb = newTestBrokerWith(t, memStore(t), func(o *Options) {
		o.Providers = append(o.Providers, returnProvider{}, fx.cp)
		o.Auditor = fx.events
	}, func(c *config.Config) {
		c.Listen.ClientCertHeader = "X-Client-Cert"
		c.Listen.TrustedProxies = []string{"10.0.0.1"}
	})
	return fx
}

// stop is a browser that keeps its jar but follows no redirect.
func stop(br *browser) *http.Client {
	c := *br.Client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// crossSite is the IdP's POST as a browser sends it cross-site: no cookie at all.
var crossSite = &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// start begins a login at the chooser and returns the pending login's id (which appears in
// every /login/<id> URL: whoever sees one of them knows it).
func (fx *bindingFixture) start(t *testing.T, br *browser) string {
	t.Helper()
	q := url.Values{"client_id": {"demo-rp"}, "response_type": {"code"}, "scope": {"openid fiscal_number"},
		"redirect_uri": {"http://127.0.0.1:9000/callback"}, "state": {"st"}}
	resp, err := stop(br).Get(fx.tb.URL + pathAuthorize + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, fx.tb.URL+"/login/") {
		t.Fatalf("not sent to the chooser: %d %s", resp.StatusCode, loc)
	}
	return strings.TrimPrefix(loc, fx.tb.URL+"/login/")
}

// get fetches u with c and returns the answer with its body read.
func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// acs posts the "IdP" answer for login with c.
func (fx *bindingFixture) acs(t *testing.T, c *http.Client, login, outcome string) (*http.Response, string) {
	t.Helper()
	resp, err := c.PostForm(fx.tb.URL+"/ret/acs", url.Values{"login": {login}, "outcome": {outcome}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// completes runs the victim's real return (cross-site, no cookie) and follows it in the
// victim's browser to the relying party's code.
func (fx *bindingFixture) completes(t *testing.T, victim *browser, login string) {
	t.Helper()
	resp, _ := fx.acs(t, crossSite, login, "ok:RSSMRA80A01H501U")
	done := resp.Header.Get("Location")
	if !strings.Contains(done, "/login/done?ref=") {
		t.Fatalf("the victim's own return was not handed to /login/done: %d %q", resp.StatusCode, done)
	}
	fx.redeems(t, victim, done, "RSSMRA80A01H501U")
}

// redeems follows a /login/done reference in br and checks the code names fiscalNumber.
func (fx *bindingFixture) redeems(t *testing.T, br *browser, done, fiscalNumber string) {
	t.Helper()
	resp, _ := get(t, stop(br), done)
	cb, _ := url.Parse(resp.Header.Get("Location"))
	if cb == nil || cb.Port() != "9000" || cb.Query().Get("code") == "" {
		t.Fatalf("the login could not be completed: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, out := postForm(t, fx.tb.URL+pathToken, url.Values{"grant_type": {"authorization_code"}, "code": {cb.Query().Get("code")},
		"redirect_uri": {"http://127.0.0.1:9000/callback"}}, "demo-rp", "demo-secret")
	if fn := jwtClaims(t, out["id_token"].(string))["fiscal_number"]; fn != fiscalNumber {
		t.Fatalf("the login completed as %v, want %s", fn, fiscalNumber)
	}
}

// refusedAsOtherBrowser checks the answer is the "started in another browser" page.
func (fx *bindingFixture) refusedAsOtherBrowser(t *testing.T, resp *http.Response, body string) {
	t.Helper()
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" ||
		!strings.Contains(body, htmlEscape(fx.tb.catalogue.T("it", "login.other_browser"))) {
		t.Fatalf("not refused as another browser's step: %d %q %.300s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	for _, ev := range fx.events.Events() {
		if ev.Type == "login.other_browser" {
			return
		}
	}
	t.Fatal("no login.other_browser audit record")
}

// Every step of a pending login belongs to the browser that started it. A foreign
// browser's step — with its own cookie, or with none, as a cross-site POST — is refused and
// consumes nothing: the victim then completes the same login.
func TestForeignBrowserStepsConsumeNothing(t *testing.T) {
	fx := newBindingFixture(t)
	t.Run("a forged cancel without cookies is shown only after the browser check; the victim completes", func(t *testing.T) {
		victim := newBrowser(t)
		login := fx.start(t, victim)
		resp, _ := fx.acs(t, crossSite, login, "cancel")
		done := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther || !strings.Contains(done, "/login/done?ref=") {
			t.Fatalf("a cookie-less failure was not handed to /login/done: %d %q", resp.StatusCode, done)
		}
		// The attacker follows it, with no cookie or with its own: refused, nothing consumed.
		r1, b1 := get(t, crossSite, done)
		fx.refusedAsOtherBrowser(t, r1, b1)
		attacker := newBrowser(t)
		fx.start(t, attacker)
		r2, b2 := get(t, stop(attacker), done)
		fx.refusedAsOtherBrowser(t, r2, b2)
		fx.completes(t, victim, login)
	})
	t.Run("garbage without cookies: refused to the attacker, the victim completes", func(t *testing.T) {
		victim := newBrowser(t)
		login := fx.start(t, victim)
		resp, _ := fx.acs(t, crossSite, login, "garbage")
		r, b := get(t, crossSite, resp.Header.Get("Location"))
		fx.refusedAsOtherBrowser(t, r, b)
		fx.completes(t, victim, login)
	})
	t.Run("another browser's identity on the victim's login is refused at once; the victim completes", func(t *testing.T) {
		victim, attacker := newBrowser(t), newBrowser(t)
		login := fx.start(t, victim)
		fx.start(t, attacker) // the attacker's own browser cookie
		resp, body := fx.acs(t, stop(attacker), login, "ok:BNCLRA85M41F205C")
		fx.refusedAsOtherBrowser(t, resp, body)
		fx.completes(t, victim, login)
	})
	t.Run("an identity returned without cookies is redeemed only by the victim's browser", func(t *testing.T) {
		victim, attacker := newBrowser(t), newBrowser(t)
		login := fx.start(t, victim)
		resp, _ := fx.acs(t, crossSite, login, "ok:RSSMRA80A01H501U")
		done := resp.Header.Get("Location")
		fx.start(t, attacker)
		r, b := get(t, stop(attacker), done)
		fx.refusedAsOtherBrowser(t, r, b)
		fx.redeems(t, victim, done, "RSSMRA80A01H501U") // the same reference: nothing was taken
	})
	t.Run("a provider page asked from another browser is refused before anything", func(t *testing.T) {
		victim, attacker := newBrowser(t), newBrowser(t)
		login := fx.start(t, victim)
		fx.start(t, attacker)
		if resp, _ := get(t, stop(attacker), fx.tb.URL+"/ret/form?login="+url.QueryEscape(login)); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("another browser got the provider's form: %d", resp.StatusCode)
		}
		if resp, body := get(t, stop(victim), fx.tb.URL+"/ret/form?login="+url.QueryEscape(login)); resp.StatusCode != http.StatusOK || body != "form" {
			t.Fatalf("the victim's own form: %d %q", resp.StatusCode, body)
		}
	})
}

// The person's own failures still reach them when the IdP's POST carries no cookie: after the
// browser check of /login/done, the page with the way back, or straight back on a cancel.
func TestCookielessFailuresReachTheRightBrowser(t *testing.T) {
	fx := newBindingFixture(t)
	t.Run("denied: the page offers access_denied back to the relying party", func(t *testing.T) {
		br := newBrowser(t)
		login := fx.start(t, br)
		resp, _ := fx.acs(t, crossSite, login, "denied")
		page, body := get(t, stop(br), resp.Header.Get("Location"))
		if page.StatusCode != http.StatusForbidden || !strings.Contains(body, "error=access_denied") ||
			!strings.Contains(body, htmlEscape(fx.tb.catalogue.T("it", "login.denied"))) {
			t.Fatalf("%d %.400s", page.StatusCode, body)
		}
	})
	t.Run("cancelled: a page with both ways on, access_denied back and the chooser again", func(t *testing.T) {
		br := newBrowser(t)
		login := fx.start(t, br)
		resp, _ := fx.acs(t, crossSite, login, "cancel")
		page, body := get(t, stop(br), resp.Header.Get("Location"))
		if page.StatusCode != http.StatusForbidden || !strings.Contains(body, "error=access_denied") || !strings.Contains(body, "state=st") ||
			!strings.Contains(body, htmlEscape(fx.tb.catalogue.T("it", "login.cancelled_title"))) ||
			!strings.Contains(body, `href="`+fx.tb.URL+"/login/"+login+`"`) {
			t.Fatalf("%d %.1500s", page.StatusCode, body)
		}
	})
}

// The certificate step on the mutual-TLS origin: the pending login's id is not enough there;
// a step token issued to the browser that started the login is, once.
func TestCertificateStepBoundToTheBrowser(t *testing.T) {
	fx := newBindingFixture(t)
	mtls := fx.tb.MTLSHandler()
	// stepURL opens the card provider from the chooser, in br, and returns the listener's URL.
	stepURL := func(br *browser, login string) *url.URL {
		resp, _ := get(t, stop(br), fx.tb.URL+"/login/"+login+"/card")
		u, _ := url.Parse(resp.Header.Get("Location"))
		if u == nil || u.Path != "/mtls/card" || u.Query().Get("step") == "" {
			t.Fatalf("no step URL: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		return u
	}
	// present shows cf's certificate at target, with the cookies of br (nil: none).
	present := func(target, cf string, br *browser) (*httptest.ResponseRecorder, int) {
		req := httptest.NewRequest(http.MethodGet, target, nil)
		req.RemoteAddr = "10.0.0.1:1"
		req.Header.Set("X-Client-Cert", selfSigned(t, cf))
		if br != nil {
			u, _ := url.Parse(fx.tb.URL)
			for _, c := range br.Jar.Cookies(u) {
				req.AddCookie(c)
			}
		}
		before := fx.cp.seen
		w := httptest.NewRecorder()
		mtls.ServeHTTP(w, req)
		return w, fx.cp.seen - before
	}
	// refusal follows a refusal of the mTLS origin to the page the issuer origin shows (no
	// page is drawn on the mTLS origin) and returns that page.
	refusal := func(w *httptest.ResponseRecorder) (*http.Response, string) {
		t.Helper()
		loc := w.Header().Get("Location")
		if w.Code != http.StatusSeeOther || !strings.Contains(loc, pathLoginError+"?ref=") {
			t.Fatalf("the mTLS origin answered %d %q, not a refusal shown on the issuer origin", w.Code, loc)
		}
		return get(t, stop(newBrowser(t)), loc)
	}
	t.Run("the attacker's certificate on the victim's login id is refused; the victim completes", func(t *testing.T) {
		victim := newBrowser(t)
		login := fx.start(t, victim)
		for _, target := range []string{"/mtls/card?login=" + url.QueryEscape(login), "/mtls/card?step=" + url.QueryEscape(login), "/mtls/card"} {
			w, seen := present(target, "BNCLRA85M41F205C", nil)
			if shown, _ := refusal(w); shown.StatusCode < 400 || seen != 0 {
				t.Fatalf("%s: %d, certificate checked %d times", target, shown.StatusCode, seen)
			}
		}
		w, _ := present(stepURL(victim, login).RequestURI(), "RSSMRA80A01H501U", nil)
		fx.redeems(t, victim, w.Header().Get("Location"), "RSSMRA80A01H501U")
	})
	t.Run("the victim's step from a browser with another cookie is refused before the certificate", func(t *testing.T) {
		victim, attacker := newBrowser(t), newBrowser(t)
		login := fx.start(t, victim)
		step := stepURL(victim, login)
		fx.start(t, attacker)
		w, seen := present(step.RequestURI(), "BNCLRA85M41F205C", attacker)
		if seen != 0 {
			t.Fatal("the certificate of another browser was checked")
		}
		shown, body := refusal(w)
		fx.refusedAsOtherBrowser(t, shown, body)
		w, _ = present(step.RequestURI(), "RSSMRA80A01H501U", victim) // the cookie reaches the listener, as on one host
		fx.redeems(t, victim, w.Header().Get("Location"), "RSSMRA80A01H501U")
	})
	t.Run("a step token is single use and bound to its provider", func(t *testing.T) {
		victim := newBrowser(t)
		login := fx.start(t, victim)
		step := stepURL(victim, login)
		other := *step
		other.Path = "/mtls/other"
		if w, seen := present(other.RequestURI(), "RSSMRA80A01H501U", nil); seen != 0 {
			t.Fatal("token used on another path")
		} else if shown, _ := refusal(w); shown.StatusCode < 400 {
			t.Fatalf("token used on another path: %d", shown.StatusCode)
		}
		first, _ := present(step.RequestURI(), "RSSMRA80A01H501U", nil)
		if !strings.Contains(first.Header().Get("Location"), "/login/done?ref=") {
			t.Fatalf("first use: %d", first.Code)
		}
		if w, _ := present(step.RequestURI(), "BNCLRA85M41F205C", nil); strings.Contains(w.Header().Get("Location"), "/login/done") {
			t.Fatalf("a used step token went on: %d %q", w.Code, w.Header().Get("Location"))
		} else if shown, _ := refusal(w); shown.StatusCode < 400 {
			t.Fatalf("a used step token went on: %d", shown.StatusCode)
		}
		// A refused certificate does not use it up: the person can retry with the card.
		login2 := fx.start(t, victim)
		step2 := stepURL(victim, login2)
		if w, _ := present(step2.RequestURI(), "", nil); strings.Contains(w.Header().Get("Location"), "/login/done") {
			t.Fatalf("an empty certificate was accepted: %d", w.Code)
		} else if shown, _ := refusal(w); shown.StatusCode < 400 {
			t.Fatalf("an empty certificate was accepted: %d", shown.StatusCode)
		}
		w, _ := present(step2.RequestURI(), "RSSMRA80A01H501U", nil)
		fx.redeems(t, victim, w.Header().Get("Location"), "RSSMRA80A01H501U")
	})
}

// A login is finished once: of two identities handed back for the same login (two tabs, two
// returns), the browser's first redemption wins and the second is refused.
func TestTwoHandBacksFinishTheLoginOnce(t *testing.T) {
	fx := newBindingFixture(t)
	br := newBrowser(t)
	login := fx.start(t, br)
	first, _ := fx.acs(t, crossSite, login, "ok:RSSMRA80A01H501U")
	second, _ := fx.acs(t, crossSite, login, "ok:BNCLRA85M41F205C")
	fx.redeems(t, br, first.Header.Get("Location"), "RSSMRA80A01H501U")
	resp, body := get(t, stop(br), second.Header.Get("Location"))
	if resp.StatusCode < 400 || resp.Header.Get("Location") != "" ||
		!strings.Contains(body, htmlEscape(fx.tb.catalogue.T("it", "login.already_finished"))) && !strings.Contains(body, htmlEscape(fx.tb.catalogue.T("it", "login.expired"))) {
		t.Fatalf("the second identity went on: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// markFinished writes an identity only where none is yet.
func TestMarkFinishedOnlyOnce(t *testing.T) {
	fx := newBindingFixture(t)
	login := fx.start(t, newBrowser(t))
	ctx := t.Context()
	a := &providers.Identity{FiscalNumber: "RSSMRA80A01H501U", Method: "spid", ACR: loa.SpidL2, AuthTime: time.Now()}
	b := &providers.Identity{FiscalNumber: "BNCLRA85M41F205C", Method: "spid", ACR: loa.SpidL2, AuthTime: time.Now()}
	if ok, err := fx.tb.markFinished(ctx, login, a); !ok || err != nil {
		t.Fatalf("first: %v %v", ok, err)
	}
	if ok, err := fx.tb.markFinished(ctx, login, b); ok || err != nil {
		t.Fatalf("second: %v %v", ok, err)
	}
	if rec, err := fx.tb.getLogin(ctx, login); err != nil || rec.Identity.FiscalNumber != a.FiscalNumber {
		t.Fatalf("the login holds %+v (%v)", rec, err)
	}
	if ok, err := fx.tb.markFinished(ctx, "no-such-login", a); ok || err != nil {
		t.Fatalf("unknown login: %v %v", ok, err)
	}
}
