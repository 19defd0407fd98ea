package main

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/inps/sportello/internal/store/storetest"
)

// noCookies is a browser's cross-site POST: no cookie, and no redirect followed.
func noCookies() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// Browser binding against the real dev SPID flow: an attacker who learnt the victim's RelayState
// and request ID (they travel in the AuthnRequest URL) posts garbage and a forged, unsigned "user
// cancelled" (nr25) response to the ACS, cross-site without cookies. Each ends on the "another
// browser" page for the attacker; the victim's login is untouched and completes.
func TestDevModeSAMLAttacksWithTheVictimsRelayState(t *testing.T) {
	out := &storetest.Buffer{}
	issuer, _ := devBrokerLogging(t, out)
	victim := client(t, "", "")
	var relayState, requestID string
	victim.Transport = roundTripFunc(func(req *http.Request) (*http.Response, error) {
		if q := req.URL.Query(); q.Get("SAMLRequest") != "" && q.Get("RelayState") != "" {
			relayState = q.Get("RelayState")
			raw, _ := base64.StdEncoding.DecodeString(q.Get("SAMLRequest"))
			xml, _ := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(raw)), 1<<20))
			if m := regexp.MustCompile(` ID="([^"]+)"`).FindSubmatch(xml); m != nil {
				requestID = string(m[1])
			}
		}
		return http.DefaultTransport.RoundTrip(req)
	})
	v := oauth2.GenerateVerifier()
	idpForm, err := victim.Get(authURL(issuer, issuer+"/dev/spid/demo", "https://www.spid.gov.it/SpidL2", v)) // HTTP-Redirect binding
	if err != nil {
		t.Fatal(err)
	}
	if relayState == "" || requestID == "" {
		t.Fatalf("no AuthnRequest seen on the way to the IdP (%d %s)", idpForm.StatusCode, idpForm.Request.URL)
	}
	forgedCancel := `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"` +
		` ID="_forged" Version="2.0" IssueInstant="` + time.Now().UTC().Format("2006-01-02T15:04:05Z") + `" InResponseTo="` + requestID +
		`" Destination="` + issuer + `/spid/acs"><saml:Issuer Format="urn:oasis:names:tc:SAML:2.0:nameid-format:entity">` + issuer +
		`/dev/spid/demo</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Responder"/>` +
		`<samlp:StatusMessage>ErrorCode nr25</samlp:StatusMessage></samlp:Status></samlp:Response>`
	for _, a := range []struct{ name, xml, reason string }{
		{"garbage", "<nonsense/>", `"reason":"spid.invalid_response"`},
		{"forged cancel", forgedCancel, `"reason":"spid.nr25"`},
	} {
		name, xml := a.name, a.xml
		attacker := noCookies()
		resp, err := attacker.PostForm(issuer+"/spid/acs", url.Values{"SAMLResponse": {base64.StdEncoding.EncodeToString([]byte(xml))}, "RelayState": {relayState}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		done := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(done, issuer+"/login/done?ref=") {
			t.Fatalf("%s: the ACS answered %d %q", name, resp.StatusCode, done)
		}
		page, err := attacker.Get(done)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(page.Body)
		page.Body.Close()
		if page.StatusCode != http.StatusBadRequest || page.Header.Get("Location") != "" || !strings.Contains(string(body), "avviata in un altro browser") {
			t.Fatalf("%s: the attacker got %d %q", name, page.StatusCode, page.Header.Get("Location"))
		}
		if !strings.Contains(out.String(), a.reason) {
			t.Fatalf("%s: not refused as %s", name, a.reason)
		}
	}
	// The victim signs in at the IdP; its response comes back cross-site too.
	victim.Transport = roundTripFunc(func(req *http.Request) (*http.Response, error) {
		if req.Method == http.MethodPost && req.URL.Path == "/spid/acs" {
			req = req.Clone(req.Context())
			req.Header.Del("Cookie")
		}
		return http.DefaultTransport.RoundTrip(req)
	})
	resp := submit(t, victim, submit(t, victim, idpForm, url.Values{"username": {"RSSMRA80A01H501U"}, "password": {"test-password"}, "level": {"2"}, "action": {"login"}}), nil)
	if claims := tokenClaims(t, issuer, callbackCode(t, resp), v); claims["fiscal_number"] != "RSSMRA80A01H501U" {
		t.Fatalf("claims = %v", claims)
	}
}

// The CIE hop as in production, where the mutual-TLS listener is another host and never sees
// the main origin's cookie: the login completes with the step token; the pending login's id
// alone gets nowhere on the listener, whatever certificate comes with it.
func TestDevModeCertificateStepWithoutCookies(t *testing.T) {
	issuer, mtls := devBroker(t)
	victim := client(t, "../../testdata/pki/mario-rossi-cie.crt", "../../testdata/pki/mario-rossi-cie.key")
	victim.Transport.(*http.Transport).DisableKeepAlives = true
	base := victim.Transport
	victim.Transport = roundTripFunc(func(req *http.Request) (*http.Response, error) {
		if strings.HasPrefix(req.URL.String(), mtls) {
			req = req.Clone(req.Context())
			req.Header.Del("Cookie")
		}
		return base.RoundTrip(req)
	})
	v := oauth2.GenerateVerifier()
	stopAt := victim.CheckRedirect
	victim.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	chooser, err := victim.Get(authURL(issuer, "", "https://www.spid.gov.it/SpidL3", v))
	if err != nil {
		t.Fatal(err)
	}
	chooser.Body.Close()
	login := strings.TrimPrefix(chooser.Header.Get("Location"), issuer+"/login/")
	attacker := client(t, "../../testdata/pki/mario-rossi-cie.crt", "../../testdata/pki/mario-rossi-cie.key")
	attacker.CheckRedirect = victim.CheckRedirect
	resp, err := attacker.Get(mtls + "/mtls/cie?login=" + url.QueryEscape(login))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// A refusal is shown on the issuer origin: never a step towards /login/done.
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, issuer+"/login/error?ref=") {
		t.Fatalf("the login id alone went on at the listener: %d %q", resp.StatusCode, loc)
	}
	victim.CheckRedirect = stopAt
	resp, err = victim.Get(issuer + "/login/" + login + "/cie")
	if err != nil {
		t.Fatal(err)
	}
	if claims := tokenClaims(t, issuer, callbackCode(t, resp), v); claims["fiscal_number"] != "RSSMRA80A01H501U" || claims["auth_method"] != "cie" {
		t.Fatalf("claims = %v", claims)
	}
}
