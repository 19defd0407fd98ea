package main

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// consoleSignIn signs user in to the dev broker's console at SPID level through the dev IdP
// idp, as a browser would: /console/login, /authorize (with idp= to skip the chooser), the
// IdP's form, the ACS, the callback. It returns the callback's page.
func consoleSignIn(t *testing.T, c *http.Client, issuer, idp, user, level string) (int, string) {
	t.Helper()
	noFollow := *c
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noFollow.Get(issuer + "/console/login?next=/console/providers")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	authz := resp.Header.Get("Location")
	if !strings.HasPrefix(authz, issuer+"/authorize?") || !strings.Contains(authz, "acr_values=https%3A%2F%2Fwww.spid.gov.it%2FSpidL3") {
		t.Fatalf("console login goes to %q", authz)
	}
	page, err := c.Get(authz + "&idp=" + url.QueryEscape(issuer+"/dev/spid/"+idp))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		body, _ := io.ReadAll(page.Body)
		page.Body = io.NopCloser(strings.NewReader(string(body)))
		if strings.Contains(string(body), `name="username"`) {
			break
		}
		page = submit(t, c, page, nil)
	}
	acs := submit(t, c, page, url.Values{"username": {user}, "password": {"test-password"}, "level": {level}, "action": {"login"}})
	done := submit(t, c, acs, nil) // the SAML response to the ACS; then the redirects to the callback
	body, _ := io.ReadAll(done.Body)
	done.Body.Close()
	return done.StatusCode, string(body)
}

// consoleCardSignIn signs in to the console with a CIE or CNS certificate (idp=cie/cns).
func consoleCardSignIn(t *testing.T, c *http.Client, issuer, idp string) (int, string) {
	t.Helper()
	noFollow := *c
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noFollow.Get(issuer + "/console/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	done, err := c.Get(resp.Header.Get("Location") + "&idp=" + idp)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(done.Body)
	done.Body.Close()
	return done.StatusCode, string(body)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func TestDevModeConsoleSignInAndSwitch(t *testing.T) {
	issuer, _ := devBroker(t, "--audit-stderr=false") // the audit page searches the trail's file
	const elena, paolo, laura = "CNTLNE75E52L736Y", "FRNPLA78H14F839N", "BNCLRA85M41F205C"

	t.Run("a person without the entitlement is refused", func(t *testing.T) {
		st, body := consoleSignIn(t, client(t, "", ""), issuer, "demo", laura, "3")
		if st != http.StatusForbidden || !strings.Contains(body, `data-key="not_operator"`) {
			t.Fatalf("Laura Bianchi at the console: %d %.400s", st, body)
		}
	})
	t.Run("an operator below SpidL3 is refused", func(t *testing.T) {
		st, body := consoleSignIn(t, client(t, "", ""), issuer, "demo", elena, "2")
		if st == http.StatusOK && strings.Contains(body, `data-key="signed_in"`) {
			t.Fatalf("an L2 answer opened a console session")
		}
	})
	t.Run("the operator signs in with her CIE certificate", func(t *testing.T) {
		c := client(t, "../../testdata/pki/elena-conti-cie.crt", "../../testdata/pki/elena-conti-cie.key")
		if st, body := consoleCardSignIn(t, c, issuer, "cie"); st != http.StatusOK || !strings.Contains(body, `data-key="signed_in"`) {
			t.Fatalf("Elena Conti's CIE sign-in: %d %.600s", st, body)
		}
		resp, _ := c.Get(issuer + "/console/")
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), elena) {
			t.Fatalf("overview after the CIE sign-in: %d", resp.StatusCode)
		}
	})
	t.Run("a citizen's CNS certificate is refused", func(t *testing.T) {
		c := client(t, "../../testdata/pki/giuseppe-verdi-cns.crt", "../../testdata/pki/giuseppe-verdi-cns.key")
		if st, body := consoleCardSignIn(t, c, issuer, "cns"); st != http.StatusForbidden || !strings.Contains(body, `data-key="not_operator"`) {
			t.Fatalf("Giuseppe Verdi's CNS sign-in: %d %.600s", st, body)
		}
	})
	t.Run("the read-only operator changes nothing", func(t *testing.T) {
		c := client(t, "", "")
		if st, body := consoleSignIn(t, c, issuer, "demo", paolo, "3"); st != http.StatusOK || !strings.Contains(body, `data-key="signed_in"`) {
			t.Fatalf("Paolo Franco's sign-in: %d %.400s", st, body)
		}
		resp, _ := c.Get(issuer + "/console/providers")
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := csrfField.FindStringSubmatch(string(body))
		if resp.StatusCode != http.StatusOK || m == nil || strings.Contains(string(body), `action="/console/confirm"`) {
			t.Fatalf("read-only providers page: %d", resp.StatusCode)
		}
		post, _ := c.PostForm(issuer+"/console/apply", url.Values{"csrf": {m[1]}, "action": {"rotate_keys"}})
		post.Body.Close()
		if post.StatusCode != http.StatusForbidden {
			t.Fatalf("a read-only operator's change: %d, want 403", post.StatusCode)
		}
	})
	t.Run("the admin switches an IdP off and a citizen's login through it is refused", func(t *testing.T) {
		c := client(t, "", "")
		if st, body := consoleSignIn(t, c, issuer, "test", elena, "3"); st != http.StatusOK || !strings.Contains(body, `data-key="signed_in"`) {
			t.Fatalf("Elena Conti's sign-in: %d %.400s", st, body)
		}
		resp, _ := c.Get(issuer + "/console/providers")
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		idp := issuer + "/dev/spid/demo"
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `data-id="`+idp+`"`) {
			t.Fatalf("providers page: %d %.600s", resp.StatusCode, body)
		}
		csrf := csrfField.FindStringSubmatch(string(body))[1]
		form := url.Values{"csrf": {csrf}, "action": {"switch"}, "kind": {"idp"}, "id": {idp}, "state": {"off"}, "reason": {"console test"}}
		if r, _ := c.PostForm(issuer+"/console/confirm", form); r.StatusCode != http.StatusOK {
			t.Fatalf("confirm: %d", r.StatusCode)
		}
		r, _ := c.PostForm(issuer+"/console/apply", form)
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != http.StatusOK || !strings.Contains(string(b), `id="change-done"`) {
			t.Fatalf("apply: %d %.600s", r.StatusCode, b)
		}
		// Mario Rossi's login through the switched-off IdP: the suspension page, no IdP form.
		citizen, err := client(t, "", "").Get(authURL(issuer, idp, "https://www.spid.gov.it/SpidL2", "verifier-verifier-verifier-verifier-verifier"))
		if err != nil {
			t.Fatal(err)
		}
		cb, _ := io.ReadAll(citizen.Body)
		citizen.Body.Close()
		if strings.Contains(string(cb), `name="SAMLRequest"`) || !strings.Contains(string(cb), "sospeso temporaneamente per motivi di sicurezza") {
			t.Fatalf("a login through the switched-off IdP: %d %.300s", citizen.StatusCode, cb)
		}
		form.Set("state", "on")
		form.Del("reason")
		if r, _ := c.PostForm(issuer+"/console/apply", form); r.StatusCode != http.StatusOK {
			t.Fatalf("switch back on: %d", r.StatusCode)
		}
		resp, _ = c.Get(issuer + "/console/audit?type=console.switch")
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if n := strings.Count(string(body), `class="audit-record" data-type="console.switch"`); resp.StatusCode != http.StatusOK || n != 2 {
			t.Errorf("audit page: %d with %d console.switch records, want 2", resp.StatusCode, n)
		}
	})
	t.Run("revoking an operator ends their console session too", func(t *testing.T) {
		c := client(t, "", "")
		if st, body := consoleSignIn(t, c, issuer, "demo", paolo, "3"); st != http.StatusOK || !strings.Contains(body, `data-key="signed_in"`) {
			t.Fatalf("Paolo Franco's sign-in: %d %.400s", st, body)
		}
		if resp, err := c.Get(issuer + "/console/"); err != nil || resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/console/" {
			t.Fatalf("the overview before the revocation: %v %v", resp, err)
		} else {
			resp.Body.Close()
		}
		admin := serviceToken(t, issuer, "demo-operator", "demo-operator-secret", "console:read console:admin")
		if st, out := consoleCall(t, "POST", issuer+"/console/api/actions/revoke-person", admin, `{"fiscal_code":"`+paolo+`"}`); st != http.StatusOK {
			t.Fatalf("revoke-person: %d %v", st, out)
		}
		resp, err := c.Get(issuer + "/console/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Request.URL.Path == "/console/" && resp.StatusCode == http.StatusOK {
			t.Fatal("a revoked operator's console session still opens the overview")
		}
	})
}
