package main

import (
	"crypto/sha256"
	"encoding/hex"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// backToService is the error page's link back to the relying party's callback.
var backToService = regexp.MustCompile(`href="(http://127\.0\.0\.1:9000/callback\?[^"]+)"`)

// In dev mode, over the real mutual-TLS listener with the dev PKI's cards: switching a CA entry
// of the console off — the CIE sub-CA that issued the card, or the CIE root above it — refuses
// the CIE certificate login with the suspension page and temporarily_unavailable for the
// relying party; switching it back on lets the card in again; a CNS card, on another chain, is
// never affected by the CIE CAs' switches, and the CNS CA's switch does not touch the CIE card.
func TestDevModeASwitchedOffCardCAStopsItsCertificateLogins(t *testing.T) {
	issuer, _ := devBroker(t)
	admin := serviceToken(t, issuer, "demo-operator", "demo-operator-secret", "console:read console:admin")
	caID := func(name string) string {
		sum := sha256.Sum256(certs(t, name).Raw)
		return hex.EncodeToString(sum[:])
	}
	cieSub, cieRoot, cnsCA := caID("cie-sub"), caID("cie-root"), caID("cns-ca")

	// The ids switched are those the console lists, under the provider that trusts them.
	st, out := consoleCall(t, "GET", issuer+"/console/api/providers", admin, "")
	if st != http.StatusOK {
		t.Fatalf("providers: %d %v", st, out)
	}
	listed := map[string]string{}
	for _, p := range out["providers"].([]any) {
		if p := p.(map[string]any); p["kind"] == "idp" {
			parent, _ := p["parent"].(string)
			listed[p["id"].(string)] = parent
		}
	}
	if listed[cieSub] != "cie" || listed[cieRoot] != "cie" || listed[cnsCA] != "cns" {
		t.Fatalf("CA entries: cie-sub under %q, cie-root under %q, cns-ca under %q", listed[cieSub], listed[cieRoot], listed[cnsCA])
	}

	pki := "../../testdata/pki/"
	cards := map[string]string{"cie": "mario-rossi-cie", "cns": "giuseppe-verdi-cns"}
	fiscal := map[string]string{"cie": "RSSMRA80A01H501U", "cns": "VRDGPP40C15L219U"}
	login := func(t *testing.T, idp string) (*http.Response, string) {
		t.Helper()
		resp, err := client(t, pki+cards[idp]+".crt", pki+cards[idp]+".key").Get(authURL(issuer, idp, "", oauth2.GenerateVerifier()))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, html.UnescapeString(string(body))
	}
	signsIn := func(t *testing.T, idp string) {
		t.Helper()
		v := oauth2.GenerateVerifier()
		resp, err := client(t, pki+cards[idp]+".crt", pki+cards[idp]+".key").Get(authURL(issuer, idp, "", v))
		if err != nil {
			t.Fatal(err)
		}
		if c := tokenClaims(t, issuer, callbackCode(t, resp), v); c["fiscal_number"] != fiscal[idp] {
			t.Fatalf("%s login: fiscal_number %v", idp, c["fiscal_number"])
		}
	}
	refused := func(t *testing.T, idp string) {
		t.Helper()
		resp, body := login(t, idp)
		if loc, _ := url.Parse(resp.Header.Get("Location")); loc != nil && loc.Query().Get("code") != "" {
			t.Fatalf("%s login through a switched-off CA got a code", idp)
		}
		if resp.StatusCode < 400 || !strings.Contains(body, "sospeso temporaneamente per motivi di sicurezza") {
			t.Fatalf("%s login: %d %s, want the suspension page:\n%.1500s", idp, resp.StatusCode, resp.Header.Get("Location"), body)
		}
		// The way back to the service tells the relying party why (RFC 6749 §4.1.2.1).
		m := backToService.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("%s login: the page offers no way back to the service:\n%.1500s", idp, body)
		}
		if back, err := url.Parse(m[1]); err != nil || back.Query().Get("error") != "temporarily_unavailable" || back.Query().Get("state") != "st" {
			t.Fatalf("%s login: back to the service with %q, want error=temporarily_unavailable", idp, m[1])
		}
	}
	set := func(t *testing.T, id string, enabled bool) {
		t.Helper()
		body := `{"enabled":true}`
		if !enabled {
			body = `{"enabled":false,"reason":"CA compromised (drill)"}`
		}
		if st, out := consoleCall(t, "PUT", issuer+"/console/api/switches/idp/"+id, admin, body); st != http.StatusOK {
			t.Fatalf("switch %s enabled=%v: %d %v", id, enabled, st, out)
		}
	}

	signsIn(t, "cie")
	signsIn(t, "cns")
	for _, tc := range []struct{ name, id string }{
		{"the CIE sub-CA that issued the card", cieSub},
		{"the CIE root above it", cieRoot},
	} {
		t.Run(tc.name+" switched off refuses the CIE card, not the CNS one", func(t *testing.T) {
			set(t, tc.id, false)
			refused(t, "cie")
			signsIn(t, "cns")
			set(t, tc.id, true)
			signsIn(t, "cie")
		})
	}
	t.Run("the CNS CA switched off refuses the CNS card, not the CIE one", func(t *testing.T) {
		set(t, cnsCA, false)
		refused(t, "cns")
		signsIn(t, "cie")
		set(t, cnsCA, true)
		signsIn(t, "cns")
	})
}
