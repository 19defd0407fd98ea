package pinweb

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/inps/sportello/pin"
)

// inputOf is the <input> of the field name in a page.
func inputOf(t *testing.T, body, name string) string {
	t.Helper()
	m := regexp.MustCompile(`<input[^>]* id="f-` + name + `"[^>]*>`).FindString(body)
	if m == "" {
		t.Fatalf("no field %s in:\n%s", name, body)
	}
	return m
}

// A refused PIN request names each mistake at its field: own message,
// aria-invalid and aria-describedby on that field only, a summary with links, what was typed
// kept, required and optional fields marked; dates are asked and accepted as gg/mm/aaaa.
func TestRequestFormShowsEachErrorAtItsField(t *testing.T) {
	fx := newFixture(t)
	form := url.Values{"fiscal_code": {"RSSMRA80A01H501X"}, "given_name": {"Mario"}, "family_name": {""}, "birthdate": {"31/02/1980"},
		"birth_place": {"Roma"}, "residence": {"Calle 1, Madrid"}, "country": {"ES"}, "email": {"mario.example.org"}, "resident_abroad": {"1"}}
	status, body := fx.post(t, "/pin/request", form, "it")
	if status != http.StatusBadRequest || !strings.Contains(body, "correggi i campi indicati") {
		t.Fatalf("%d %s", status, body)
	}
	for name, msg := range map[string]string{"fiscal_code": "non torna", "family_name": "Compila questo campo", "birthdate": "gg/mm/aaaa",
		"email": "nome@dominio.it"} {
		in := inputOf(t, body, name)
		if !strings.Contains(in, `aria-invalid="true"`) || !strings.Contains(in, `f-`+name+`-error`) {
			t.Errorf("%s not marked with its own error: %s", name, in)
		}
		if !regexp.MustCompile(`id="f-` + name + `-error"[^>]*>.*` + regexp.QuoteMeta(msg)).MatchString(body) {
			t.Errorf("%s lacks %q", name, msg)
		}
		if !strings.Contains(body, `<a href="#f-`+name+`">`) {
			t.Errorf("the summary does not link to %s", name)
		}
	}
	for _, name := range []string{"given_name", "birth_place", "mobile", "pec"} {
		if in := inputOf(t, body, name); strings.Contains(in, "aria-invalid") {
			t.Errorf("%s is fine but marked invalid: %s", name, in)
		}
	}
	if !strings.Contains(inputOf(t, body, "given_name"), `value="Mario"`) || !strings.Contains(inputOf(t, body, "birthdate"), `value="31/02/1980"`) ||
		!strings.Contains(body, `name="resident_abroad" value="1" checked`) {
		t.Error("what was typed is not kept")
	}
	if !regexp.MustCompile(`for="f-given_name">Nome <span class="sp-need">\(obbligatorio\)`).MatchString(body) ||
		!regexp.MustCompile(`for="f-pec">PEC <span class="sp-need">\(facoltativo\)`).MatchString(body) {
		t.Error("required and optional fields are not marked")
	}
	if strings.Contains(body, "AAAA-MM-GG") || !strings.Contains(body, "gg/mm/aaaa") {
		t.Error("dates are still asked in ISO form")
	}

	// Corrected: the request goes through, with the date of birth written gg/mm/aaaa.
	form.Set("fiscal_code", "RSSMRA80A01H501U")
	form.Set("family_name", "Rossi")
	form.Set("birthdate", "01/01/1980")
	form.Set("email", "mario@example.org")
	if _, body := fx.post(t, "/pin/request", form, "it"); !strings.Contains(body, "Richiesta ricevuta") {
		t.Fatalf("valid request: %s", body)
	}
}

// A form's rule across fields is said where it applies: one of mobile and e-mail for a PIN
// request, two of the three contacts for a lost PIN.
func TestCrossFieldRulesAreExplained(t *testing.T) {
	fx := newFixture(t)
	_, body := fx.post(t, "/pin/request", url.Values{"fiscal_code": {"RSSMRA80A01H501U"}, "given_name": {"Mario"}, "family_name": {"Rossi"},
		"birthdate": {"1/1/1980"}, "birth_place": {"Roma"}, "residence": {"Calle 1"}, "country": {"ES"}}, "en")
	if !strings.Contains(inputOf(t, body, "mobile"), `aria-invalid="true"`) || !strings.Contains(body, "Give a mobile number or an e-mail address") {
		t.Fatalf("mobile or e-mail: %s", body)
	}
	status, body := fx.post(t, "/pin/lost", url.Values{"fiscal_code": {pin.DevGiovannaFerrari}, "email": {"giovanna.ferrari@example.org"}}, "en")
	if status != http.StatusBadRequest || !strings.Contains(body, "at least two of your three registered contacts") ||
		!strings.Contains(inputOf(t, body, "mobile"), `aria-describedby="form-error"`) || strings.Contains(inputOf(t, body, "email"), "aria-invalid") {
		t.Fatalf("two contacts: %d %s", status, body)
	}
}

// A wrong PIN is about the fiscal code and the PIN together: those two fields point at the
// form's error, nothing else is marked.
func TestWrongPINMarksTheCredentialFieldsOnly(t *testing.T) {
	fx := newFixture(t)
	_, body := fx.post(t, "/pin/login", url.Values{"login": {"L1"}, "fiscal_code": {pin.DevGiovannaFerrari}, "pin": {"WRONG123"}}, "it")
	for _, name := range []string{"fiscal_code", "pin"} {
		in := inputOf(t, body, name)
		if !strings.Contains(in, `aria-invalid="true"`) || !strings.Contains(in, "form-error") {
			t.Errorf("%s: %s", name, in)
		}
	}
	if strings.Contains(body, `class="sp-error-summary"`) {
		t.Error("a wrong PIN is no field-by-field mistake")
	}
	// A PIN of the wrong shape is said at the PIN field, before any attempt is counted.
	_, body = fx.post(t, "/pin/login", url.Values{"login": {"L1"}, "fiscal_code": {pin.DevMarcoColombo}, "pin": {"12"}}, "it")
	if !strings.Contains(body, `id="f-pin-error"`) || strings.Contains(inputOf(t, body, "fiscal_code"), "aria-invalid") {
		t.Fatalf("%s", body)
	}
	if _, body := fx.post(t, "/pin/login", url.Values{"login": {"L1"}, "fiscal_code": {pin.DevMarcoColombo}, "pin": {"Z9Y8X7W6"}}, "it"); body != "FINISHED L1" {
		t.Fatalf("a malformed PIN counted as a wrong attempt: %s", body)
	}
}

// The health card expiry is typed gg/mm/aaaa and matched against the stored day.
func TestActivationTakesTheItalianDate(t *testing.T) {
	fx := newFixture(t)
	_, body := fx.post(t, "/pin/activate", url.Values{"fiscal_code": {pin.DevSaraBruno}, "hc_number": {"80380000000000000001"}, "hc_expiry": {"31/12/2030"}}, "en")
	if !strings.Contains(body, "Your PIN is active") {
		t.Fatalf("%s", body)
	}
}

// A page asked with another method is a layout page with Allow.
func TestWrongMethodIsALayoutPage(t *testing.T) {
	fx := newFixture(t)
	req, _ := http.NewRequest(http.MethodDelete, fx.srv.URL+"/pin/login", nil)
	req.Header.Set("Accept-Language", "en")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, POST" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("%d %v", resp.StatusCode, resp.Header)
	}
}
