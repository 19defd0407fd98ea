package pinweb

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/inps/sportello/pin"
)

// lastMail is the body of the last e-mail the fixture's outbox kept.
func lastMail(fx *fixture) string {
	for _, m := range fx.outbox.Messages() { // newest first
		if m.Channel == "email" || m.Channel == "pec" {
			return m.Body
		}
	}
	return ""
}

// No PIN page is a dead end: the PIN form leads back to the chooser, an
// activation and a request lead to the sign-in, the PIN telefonico without a session offers it.
func TestPINPagesHaveAWayOn(t *testing.T) {
	fx := newFixture(t)
	_, body := fx.get(t, "/pin/login?login=L1", "it")
	if !strings.Contains(body, `href="/login/L1">Scegli un&#39;altra credenziale`) {
		t.Errorf("no way back to the chooser from the PIN form:\n%s", body)
	}
	_, body = fx.post(t, "/pin/activate", url.Values{"fiscal_code": {pin.DevSaraBruno}, "hc_number": {"80380000000000000001"}, "hc_expiry": {"31/12/2030"}}, "en")
	if !strings.Contains(body, `class="btn btn-primary" href="/accedi?next=">Sign in to the online services</a>`) {
		t.Errorf("no sign-in after the activation:\n%s", body)
	}
	_, body = fx.get(t, "/pin/phone", "it")
	if !strings.Contains(body, `href="/accedi?next=/pin/phone">Accedi con SPID, CIE o CNS</a>`) {
		t.Errorf("no sign-in on the PIN telefonico page without a session:\n%s", body)
	}
}

// The recovery link of the e-mail opens a page with the button while the code is good; a
// spent link says so and offers the procedure again, never a "Conferma" that can only fail.
func TestSpentRecoveryLinkOffersNoConfirmation(t *testing.T) {
	fx := newFixture(t)
	fx.post(t, "/pin/lost", url.Values{"fiscal_code": {pin.DevGiovannaFerrari}, "email": {"giovanna.ferrari@example.org"},
		"mobile": {"+390000000" + pin.DevGiovannaFerrari[13:15]}}, "it")
	link := regexp.MustCompile(`http://broker\.test(/pin/lost/complete\?code=[A-Z2-7]+)`).FindStringSubmatch(lastMail(fx))
	if link == nil {
		t.Fatalf("no recovery link in %q", lastMail(fx))
	}
	if strings.Contains(lastMail(fx), pin.DevGiovannaFerrari) {
		t.Fatal("the recovery e-mail carries the fiscal code")
	}
	_, body := fx.get(t, link[1], "it")
	if !strings.Contains(body, ">Conferma</button>") || strings.Contains(body, pin.DevGiovannaFerrari) {
		t.Fatalf("a good link: %s", body)
	}
	code, _ := url.ParseQuery(strings.SplitN(link[1], "?", 2)[1])
	if _, body := fx.post(t, "/pin/lost/complete", url.Values{"code": {code.Get("code")}}, "it"); !strings.Contains(body, "nuovo PIN è stato inviato") {
		t.Fatalf("confirmation: %s", body)
	}
	status, body := fx.get(t, link[1], "it")
	if status != http.StatusBadRequest || strings.Contains(body, "<button") || !strings.Contains(body, "già stato usato") ||
		!strings.Contains(body, `href="/pin/lost">Ripeti la procedura PIN smarrito`) {
		t.Fatalf("a spent link: %d %s", status, body)
	}
}
