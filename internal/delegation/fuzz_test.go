package delegation

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzRegisterForm posts arbitrary citizens' forms: the page never fails with a server
// error, and whatever it accepts is a valid delegation with the session's person as delegator.
func FuzzRegisterForm(f *testing.F) {
	f.Add("CNTCHR83T41D969D", "Chiara", "Conti", "chiara@example.it", "2027-01-31")
	f.Add("cntchr83t41d969d", "", "", "", "")
	f.Add("RSSMRA80A01H501U", "<script>", "\"'", "x", "2020-02-30")
	f.Add("CNTCHR83T41D969X", "a", "b", "c", "9999-12-31")
	f.Fuzz(func(t *testing.T, cf, given, family, email, end string) {
		fx := newWebFixture(t)
		fx.session = rossi
		h := fx.srv.Config.Handler
		body := url.Values{"csrf": {"tok"}, "fiscal_code": {cf}, "given_name": {given}, "family_name": {family}, "email": {email}, "end": {end}}
		req := httptest.NewRequest("POST", "/deleghe/register", strings.NewReader(body.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d", rec.Code)
		}
		given2, err := fx.reg.Given(ctx, rossi.FiscalNumber)
		if err != nil {
			t.Fatal(err)
		}
		if (rec.Code == http.StatusOK) != (len(given2) == 1) {
			t.Fatalf("status %d with %d delegations", rec.Code, len(given2))
		}
		if rec.Code == http.StatusOK && strings.Contains(rec.Body.String(), "<script>") {
			t.Fatal("unescaped input in the page")
		}
	})
}
