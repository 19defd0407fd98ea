package main

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/base64"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/inps/sportello/providers/spid/devidp"

	"github.com/coreos/go-oidc/v3/oidc"
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
	page, v := spidToACS(t, c, issuer, idp, acr, level, action, user)
	return submit(t, c, page, nil), v
}

// spidLoginHint logs in at the dev IdP that /authorize's idp=hint selects.
func spidLoginHint(t *testing.T, c *http.Client, issuer, hint, acr, level, action, user string) (*http.Response, string) {
	t.Helper()
	page, v := spidToACSHint(t, c, issuer, hint, acr, level, action, user)
	return submit(t, c, page, nil), v
}

// spidToACS is spidLoginAs up to the IdP's answer: the auto-submitting form that carries the
// SAMLResponse to the broker's ACS, not yet posted.
func spidToACS(t *testing.T, c *http.Client, issuer, idp, acr, level, action, user string) (*http.Response, string) {
	t.Helper()
	return spidToACSHint(t, c, issuer, issuer+"/dev/spid/"+idp, acr, level, action, user)
}

func spidToACSHint(t *testing.T, c *http.Client, issuer, hint, acr, level, action, user string) (*http.Response, string) {
	t.Helper()
	v := oauth2.GenerateVerifier()
	resp, err := c.Get(authURL(issuer, hint, acr, v))
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
	// The IdP answers with an auto-submitting form carrying SAMLResponse to the broker's ACS.
	return submit(t, c, page, url.Values{"username": {user}, "password": {"test-password"}, "level": {level}, "action": {action}}), v
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
	t.Run("cancelled login: a page of its own, with access_denied as the way back", func(t *testing.T) {
		resp, _ := spidLogin(t, issuer, "test", "https://www.spid.gov.it/SpidL2", "2", "cancel")
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		page := html.UnescapeString(string(body))
		if resp.Header.Get("Location") != "" || !strings.Contains(page, "Hai annullato l'accesso presso il gestore di identità SPID") ||
			!strings.Contains(page, "callback?error=access_denied") || !strings.Contains(page, issuer+"/login/") {
			t.Fatalf("cancel: %d %s %.1500s", resp.StatusCode, resp.Header.Get("Location"), body)
		}
	})
}

// idp=demo and idp=test, the names GET /dev/spid/ lists, select those IdPs as their entityIDs
// do; a name no IdP has is still the "unknown identity provider" page.
func TestDevModeSPIDByShortName(t *testing.T) {
	issuer, _ := devBroker(t)
	for _, name := range []string{"demo", "test"} {
		t.Run("idp="+name, func(t *testing.T) {
			resp, v := spidLoginHint(t, client(t, "", ""), issuer, name, "https://www.spid.gov.it/SpidL2", "2", "login", "RSSMRA80A01H501U")
			claims := tokenClaims(t, issuer, callbackCode(t, resp), v)
			if claims["spid_idp"] != issuer+"/dev/spid/"+name || claims["fiscal_number"] != "RSSMRA80A01H501U" {
				t.Fatalf("claims = %v", claims)
			}
		})
	}
	for _, hint := range []string{"nope", "Demo", issuer + "/dev/spid/nope"} {
		t.Run("unknown idp="+hint, func(t *testing.T) {
			resp, err := client(t, "", "").Get(authURL(issuer, hint, "https://www.spid.gov.it/SpidL2", oauth2.GenerateVerifier()))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || strings.Contains(string(body), "SAMLRequest") {
				t.Fatalf("%d %.300s", resp.StatusCode, body)
			}
		})
	}
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

// SP-initiated Single Logout through the broker: the relying party's end_session for a SPID
// session sends a signed LogoutRequest to the IdP that made it, its LogoutResponse comes back,
// and the broker session is over (prompt=none now answers login_required).
func TestDevModeSPIDLogoutThroughTheBroker(t *testing.T) {
	issuer, _ := devBroker(t)
	for _, idp := range []string{"demo", "test"} { // HTTP-Redirect and HTTP-POST bindings
		t.Run(idp, func(t *testing.T) {
			c := client(t, "", "")
			resp, v := spidLoginAs(t, c, issuer, idp, "https://www.spid.gov.it/SpidL2", "2", "login", "RSSMRA80A01H501U")
			ctx := context.Background()
			prov, err := oidc.NewProvider(ctx, issuer)
			if err != nil {
				t.Fatal(err)
			}
			rp := oauth2.Config{ClientID: "demo-rp", ClientSecret: "demo-secret", Endpoint: prov.Endpoint(), RedirectURL: "http://127.0.0.1:9000/callback"}
			tok, err := rp.Exchange(ctx, callbackCode(t, resp), oauth2.VerifierOption(v))
			if err != nil {
				t.Fatal(err)
			}
			var seen []string // every request the browser makes from here on
			c.Transport = roundTripFunc(func(req *http.Request) (*http.Response, error) {
				seen = append(seen, req.Method+" "+req.URL.Path)
				return http.DefaultTransport.RoundTrip(req)
			})
			page, err := c.Get(issuer + "/end_session?" + url.Values{"id_token_hint": {tok.Extra("id_token").(string)}}.Encode())
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 4 && page.Request.URL.Path != "/logged-out"; i++ {
				page = submit(t, c, page, nil) // an HTTP-POST binding's auto-submitting form
			}
			page.Body.Close()
			if page.Request.URL.Path != "/logged-out" || !slices.ContainsFunc(seen, func(p string) bool { return strings.Contains(p, " /dev/spid/"+idp+"/slo") }) ||
				!slices.ContainsFunc(seen, func(p string) bool { return strings.HasSuffix(p, " /spid/slo") }) {
				t.Fatalf("logout did not go through the IdP's SLO and back: %v, ended at %s (%d)", seen, page.Request.URL, page.StatusCode)
			}
			// The broker session is gone: a silent login is refused.
			wantLoginRequired(t, c, authURL(issuer, "", "https://www.spid.gov.it/SpidL2", v)+"&prompt=none")
		})
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Step-up through SPID: with an L2 session, an L3 request is not answered from the session;
// the broker sends a new AuthnRequest with ForceAuthn to the IdP, and the tokens carry the new
// level and a later auth_time.
func TestDevModeSPIDStepUp(t *testing.T) {
	issuer, _ := devBroker(t)
	c := client(t, "", "")
	var forceAuthn []string
	c.Transport = roundTripFunc(func(req *http.Request) (*http.Response, error) {
		if q := req.URL.Query().Get("SAMLRequest"); q != "" && strings.HasSuffix(req.URL.Path, "/sso") {
			raw, err := base64.StdEncoding.DecodeString(q)
			if err == nil {
				xml, _ := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(raw)), 1<<20))
				m := regexp.MustCompile(`ForceAuthn="(\w+)"`).FindSubmatch(xml)
				if m != nil {
					forceAuthn = append(forceAuthn, string(m[1]))
				} else {
					forceAuthn = append(forceAuthn, "absent")
				}
			}
		}
		return http.DefaultTransport.RoundTrip(req)
	})
	resp, v := spidLoginAs(t, c, issuer, "demo", "https://www.spid.gov.it/SpidL2", "2", "login", "RSSMRA80A01H501U")
	first := tokenClaims(t, issuer, callbackCode(t, resp), v)
	time.Sleep(1100 * time.Millisecond) // auth_time counts seconds
	resp, v = spidLoginAs(t, c, issuer, "demo", "https://www.spid.gov.it/SpidL3", "3", "login", "RSSMRA80A01H501U")
	second := tokenClaims(t, issuer, callbackCode(t, resp), v)
	if first["acr"] != "https://www.spid.gov.it/SpidL2" || second["acr"] != "https://www.spid.gov.it/SpidL3" {
		t.Fatalf("acr %v then %v", first["acr"], second["acr"])
	}
	if a1, a2 := first["auth_time"].(float64), second["auth_time"].(float64); a2 <= a1 {
		t.Fatalf("auth_time not renewed by the step-up: %v then %v", a1, a2)
	}
	if len(forceAuthn) != 2 || forceAuthn[0] != "true" || forceAuthn[1] != "true" {
		t.Fatalf("ForceAuthn of the AuthnRequests: %v, want [true true]", forceAuthn)
	}
}

// The IdP's HTTP-POST back to the ACS is a cross-site POST: browsers do not send SameSite=Lax
// cookies with it. The login still completes, because its state is kept on the server under
// the RelayState, and the browser binding is checked on the GET that follows (/login/done),
// which carries the cookies again.
func TestDevModeSAMLPostWithoutCookies(t *testing.T) {
	issuer, _ := devBroker(t)
	c := client(t, "", "")
	stripped := 0
	c.Transport = roundTripFunc(func(req *http.Request) (*http.Response, error) {
		if req.Method == http.MethodPost && req.URL.Path == "/spid/acs" {
			req = req.Clone(req.Context())
			if req.Header.Get("Cookie") != "" {
				stripped++
			}
			req.Header.Del("Cookie")
		}
		return http.DefaultTransport.RoundTrip(req)
	})
	resp, v := spidLoginAs(t, c, issuer, "test", "https://www.spid.gov.it/SpidL2", "2", "login", "RSSMRA80A01H501U")
	if claims := tokenClaims(t, issuer, callbackCode(t, resp), v); claims["fiscal_number"] != "RSSMRA80A01H501U" {
		t.Fatalf("claims = %v", claims)
	}
	if stripped == 0 {
		t.Fatal("the ACS POST carried no cookie to strip: the test proves nothing")
	}
}

// wantLoginRequired asks target (an /authorize with prompt=none) through c and wants the
// relying party answered login_required: the broker session is gone. c stops at the relying
// party's redirect from then on.
func wantLoginRequired(t *testing.T, c *http.Client, target string) {
	t.Helper()
	c.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		if req.URL.Port() == "9000" {
			return http.ErrUseLastResponse
		}
		return nil
	}
	silent, err := c.Get(target)
	if err != nil {
		t.Fatal(err)
	}
	silent.Body.Close()
	if loc, _ := url.Parse(silent.Header.Get("Location")); loc == nil || loc.Query().Get("error") != "login_required" {
		t.Fatalf("after logout prompt=none answered %d %s", silent.StatusCode, silent.Header.Get("Location"))
	}
}
