package main

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// TestDevModeEIDAS drives eIDAS logins through the dev eIDAS node with the relying-party
// library: Anna Schmidt (German eID, no INPS link) gets auth_method eidas, eidas_country DE,
// no fiscal_number and a sub of her own; Giovanna Ferrari's Spanish eID, linked to her INPS
// record, gets the sub and fiscal_number of her PIN login; an eIDAS "low" answer to an L2
// request is refused.
func TestDevModeEIDAS(t *testing.T) {
	issuer, _ := devBroker(t)
	login := func(t *testing.T, user, acr, level string) map[string]any {
		t.Helper()
		resp, v := spidLoginHint(t, client(t, "", ""), issuer, "eidas", acr, level, "login", user)
		return tokenClaims(t, issuer, callbackCode(t, resp), v)
	}
	anna := login(t, "DE/IT/0123456789ABCDEF", "https://www.spid.gov.it/SpidL2", "2")
	if anna["auth_method"] != "eidas" || anna["eidas_country"] != "DE" || anna["fiscal_number"] != nil ||
		anna["given_name"] != "Anna" || anna["family_name"] != "Schmidt" || anna["birthdate"] != "1975-05-20" ||
		anna["acr"] != "https://www.spid.gov.it/SpidL2" || anna["sub"] == nil {
		t.Fatalf("Anna Schmidt: %v", anna)
	}
	giovanna := login(t, "ES/IT/X1234567T", "https://www.spid.gov.it/SpidL3", "3")
	if giovanna["auth_method"] != "eidas" || giovanna["eidas_country"] != "ES" || giovanna["fiscal_number"] != "FRRGNN55T50Z600A" ||
		giovanna["acr"] != "https://www.spid.gov.it/SpidL3" {
		t.Fatalf("Giovanna Ferrari: %v", giovanna)
	}
	// Her PIN login: the same person, the same sub.
	c := client(t, "", "")
	v := oauth2.GenerateVerifier()
	form, err := c.Get(authURL(issuer, "pin", "https://www.spid.gov.it/SpidL2", v))
	if err != nil || form.StatusCode != http.StatusOK {
		t.Fatalf("PIN form: %v %v", err, form)
	}
	pin := tokenClaims(t, issuer, callbackCode(t, submit(t, c, form, url.Values{"fiscal_code": {"FRRGNN55T50Z600A"}, "pin": {"A1B2C3D4"}})), v)
	if pin["sub"] != giovanna["sub"] || pin["sub"] == anna["sub"] {
		t.Fatalf("subs: eIDAS %v, PIN %v, Anna %v", giovanna["sub"], pin["sub"], anna["sub"])
	}
	t.Run("eIDAS low answering an L2 request: refused", func(t *testing.T) {
		resp, _ := spidLoginHint(t, client(t, "", ""), issuer, "eidas", "https://www.spid.gov.it/SpidL2", "1", "login", "DE/IT/0123456789ABCDEF")
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.Header.Get("Location") != "" || !strings.Contains(string(body), "unmet_authentication_requirements") {
			t.Fatalf("a low answer passed an L2 request: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
	t.Run("eIDAS low when the relying party asks L1 (dev mode allows it)", func(t *testing.T) {
		if c := login(t, "DE/IT/0123456789ABCDEF", "https://www.spid.gov.it/SpidL1", "1"); c["acr"] != "https://www.spid.gov.it/SpidL1" || c["sub"] != anna["sub"] {
			t.Fatalf("%v", c)
		}
	})
}
