package main

import (
	"html"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// TestDevModeCIEID drives "Entra con CIE" through the dev CIE ID server with the relying-party
// library (go-oidc, x/oauth2): L2 (the CieID app) and L3 (the card), claims auth_method cie
// and cie_channel cieid; the same person gets the same sub by CIE ID, by the card's
// certificate (cie_channel certificate) and by SPID; an L1 answer to an L2 request is refused;
// "Annulla" is the cancel page.
func TestDevModeCIEID(t *testing.T) {
	issuer, _ := devBroker(t)
	subs := map[string]any{}
	for _, tc := range []struct {
		level string
		amr   []string
	}{{"2", []string{"pwd", "mfa"}}, {"3", []string{"sc", "pin", "hwk", "mfa"}}} {
		t.Run("CIE ID at L"+tc.level, func(t *testing.T) {
			acr := "https://www.spid.gov.it/SpidL" + tc.level
			resp, v := spidLoginHint(t, client(t, "", ""), issuer, "cieid", acr, tc.level, "login", "RSSMRA80A01H501U")
			claims := tokenClaims(t, issuer, callbackCode(t, resp), v)
			if claims["acr"] != acr || claims["auth_method"] != "cie" || claims["cie_channel"] != "cieid" ||
				claims["fiscal_number"] != "RSSMRA80A01H501U" || claims["family_name"] != "Rossi" || claims["birthdate"] != "1980-01-01" ||
				!slices.Equal(toStrings(claims["amr"]), tc.amr) || claims["spid_idp"] != nil {
				t.Fatalf("claims = %v", claims)
			}
			subs["cieid L"+tc.level] = claims["sub"]
		})
	}
	t.Run("CIE certificate", func(t *testing.T) {
		c := client(t, "../../testdata/pki/mario-rossi-cie.crt", "../../testdata/pki/mario-rossi-cie.key")
		v := oauth2.GenerateVerifier()
		resp, err := c.Get(authURL(issuer, "cie", "https://www.spid.gov.it/SpidL3", v))
		if err != nil {
			t.Fatal(err)
		}
		claims := tokenClaims(t, issuer, callbackCode(t, resp), v)
		if claims["auth_method"] != "cie" || claims["cie_channel"] != "certificate" {
			t.Fatalf("claims = %v", claims)
		}
		subs["certificate"] = claims["sub"]
	})
	t.Run("SPID", func(t *testing.T) {
		resp, v := spidLogin(t, issuer, "demo", "https://www.spid.gov.it/SpidL2", "2", "login")
		claims := tokenClaims(t, issuer, callbackCode(t, resp), v)
		if claims["cie_channel"] != nil {
			t.Fatalf("a SPID login with a cie_channel: %v", claims)
		}
		subs["spid"] = claims["sub"]
	})
	var first any
	for how, sub := range subs {
		if first == nil {
			first = sub
		}
		if sub == nil || sub != first {
			t.Fatalf("not one sub for Mario Rossi (%s): %v", how, subs)
		}
	}
	if len(subs) != 4 {
		t.Fatalf("subs %v", subs)
	}
	t.Run("L2 asked, answered at L1: refused", func(t *testing.T) {
		resp, _ := spidLoginHint(t, client(t, "", ""), issuer, "cieid", "https://www.spid.gov.it/SpidL2", "1", "login", "RSSMRA80A01H501U")
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.Header.Get("Location") != "" || !strings.Contains(string(body), "unmet_authentication_requirements") {
			t.Fatalf("an L1 answer passed an L2 request: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
	t.Run("Annulla: the cancel page, with access_denied as the way back", func(t *testing.T) {
		resp, _ := spidLoginHint(t, client(t, "", ""), issuer, "cieid", "https://www.spid.gov.it/SpidL2", "2", "cancel", "")
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		page := html.UnescapeString(string(body))
		if resp.StatusCode == http.StatusOK || !strings.Contains(page, "Hai annullato l'accesso con CIE ID") ||
			!strings.Contains(page, "callback?error=access_denied") {
			t.Fatalf("cancel: %d %.1500s", resp.StatusCode, body)
		}
	})
	t.Run("metadata at /cieid/metadata", func(t *testing.T) {
		resp, err := http.Get(issuer + "/cieid/metadata")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `contactType="administrative"`) ||
			!strings.Contains(string(body), `entityID="`+issuer+`/cieid/metadata"`) {
			t.Fatalf("%d %.500s", resp.StatusCode, body)
		}
	})
}
