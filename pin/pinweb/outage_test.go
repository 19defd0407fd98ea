package pinweb

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/inps/sportello/pin"
)

// outageTexts are what the error of an outage page must say, and what it must never say
// (the texts of an expired or unknown login, of refused input), per language.
var outageTexts = map[string]struct{ want, never []string }{
	"it": {want: []string{"temporaneamente non disponibile", "Riprova tra poco"}, never: []string{"scadut", "non corrispond", "non valid", "errat"}},
	"en": {want: []string{"temporarily unavailable", "try again shortly"}, never: []string{"expired", "does not match", "not valid", "wrong"}},
}

// formError is the text of a page's error box.
var formError = regexp.MustCompile(`(?s)role="alert"[^>]*>(.*?)</div>`)

// checkOutagePage fails unless the answer is the outage page: 503, Retry-After in seconds and
// an error saying the service is temporarily unavailable in lang, nothing else.
func checkOutagePage(t *testing.T, code int, retryAfter, body, lang string) {
	t.Helper()
	if code != http.StatusServiceUnavailable || retryAfter != "30" {
		t.Fatalf("status %d, Retry-After %q, want 503 and 30:\n%s", code, retryAfter, body)
	}
	m := formError.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no error shown:\n%s", body)
	}
	for _, w := range outageTexts[lang].want {
		if !strings.Contains(m[1], w) {
			t.Errorf("%s error lacks %q: %s", lang, w, m[1])
		}
	}
	for _, n := range outageTexts[lang].never {
		if strings.Contains(strings.ToLower(m[1]), n) {
			t.Errorf("%s outage error says %q: %s", lang, n, m[1])
		}
	}
}

// postFull is fx.post that also returns the Retry-After header.
func (fx *fixture) postFull(t *testing.T, path string, form url.Values, lang string) (int, string, string) {
	t.Helper()
	form.Set("csrf", "tok")
	resp, err := http.Post(fx.srv.URL+path+"?lang="+lang, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Retry-After"), string(b)
}

// With the store cut, every PIN form post answers 503 with Retry-After and says, in Italian and
// in English, that the service is temporarily unavailable: never a refusal of what the person
// typed, a 400, or an expired login.
func TestEveryPINPostDuringAStoreOutageIsTemporarilyUnavailable(t *testing.T) {
	hc := url.Values{"fiscal_code": {pin.DevGiovannaFerrari}, "hc_number": {"80380000000000000001"}, "hc_expiry": {"2030-12-31"}}
	change := url.Values{"login": {"L9"}, "fiscal_code": {pin.DevLuciaEsposito}, "current_pin": {"1A2B3C4D5E6F7089"},
		"new_pin": {"Q7W8E9R0"}, "new_pin2": {"Q7W8E9R0"}}
	posts := []struct {
		name, path string
		form       url.Values
	}{
		{"the PIN login", "/pin/login", url.Values{"login": {"L1"}, "fiscal_code": {pin.DevGiovannaFerrari}, "pin": {"A1B2C3D4"}}},
		{"the first access", "/pin/first-access", change},
		{"the guided renewal", "/pin/renew", change},
		{"the lost-PIN request", "/pin/lost", url.Values{"fiscal_code": {pin.DevGiovannaFerrari}, "mobile": {"+393331234567"}, "email": {"g@example.org"}}},
		{"the recovery confirmation", "/pin/lost/complete", url.Values{"code": {"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"}}},
		{"the activation", "/pin/activate", hc},
		{"the revocation", "/pin/revoke", hc},
		{"the PIN request", "/pin/request", url.Values{"fiscal_code": {"BNCLRA85M41F205C"}, "given_name": {"Laura"},
			"family_name": {"Bianchi"}, "birthdate": {"1985-08-01"}, "birth_place": {"Milano"}, "residence": {"Via Roma 1, Milano"},
			"country": {"Argentina"}, "resident_abroad": {"1"}, "email": {"laura@example.org"}}},
	}
	for _, p := range posts {
		for _, lang := range []string{"it", "en"} {
			t.Run(p.name+" in "+lang, func(t *testing.T) {
				fx := newFixture(t)
				fx.cut.Before(func(string, string) bool { return true })
				code, retry, body := fx.postFull(t, p.path, cloneValues(p.form), lang)
				checkOutagePage(t, code, retry, body, lang)
			})
		}
	}
}

// The negative: with the store answering, a recovery code nobody issued is still "invalid or
// expired" (400), not an outage; the store being up again turns nothing into a 503.
func TestAnUnknownRecoveryCodeIsStillExpiredOnceTheStoreAnswers(t *testing.T) {
	fx := newFixture(t)
	fx.cut.Before(func(string, string) bool { return true })
	code, _, _ := fx.postFull(t, "/pin/lost/complete", url.Values{"code": {"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"}}, "en")
	if code != http.StatusServiceUnavailable {
		t.Fatalf("during the outage: %d", code)
	}
	fx.cut.Before(nil)
	code, retry, body := fx.postFull(t, "/pin/lost/complete", url.Values{"code": {"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"}}, "en")
	if code != http.StatusBadRequest || retry != "" || strings.Contains(body, "temporarily unavailable") {
		t.Fatalf("after the outage an unknown code answers %d (Retry-After %q):\n%s", code, retry, body)
	}
}

// A full verification budget (pin.ErrOverloaded) is not an outage of the store: a slot frees
// within a hash's time, so its page keeps the short Retry-After.
func TestOverloadKeepsItsShortRetryAfter(t *testing.T) {
	v := &view{}
	rw := httptest.NewRecorder()
	if !unavailable(rw, v, pin.ErrOverloaded) || v.Status != http.StatusServiceUnavailable || rw.Header().Get("Retry-After") != retryOverloaded {
		t.Fatalf("overload: status %d, Retry-After %q", v.Status, rw.Header().Get("Retry-After"))
	}
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// The operators' API answers a store outage as the broker's endpoints do: 503
// temporarily_unavailable with Retry-After, the cause in the log only; never a 500
// "internal error", which would send the operator to the help desk for a failover.
func TestTheOperatorsAPIAnswersAnOutageAsTemporarilyUnavailable(t *testing.T) {
	fx := newFixture(t)
	fx.cut.Before(func(string, string) bool { return true })
	req, _ := http.NewRequest(http.MethodGet, fx.srv.URL+"/admin/pin/show?fiscal_code="+pin.DevGiovannaFerrari, nil)
	req.Header.Set("Authorization", "Bearer "+ScopeContactCenter)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "30" ||
		!strings.Contains(string(body), `"error":"temporarily_unavailable"`) || strings.Contains(string(body), "storetest") {
		t.Fatalf("%d, Retry-After %q: %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
}
