package main

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/inps/sportello/config"
	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/internal/store/redistest"
	"github.com/inps/sportello/internal/store/storetest"
)

// The outage pages tell the truth: when the store fails in the middle of a login, the next
// step answers 503 with Retry-After and the layout's page saying, in the person's language,
// that the service is temporarily unavailable and to try again shortly; never that the login
// expired or does not match one, and never a 400 or a 404.

// outageTexts are what the error box of an outage page says, and never says, per language.
var outageTexts = map[string]struct{ want, never []string }{
	"it": {want: []string{"temporaneamente non disponibile", "Riprova tra poco"},
		never: []string{"scadut", "non corrisponde", "già stata completata", "accedi con"}},
	"en": {want: []string{"temporarily unavailable", "try again shortly"},
		never: []string{"expired", "does not match", "already completed", "sign in with"}},
}

// errorBox is the text of a page's error box (the broker's, the PIN's and the delegations'
// pages share the layout's alert).
var errorBox = regexp.MustCompile(`(?s)role="alert"[^>]*>(.*?)</div>`)

// checkOutage fails unless resp is the outage page in lang.
func checkOutage(t *testing.T, resp *http.Response, lang string) {
	t.Helper()
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "30" {
		t.Fatalf("%s %s: status %d, Retry-After %q, want 503 and 30:\n%.3000s", resp.Request.Method, resp.Request.URL.Path,
			resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if !strings.Contains(string(body), `<html lang="`+lang+`"`) {
		t.Errorf("the page is not in %s:\n%.600s", lang, body)
	}
	m := errorBox.FindSubmatch(body)
	if m == nil {
		t.Fatalf("no error shown (not the layout's page?):\n%.3000s", body)
	}
	box := strings.ToLower(string(m[1]))
	for _, w := range outageTexts[lang].want {
		if !strings.Contains(box, strings.ToLower(w)) {
			t.Errorf("the %s error lacks %q: %s", lang, w, m[1])
		}
	}
	for _, n := range outageTexts[lang].never {
		if strings.Contains(box, n) {
			t.Errorf("the %s outage error says %q: %s", lang, n, m[1])
		}
	}
}

// outageBroker runs dev mode (in-memory store) with every component on a CutStore, and
// returns the issuer, the mutual-TLS origin and the store to cut.
func outageBroker(t *testing.T) (issuer, mtls string, cut *storetest.CutStore) {
	t.Helper()
	s := serveDev(t, "", func(c *config.Config) { mtls = "https://" + c.Listen.MTLS },
		func(x *devExtras) {
			x.wrapStore = func(st store.Store) store.Store { cut = storetest.NewCutStore(st); return cut }
		})
	waitReady(t, s)
	return s.issuer, mtls, cut
}

func waitReady(t *testing.T, s *served) {
	t.Helper()
	if !eventuallyTrue(60*time.Second, func() bool { code, _ := s.readyz(t); return code == http.StatusOK }) {
		t.Fatalf("dev mode not ready:\n%s", s.log.String())
	}
}

// speaking makes c a browser that asks for pages in lang, and stops before any request
// stop chooses (nil: none) as well as at the relying party's callback.
func speaking(c *http.Client, lang string, stop func(*http.Request) bool) *http.Client {
	base := c.Transport
	c.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		r.Header.Set("Accept-Language", lang)
		return base.RoundTrip(r)
	})
	c.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		if req.URL.Port() == "9000" || (stop != nil && stop(req)) {
			return http.ErrUseLastResponse
		}
		return nil
	}
	return c
}

const (
	l1 = "https://www.spid.gov.it/SpidL1"
	l2 = "https://www.spid.gov.it/SpidL2"
	l3 = "https://www.spid.gov.it/SpidL3"
)

// outageStep drives a login up to one step and returns that step, not yet taken.
type outageStep struct {
	name string
	cert string // the client certificate of the browser ("" none)
	// stop: the browser stops before these requests (the step itself, when it is a redirect).
	stop  func(*http.Request) bool
	reach func(t *testing.T, c *http.Client, issuer string) (step func() *http.Response)
}

func follow(t *testing.T, c *http.Client, resp *http.Response) *http.Response {
	t.Helper()
	resp.Body.Close()
	loc, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
	if err != nil || resp.Header.Get("Location") == "" {
		t.Fatalf("no redirect to follow: %d", resp.StatusCode)
	}
	next, err := c.Get(loc.String())
	if err != nil {
		t.Fatal(err)
	}
	return next
}

func getOK(t *testing.T, c *http.Client, u string) *http.Response {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %d %.600s", u, resp.StatusCode, body)
	}
	return resp
}

func outageSteps(mtls string) []outageStep {
	atPath := func(p string) func(*http.Request) bool { return func(r *http.Request) bool { return r.URL.Path == p } }
	return []outageStep{
		{name: "the PIN login form post", reach: func(t *testing.T, c *http.Client, issuer string) func() *http.Response {
			form := getOK(t, c, authURL(issuer, "pin", l1, oauth2.GenerateVerifier()))
			return func() *http.Response {
				return submit(t, c, form, url.Values{"fiscal_code": {"FRRGNN55T50Z600A"}, "pin": {"A1B2C3D4"}})
			}
		}},
		{name: "the PIN first-access post", reach: func(t *testing.T, c *http.Client, issuer string) func() *http.Response {
			form := getOK(t, c, authURL(issuer, "pin", l1, oauth2.GenerateVerifier()))
			change := submit(t, c, form, url.Values{"fiscal_code": {"ESPLCU90D45Z404Y"}, "pin": {"1A2B3C4D5E6F7089"}})
			if change.StatusCode != http.StatusOK {
				t.Fatalf("no first-access form: %s", outcome(change))
			}
			return func() *http.Response {
				return submit(t, c, change, url.Values{"fiscal_code": {"ESPLCU90D45Z404Y"}, "current_pin": {"1A2B3C4D5E6F7089"},
					"new_pin": {"Q7W3E9R2"}, "new_pin2": {"Q7W3E9R2"}})
			}
		}},
		{name: "the SPID ACS post", reach: func(t *testing.T, c *http.Client, issuer string) func() *http.Response {
			page, _ := spidToACS(t, c, issuer, "test", l2, "2", "login", "RSSMRA80A01H501U")
			return func() *http.Response { return submit(t, c, page, nil) }
		}},
		{name: "the hand-back to /login/done", stop: atPath("/login/done"),
			reach: func(t *testing.T, c *http.Client, issuer string) func() *http.Response {
				page, _ := spidToACS(t, c, issuer, "demo", l2, "2", "login", "RSSMRA80A01H501U")
				done := submit(t, c, page, nil)
				return func() *http.Response { return follow(t, c, done) }
			}},
		{name: "the delegation question post", reach: func(t *testing.T, c *http.Client, issuer string) func() *http.Response {
			question, _ := spidLoginAs(t, c, issuer, "demo", l2, "2", "login", "BNCLRA85M41F205C")
			if question.StatusCode != http.StatusOK {
				t.Fatalf("no delegation question: %s", outcome(question))
			}
			return func() *http.Response { return submit(t, c, question, url.Values{"act_for": {"VRDGPP40C15L219U"}}) }
		}},
		{name: "the chooser", stop: func(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/login/") },
			reach: func(t *testing.T, c *http.Client, issuer string) func() *http.Response {
				rp := demoRP(issuer)
				resp, err := c.Get(rp.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
				if err != nil {
					t.Fatal(err)
				}
				return func() *http.Response { return follow(t, c, resp) }
			}},
		{name: "the CIE certificate step", cert: "mario-rossi-cie",
			stop: func(r *http.Request) bool { return strings.HasPrefix(r.URL.String(), mtls+"/mtls/") },
			reach: func(t *testing.T, c *http.Client, issuer string) func() *http.Response {
				resp, err := c.Get(authURL(issuer, "cie", l3, oauth2.GenerateVerifier()))
				if err != nil {
					t.Fatal(err)
				}
				return func() *http.Response { return follow(t, c, resp) } // hands the page back to the issuer origin
			}},
		{name: "the delegations form post", reach: func(t *testing.T, c *http.Client, issuer string) func() *http.Response {
			if got := outcome(spidLoginAs2(t, c, issuer)); !strings.HasPrefix(got, "callback:") {
				t.Fatalf("no SSO session: %.600s", got)
			}
			page := getOK(t, c, issuer+"/deleghe/")
			return func() *http.Response {
				return submit(t, c, page, url.Values{"fiscal_code": {"CLMMRC70B10G273W"}, "given_name": {"Marco"},
					"family_name": {"Colombo"}, "email": {"marco@example.org"}})
			}
		}},
	}
}

// spidLoginAs2 logs Mario Rossi in at L2 (an SSO session strong enough for the delegations).
func spidLoginAs2(t *testing.T, c *http.Client, issuer string) *http.Response {
	t.Helper()
	resp, _ := spidLoginAs(t, c, issuer, "demo", l2, "2", "login", "RSSMRA80A01H501U")
	return resp
}

// Every step that continues a login, the store cut after the login started and before the
// step: 503, Retry-After: 30, the unavailable page in Italian and in English.
func TestAStoreOutageMidLoginIsTemporarilyUnavailable(t *testing.T) {
	issuer, mtls, cut := outageBroker(t)
	for _, step := range outageSteps(mtls) {
		for _, lang := range []string{"it", "en"} {
			t.Run(step.name+" in "+lang, func(t *testing.T) {
				cert, key := "", ""
				if step.cert != "" {
					cert, key = "../../testdata/pki/"+step.cert+".crt", "../../testdata/pki/"+step.cert+".key"
				}
				c := speaking(client(t, cert, key), lang, step.stop)
				take := step.reach(t, c, issuer)
				cut.Before(func(string, string) bool { return true })
				resp := take()
				cut.Before(nil)
				checkOutage(t, resp, lang)
			})
		}
	}
}

// The negative: once the store answers again, what is not there is still expired or unknown
// (400 and its own text), never turned into an outage.
func TestAfterTheOutageAnAbsentLoginIsStillExpired(t *testing.T) {
	issuer, _, cut := outageBroker(t)
	cut.Before(func(string, string) bool { return true })
	if resp, err := http.Get(issuer + "/login/done?ref=x"); err != nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("the store is not cut: %v %v", resp, err)
	}
	cut.Before(nil)
	refusals := []struct {
		name, want string
		do         func(t *testing.T, c *http.Client) *http.Response
	}{
		{"a PIN form post for an unknown login", "sign-in request has expired", func(t *testing.T, c *http.Client) *http.Response {
			form := getOK(t, c, authURL(issuer, "pin", l1, oauth2.GenerateVerifier()))
			return submit(t, c, form, url.Values{"login": {"unknown"}, "fiscal_code": {"FRRGNN55T50Z600A"}, "pin": {"A1B2C3D4"}})
		}},
		{"a SPID response for no request in progress", "does not match a sign-in in progress", func(t *testing.T, c *http.Client) *http.Response {
			page, _ := spidToACS(t, c, issuer, "test", l2, "2", "login", "RSSMRA80A01H501U")
			return submit(t, c, page, url.Values{"RelayState": {"unknown"}})
		}},
		{"an unknown hand-back reference", "has expired", func(t *testing.T, c *http.Client) *http.Response {
			resp, err := c.Get(issuer + "/login/done?ref=unknown")
			if err != nil {
				t.Fatal(err)
			}
			return resp
		}},
	}
	for _, r := range refusals {
		t.Run(r.name, func(t *testing.T) {
			resp := r.do(t, speaking(client(t, "", ""), "en", nil))
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Retry-After") != "" || !strings.Contains(string(body), r.want) {
				t.Fatalf("%d (Retry-After %q), want 400 %q:\n%.3000s", resp.StatusCode, resp.Header.Get("Retry-After"), r.want, body)
			}
		})
	}
}

// A real redis-server dies in the middle of a SPID login: the IdP's answer reaches the ACS
// while nothing listens, and the person reads that the service is temporarily unavailable
// (503, Retry-After). The server comes back empty: the same answer is now for a request the
// broker does not know, and says so.
func TestRedisDiesMidSPIDLogin(t *testing.T) {
	p := redistest.StartProcess(t)
	s := serveDev(t, p.URL(), nil, nil)
	waitReady(t, s)
	for _, lang := range []string{"it", "en"} {
		t.Run("the ACS post in "+lang, func(t *testing.T) {
			c := speaking(client(t, "", ""), lang, nil)
			page, _ := spidToACS(t, c, s.issuer, "test", l2, "2", "login", "RSSMRA80A01H501U")
			body, _ := io.ReadAll(page.Body)
			p.Kill()
			page.Body = io.NopCloser(strings.NewReader(string(body)))
			checkOutage(t, submit(t, c, page, nil), lang)
			p.Restart()
			// Connections the pool still holds to the dead server may fail once more.
			var again *http.Response
			var b []byte
			eventuallyTrue(20*time.Second, func() bool {
				page.Body = io.NopCloser(strings.NewReader(string(body)))
				again = submit(t, c, page, nil)
				b, _ = io.ReadAll(again.Body)
				again.Body.Close()
				return again.StatusCode != http.StatusServiceUnavailable
			})
			if again.StatusCode != http.StatusBadRequest || again.Header.Get("Retry-After") != "" ||
				!strings.Contains(string(b), map[string]string{"it": "non corrisponde", "en": "does not match"}[lang]) {
				t.Fatalf("after the restart: %d (Retry-After %q), want 400 and an unknown request:\n%.3000s", again.StatusCode, again.Header.Get("Retry-After"), b)
			}
		})
	}
}
