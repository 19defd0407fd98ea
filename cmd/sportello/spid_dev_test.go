package main

import (
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/inps/sportello/providers/spid/devidp"

	"golang.org/x/oauth2"
)

// spidLogin drives a SPID login through a dev IdP: authorize with the idp hint, the IdP's form
// (both bindings: demo is HTTP-Redirect, test HTTP-POST, whose auto-submitting form the client
// posts as a browser without JavaScript would), then the HTTP-POST response back to the ACS.
func spidLogin(t *testing.T, issuer, idp, acr, level, action string) (*http.Response, string) {
	t.Helper()
	return spidLoginAs(t, client(t, "", ""), issuer, idp, acr, level, action, "RSSMRA80A01H501U")
}

func spidLoginAs(t *testing.T, c *http.Client, issuer, idp, acr, level, action, user string) (*http.Response, string) {
	t.Helper()
	v := oauth2.GenerateVerifier()
	resp, err := c.Get(authURL(issuer, issuer+"/dev/spid/"+idp, acr, v))
	if err != nil {
		t.Fatal(err)
	}
	page := resp
	for i := 0; i < 3; i++ {
		body, _ := io.ReadAll(page.Body)
		page.Body = io.NopCloser(strings.NewReader(string(body)))
		if strings.Contains(string(body), `name="username"`) {
			break
		}
		if !strings.Contains(string(body), `name="SAMLRequest"`) {
			t.Fatalf("neither the IdP form nor a SAML POST form: %d %.300s", page.StatusCode, body)
		}
		page = submit(t, c, page, nil) // the HTTP-POST binding's auto-submitting form
	}
	resp = submit(t, c, page, url.Values{"username": {user}, "password": {"test-password"}, "level": {level}, "action": {action}})
	// The IdP answers with an auto-submitting form carrying SAMLResponse to the broker's ACS.
	return submit(t, c, resp, nil), v
}

func TestDevModeSPID(t *testing.T) {
	issuer, _ := devBroker(t)
	for _, idp := range []string{"demo", "test"} {
		for _, level := range []string{"1", "2", "3"} {
			t.Run(idp+" at L"+level, func(t *testing.T) {
				acr := "https://www.spid.gov.it/SpidL" + level
				resp, v := spidLogin(t, issuer, idp, acr, level, "login")
				claims := tokenClaims(t, issuer, callbackCode(t, resp), v)
				if claims["acr"] != acr || claims["auth_method"] != "spid" || claims["fiscal_number"] != "RSSMRA80A01H501U" ||
					claims["spid_idp"] != issuer+"/dev/spid/"+idp || claims["family_name"] != "Rossi" || len(toStrings(claims["amr"])) == 0 {
					t.Fatalf("claims = %v", claims)
				}
				if level != "1" && !slices.Contains(toStrings(claims["amr"]), "mfa") {
					t.Errorf("amr of L%s lacks mfa: %v", level, claims["amr"])
				}
			})
		}
	}
	t.Run("L2 asked, answered at L1: refused", func(t *testing.T) {
		resp, _ := spidLogin(t, issuer, "demo", "https://www.spid.gov.it/SpidL2", "1", "login")
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.Header.Get("Location") != "" || !strings.Contains(string(body), "unmet_authentication_requirements") {
			t.Fatalf("an L1 answer passed an L2 request: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
	t.Run("cancelled login: access_denied to the relying party", func(t *testing.T) {
		resp, _ := spidLogin(t, issuer, "test", "https://www.spid.gov.it/SpidL2", "2", "cancel")
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if loc == nil || loc.Port() != "9000" || loc.Query().Get("error") != "access_denied" {
			t.Fatalf("cancel: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
}

// Laura Bianchi logs in with SPID and acts for Giuseppe Verdi (the dev delegation).
func TestDevModeDelegation(t *testing.T) {
	issuer, _ := devBroker(t)
	c := client(t, "", "")
	question, v := spidLoginAs(t, c, issuer, "demo", "https://www.spid.gov.it/SpidL2", "2", "login", "BNCLRA85M41F205C")
	if question.StatusCode != http.StatusOK {
		t.Fatalf("no delegation question: %d %s", question.StatusCode, question.Header.Get("Location"))
	}
	claims := tokenClaims(t, issuer, callbackCode(t, submit(t, c, question, url.Values{"act_for": {"VRDGPP40C15L219U"}})), v)
	act, _ := claims["act"].(map[string]any)
	if claims["fiscal_number"] != "VRDGPP40C15L219U" || act["fiscal_number"] != "BNCLRA85M41F205C" || act["delegation"] == nil ||
		claims["acr"] != "https://www.spid.gov.it/SpidL2" {
		t.Fatalf("claims = %v", claims)
	}
}

// The chooser's SPID button lists every configured identity provider (the dev set) and ends
// with AgID's two links, in the page's language.
func TestDevModeChooserListsEveryIdP(t *testing.T) {
	issuer, _ := devBroker(t)
	c := client(t, "", "")
	var body string
	for i := 0; i < 50; i++ { // the dev IdPs' metadata is first fetched as the listener comes up
		resp, err := c.Get(authURL(issuer, "", "https://www.spid.gov.it/SpidL2", "v0123456789v0123456789v0123456789v0123456789"))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(b)
		if strings.Contains(body, "?hint=") {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, name := range devidp.DevNames {
		display := "SPID " + strings.ToUpper(name[:1]) + name[1:] + " (dev)"
		if !strings.Contains(body, ">"+display+"</a>") {
			t.Errorf("identity provider %q missing from the chooser", display)
		}
	}
	for _, link := range []string{`href="https://www.spid.gov.it/">Maggiori informazioni su SPID</a>`, `href="https://www.spid.gov.it/cittadini/">Non hai SPID?</a>`} {
		if !strings.Contains(body, link) {
			t.Errorf("AgID link missing: %s", link)
		}
	}
	if t.Failed() {
		t.Logf("chooser:\n%s", body)
	}
}
