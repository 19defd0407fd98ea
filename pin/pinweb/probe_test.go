package pinweb

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/inps/sportello/pin"
)

var refCode = regexp.MustCompile(`class="sp-ref">[0-9a-f]{16}<`)

// sameShape is a page with what differs by construction taken out: the fiscal code typed
// (echoed in its field) and the help desk's reference of the request.
func sameShape(body, cf string) string {
	return refCode.ReplaceAllString(strings.ReplaceAll(body, cf, "CF"), `class="sp-ref">REF<`)
}

// /pin/activate and /pin/request answer byte for byte the same whether the fiscal code has a
// PIN (awaiting activation or active) or none; the holder of a PIN is told on the registered
// contacts instead.
func TestActivateAndRequestDoNotTellWhoHasAPIN(t *testing.T) {
	const noPIN = "RCCMNL83S18D969H"
	t.Run("activation", func(t *testing.T) {
		fx := newFixture(t)
		var pages []string
		for _, cf := range []string{pin.DevSaraBruno, pin.DevGiovannaFerrari, noPIN} {
			code, body := fx.post(t, "/pin/activate", url.Values{"fiscal_code": {cf}, "hc_number": {"80380000000000000999"},
				"hc_expiry": {"2030-12-31"}}, "en")
			if code != 400 || !strings.Contains(body, "do not match a PIN awaiting activation") {
				t.Fatalf("%s: %d %s", cf, code, body)
			}
			pages = append(pages, sameShape(body, cf))
		}
		if pages[0] != pages[1] || pages[1] != pages[2] {
			t.Fatalf("the pages differ:\n%s\n----\n%s\n----\n%s", pages[0], pages[1], pages[2])
		}
		if told := notices(fx, "giovanna.ferrari@example.org"); told != 1 {
			t.Fatalf("Giovanna Ferrari got %d notices, want 1", told)
		}
	})
	t.Run("request", func(t *testing.T) {
		fx := newFixture(t)
		form := func(cf string) url.Values {
			return url.Values{"fiscal_code": {cf}, "given_name": {"Giovanna"}, "family_name": {"Ferrari"},
				"resident_abroad": {"1"}, "mobile": {"+54 11 5555 0000"}, "email": {"someone@example.net"},
				"residence": {"Calle Falsa 123, Buenos Aires"}, "birthdate": {"10/12/1955"}, "birth_place": {"Roma"}, "country": {"AR"}}
		}
		codeA, a := fx.post(t, "/pin/request", form(pin.DevGiovannaFerrari), "it")
		codeB, b := fx.post(t, "/pin/request", form(noPIN), "it")
		if codeA != codeB || a != b || !strings.Contains(a, "Richiesta ricevuta") {
			t.Fatalf("the answers differ:\n%d %s\n----\n%d %s", codeA, a, codeB, b)
		}
		if told := notices(fx, "giovanna.ferrari@example.org"); told != 1 {
			t.Fatalf("Giovanna Ferrari got %d notices, want 1", told)
		}
		// The contacts typed with the request hear nothing of the existing PIN: the one
		// message to that mobile is the first half of the new request's PIN.
		if got := notices(fx, "+541155550000"); got != 1 {
			t.Fatalf("the mobile typed got %d messages, want 1 (the new PIN's first half)", got)
		}
	})
}

// notices counts the messages sent to an address.
func notices(fx *fixture, to string) int {
	n := 0
	for _, m := range fx.outbox.Messages() {
		if m.To == to {
			n++
		}
	}
	return n
}
