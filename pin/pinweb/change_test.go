package pinweb

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/inps/sportello/internal/store/storetest"
	"github.com/inps/sportello/pin"
)

// The first-access and renewal pages list the new-PIN rules before the fields, in Italian
// and English, and each refusal names the rule broken.
func TestChangePagesStateTheRules(t *testing.T) {
	fx := newFixture(t)
	rules := map[string][]string{
		"it": {"esattamente 8 caratteri", "mai lo stesso carattere 3 volte di seguito", "nessuna sequenza di 4 o più caratteri",
			"nessuna parte del codice fiscale", "la data di nascita", "ultimi 5 PIN"},
		"en": {"exactly 8 characters", "never the same character 3 times in a row", "no 4 or more characters in ascending",
			"no part of your fiscal code", "date of birth", "last 5 PINs"},
	}
	for _, path := range []string{"/pin/first-access", "/pin/renew"} {
		for lang, want := range rules {
			_, body := fx.get(t, path+"?lang="+lang, lang)
			list, field := strings.Index(body, `<ul id="form-list">`), strings.Index(body, `name="new_pin"`)
			if list < 0 || field < 0 || list > field {
				t.Fatalf("%s %s: the rules are not listed before the fields:\n%s", path, lang, body)
			}
			for _, w := range want {
				if i := strings.Index(html.UnescapeString(body), w); i < 0 {
					t.Fatalf("%s %s: rule %q missing", path, lang, w)
				}
			}
		}
	}
	refusals := []struct{ pin, want string }{
		{"11111111", "may not have the same character 3 or more times in a row"},
		{"K1234P9Q", "may not hold 4 or more characters in sequence"},
		{"K7ESP9Q4", "may not hold parts of your fiscal code"},
		{"K1990P4Q", "may not hold your date of birth"},
	}
	for _, tt := range refusals {
		form := url.Values{"login": {"L9"}, "fiscal_code": {pin.DevLuciaEsposito}, "current_pin": {"1A2B3C4D5E6F7089"},
			"new_pin": {tt.pin}, "new_pin2": {tt.pin}}
		if _, body := fx.post(t, "/pin/first-access", form, "en"); !strings.Contains(body, tt.want) {
			t.Fatalf("%s: no %q in\n%s", tt.pin, tt.want, body)
		}
	}
}

// A first access whose new PIN was saved but whose answer was lost shows "try again"; the
// same form sent again from the same browser finishes the login, and no wrong PIN is counted.
func TestFirstAccessRetriedAfterALostAnswer(t *testing.T) {
	fx := newFixture(t)
	form := url.Values{"login": {"L9"}, "fiscal_code": {pin.DevLuciaEsposito}, "current_pin": {"1A2B3C4D5E6F7089"},
		"new_pin": {"Q7W8E9R0"}, "new_pin2": {"Q7W8E9R0"}}
	fx.cut.After(storetest.Once("CompareAndSwap", "pin:{"+pin.DevLuciaEsposito+"}:rec"))
	code, body := fx.post(t, "/pin/first-access", form, "en")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "The service is temporarily unavailable") {
		t.Fatalf("lost answer: %d %s", code, body)
	}
	fx.clock.Advance(20 * time.Second)
	if _, body := fx.post(t, "/pin/first-access", form, "en"); body != "FINISHED L9" {
		t.Fatalf("the retry of a saved change: %s", body)
	}
	if until, _ := fx.svc.LockedUntil(t.Context(), pin.DevLuciaEsposito); !until.IsZero() {
		t.Fatalf("the retry locked the account until %v", until)
	}
}
