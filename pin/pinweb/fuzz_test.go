package pinweb

import (
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var pinLike = regexp.MustCompile(`^[A-Za-z0-9]{8}$`)

// FuzzLoginForm posts arbitrary fiscal codes and PINs to the login form: the page always
// answers (no panic, no 5xx) and never echoes the PIN.
func FuzzLoginForm(f *testing.F) {
	f.Add("FRRGNN55T50Z600A", "A1B2C3D4")
	f.Add("frrgnn55t50z600a", "a1b2 c3d4")
	f.Add("<script>", "\x00\xff")
	f.Add(strings.Repeat("A", 200), strings.Repeat("9", 200))
	fx := newFixture(f)
	web, _ := New(fx.svc, Deps{CSRF: csrf{}})
	h := web.Handler(fx.fin)
	f.Fuzz(func(t *testing.T, cf, p string) {
		form := url.Values{"csrf": {"tok"}, "login": {"L1"}, "fiscal_code": {cf}, "pin": {p}}
		req := httptest.NewRequest("POST", "/pin/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d", rec.Code)
		}
		if pinLike.MatchString(p) && !strings.Contains(strings.ToUpper(cf), strings.ToUpper(p)) &&
			strings.Contains(strings.ToUpper(rec.Body.String()), strings.ToUpper(p)) {
			t.Fatal("the PIN was echoed")
		}
	})
}
