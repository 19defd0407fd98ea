package web_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// step is one request of the walk and what its answer must be.
type step struct {
	name   string
	method string
	url    func() string
	form   func() url.Values
	status int
	// after runs on the answer (to pick up the next URL or a form token).
	after func(t *testing.T, resp *http.Response, body string)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// TestEveryPageIsServedSecurely walks a real sportello dev process through every kind of page
// (chooser in both languages, provider start, PIN form and its errors, SAML POST form, error
// pages on both listeners, logout page, static files) and checks the security headers and the
// cookie attributes of each answer, and that a form post without the CSRF token is refused.
func TestEveryPageIsServedSecurely(t *testing.T) {
	s := startDev(t)
	c := newClient()
	var loginURL, pinURL, csrf, spidHint, mtlsStep string
	auth := s.URL + "/authorize?" + url.Values{"client_id": {"demo-rp"}, "redirect_uri": {"http://127.0.0.1:9000/callback"},
		"response_type": {"code"}, "scope": {"openid profile fiscal_number"}, "state": {"state-123456"}, "nonce": {"nonce-123456"},
		"acr_values": {"https://www.spid.gov.it/SpidL2"}}.Encode()
	steps := []step{
		{name: "authorize redirects to the chooser", method: "GET", url: func() string { return auth }, status: http.StatusFound,
			after: func(t *testing.T, resp *http.Response, _ string) { loginURL = resp.Header.Get("Location") }},
		{name: "chooser in Italian", method: "GET", url: func() string { return loginURL }, status: 200,
			after: func(t *testing.T, _ *http.Response, body string) {
				body = waitForIdPs(t, c, loginURL, body)
				mustContain(t, body, `lang="it"`, "Entra con SPID", "Solo per i residenti all", "Vai al contenuto")
				m := regexp.MustCompile(`/spid\?hint=([^"]+)"`).FindStringSubmatch(body)
				if m == nil {
					t.Fatal("no SPID identity provider in the chooser")
				}
				spidHint = strings.ReplaceAll(m[1], "&amp;", "&")
			}},
		{name: "chooser in English through the switch", method: "GET", url: func() string { return loginURL + "?lang=en" }, status: 200,
			after: func(t *testing.T, resp *http.Response, body string) {
				mustContain(t, body, `lang="en"`, "Sign in with SPID", "Skip to content", `hreflang="it"`)
				if cookie(resp, "sportello_lang") == nil {
					t.Fatal("the language chosen is not remembered")
				}
			}},
		{name: "PIN start keeps the language", method: "GET", url: func() string { return loginURL + "/pin" }, status: http.StatusFound,
			after: func(t *testing.T, resp *http.Response, _ string) { pinURL = resp.Header.Get("Location") }},
		{name: "PIN form", method: "GET", url: func() string { return abs(s.URL, pinURL) }, status: 200,
			after: func(t *testing.T, _ *http.Response, body string) {
				mustContain(t, body, `lang="en"`, `for="f-fiscal_code"`, `aria-describedby="f-fiscal_code-hint"`)
				m := csrfField.FindStringSubmatch(body)
				if m == nil {
					t.Fatal("the PIN form has no CSRF token")
				}
				csrf = m[1]
			}},
		{name: "PIN post without the CSRF token is refused", method: "POST", url: func() string { return s.URL + "/pin/login" },
			form: func() url.Values {
				return url.Values{"login": {loginID(pinURL)}, "fiscal_code": {"FRRGNN55T50Z600A"}, "pin": {"A1B2C3D4"}}
			}, status: http.StatusForbidden},
		{name: "PIN post with a forged CSRF token is refused", method: "POST", url: func() string { return s.URL + "/pin/login" },
			form: func() url.Values {
				return url.Values{"login": {loginID(pinURL)}, "csrf": {"forged"}, "fiscal_code": {"FRRGNN55T50Z600A"}, "pin": {"A1B2C3D4"}}
			}, status: http.StatusForbidden},
		{name: "wrong PIN: the error is tied to the fields", method: "POST", url: func() string { return s.URL + "/pin/login" },
			form: func() url.Values {
				return url.Values{"login": {loginID(pinURL)}, "csrf": {csrf}, "fiscal_code": {"CLMMRC70B10G273W"}, "pin": {"WRONG999"}}
			}, status: 200,
			after: func(t *testing.T, _ *http.Response, body string) {
				mustContain(t, body, `role="alert" id="form-error"`, `aria-describedby="f-fiscal_code-hint form-error"`, `aria-invalid="true"`)
			}},
		{name: "delegation answer without the CSRF token is refused", method: "POST", url: func() string { return s.URL + "/login/act" },
			form: func() url.Values { return url.Values{"login": {"x"}, "act_for": {"self"}} }, status: http.StatusForbidden},
		{name: "SAML start", method: "GET", url: func() string { return loginURL + "/spid?hint=" + spidHint }, status: -1},
		{name: "unknown login: error page with a reference", method: "GET", url: func() string { return s.URL + "/login/does-not-exist" }, status: 400,
			after: func(t *testing.T, _ *http.Response, body string) {
				mustContain(t, body, `class="sp-ref"`, "What you can do")
			}},
		{name: "CIE start sends the browser to the certificate listener", method: "GET", url: func() string { return loginURL + "/cie" }, status: http.StatusFound,
			after: func(t *testing.T, resp *http.Response, _ string) { mtlsStep = resp.Header.Get("Location") }},
		{name: "certificate listener without a certificate: no page there, a redirect to the issuer origin", method: "GET",
			url: func() string { return mtlsStep }, status: http.StatusSeeOther,
			after: func(t *testing.T, resp *http.Response, _ string) { mtlsStep = resp.Header.Get("Location") }},
		{name: "the certificate refusal on the issuer origin", method: "GET", url: func() string { return mtlsStep }, status: http.StatusBadRequest,
			after: func(t *testing.T, resp *http.Response, body string) {
				if !strings.HasPrefix(resp.Request.URL.String(), s.URL+"/login/error?ref=") {
					t.Fatalf("the refusal is shown at %s", resp.Request.URL)
				}
				mustContain(t, body, "did not present a certificate") // in English: the language switched to above
			}},
		{name: "logged out page", method: "GET", url: func() string { return s.URL + "/logged-out" }, status: 200},
		{name: "static file", method: "GET", url: func() string { return s.URL + "/static/" + versionOf(t, c, s) + "/css/sportello.css" }, status: 200,
			after: func(t *testing.T, resp *http.Response, _ string) {
				if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
					t.Fatalf("static Cache-Control = %q", cc)
				}
			}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			var resp *http.Response
			var err error
			if st.method == "POST" {
				resp, err = c.PostForm(st.url(), st.form())
			} else {
				resp, err = c.Get(st.url())
			}
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body := string(b)
			if st.status > 0 && resp.StatusCode != st.status {
				t.Fatalf("status %d, want %d: %.600s", resp.StatusCode, st.status, body)
			}
			checkHeaders(t, resp, body)
			if st.after != nil {
				st.after(t, resp, body)
			}
		})
	}
}

// checkHeaders enforces the rules of every answer: a CSP without unsafe-inline that forbids
// framing, no referrer, no sniffing, no HSTS on the dev http listener, no caching of pages,
// cookies HttpOnly + SameSite=Lax (Secure is off only in dev), and pages without inline
// script or style.
func checkHeaders(t *testing.T, resp *http.Response, body string) {
	t.Helper()
	h := resp.Header
	csp := h.Get("Content-Security-Policy")
	if csp == "" || strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
	if got := h.Get("Referrer-Policy"); got != "no-referrer" {
		t.Errorf("Referrer-Policy = %q", got)
	}
	if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q", got)
	}
	if resp.Request.URL.Scheme == "http" && h.Get("Strict-Transport-Security") != "" {
		t.Errorf("HSTS on plain http in dev mode")
	}
	for _, ck := range resp.Cookies() {
		if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" {
			t.Errorf("cookie %s: HttpOnly=%v SameSite=%v Path=%q", ck.Name, ck.HttpOnly, ck.SameSite, ck.Path)
		}
	}
	if strings.HasPrefix(h.Get("Content-Type"), "text/html") && (resp.StatusCode < 300 || resp.StatusCode >= 400) {
		if cc := h.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
			t.Errorf("page Cache-Control = %q", cc)
		}
		for _, bad := range []string{"<style", " style=", "<script>", "javascript:", " onload=", " onclick="} {
			if strings.Contains(body, bad) {
				t.Errorf("page has inline code %q", bad)
			}
		}
		mustContain(t, body, "<html lang=", "<title>", `href="#main"`, `id="main"`)
	}
}

func mustContain(t *testing.T, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("page lacks %q", w)
		}
	}
}

func cookie(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func abs(base, ref string) string {
	if strings.HasPrefix(ref, "http") {
		return ref
	}
	return base + ref
}

// loginID is the pending login's id in a /login/<id> or /pin/login?login=<id> URL.
func loginID(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	if id := p.Query().Get("login"); id != "" {
		return id
	}
	return strings.TrimPrefix(p.Path, "/login/")
}

// versionOf reads the asset version from a page of the server.
func versionOf(t *testing.T, c *http.Client, s *devServer) string {
	resp, err := c.Get(s.URL + "/logged-out")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`/static/([0-9a-f]+)/`).FindSubmatch(b)
	if m == nil {
		t.Fatal("no asset URL in the page")
	}
	return string(m[1])
}

// waitForIdPs reloads the chooser until the SPID identity providers are listed: the dev IdPs'
// metadata is first fetched before the listener is up, then retried.
func waitForIdPs(t *testing.T, c *http.Client, u, body string) string {
	t.Helper()
	for i := 0; i < 100 && !strings.Contains(body, "/spid?hint="); i++ {
		time.Sleep(200 * time.Millisecond)
		resp, err := c.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(b)
	}
	return body
}
