package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// devOP is one entry of GET /dev/oidcfed/.
type devOP struct {
	Name     string `json:"name"`
	EntityID string `json:"entity_id"`
	Profile  string `json:"profile"`
}

func devOPs(t *testing.T, issuer string) []devOP {
	t.Helper()
	resp, err := http.Get(issuer + "/dev/oidcfed/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ops []devOP
	if err := json.NewDecoder(resp.Body).Decode(&ops); err != nil {
		t.Fatal(err)
	}
	return ops
}

// oidcfedLogin logs user in at the dev OP that idp= names, through the broker's federation
// RP, and returns the broker's token claims.
func oidcfedLogin(t *testing.T, issuer, op, acr, level, user string) map[string]any {
	t.Helper()
	c := client(t, "", "")
	v := oauth2.GenerateVerifier()
	form, err := c.Get(authURL(issuer, op, acr, v))
	if err != nil {
		t.Fatal(err)
	}
	if form.StatusCode != http.StatusOK || !strings.HasPrefix(form.Request.URL.String(), op+"/authorize?") {
		body, _ := io.ReadAll(form.Body)
		t.Fatalf("not the OP's form: %d %s %.500s", form.StatusCode, form.Request.URL, body)
	}
	resp := submit(t, c, form, url.Values{"username": {user}, "password": {"test-password"}, "level": {level}, "action": {"login"}})
	return tokenClaims(t, issuer, callbackCode(t, resp), v)
}

// SPID and CIE over OpenID Connect Federation in dev mode, driven by the independent relying
// party: the dev OPs are listed, idp=<OP entity id> skips the chooser, logins at L2 and L3
// carry the right claims, and the person has the same sub as through SAML.
func TestDevModeOIDCFederation(t *testing.T) {
	issuer, _ := devBroker(t)
	ops := devOPs(t, issuer)
	if len(ops) != 2 || ops[0].Profile != "spid" || ops[1].Profile != "cie" || ops[0].EntityID != issuer+"/dev/oidcfed/spid-op" {
		t.Fatalf("GET /dev/oidcfed/ = %+v", ops)
	}
	resp, v := spidLogin(t, issuer, "demo", "https://www.spid.gov.it/SpidL2", "2", "login")
	saml := tokenClaims(t, issuer, callbackCode(t, resp), v)
	if saml["spid_op"] != nil || saml["cie_op"] != nil {
		t.Fatalf("a SAML login names an OpenID Provider: %v", saml)
	}
	for _, op := range ops {
		for _, level := range []string{"2", "3"} {
			t.Run(op.Profile+" at L"+level, func(t *testing.T) {
				acr := "https://www.spid.gov.it/SpidL" + level
				claims := oidcfedLogin(t, issuer, op.EntityID, acr, level, "RSSMRA80A01H501U")
				if claims["acr"] != acr || claims["auth_method"] != op.Profile || claims["fiscal_number"] != "RSSMRA80A01H501U" ||
					claims["family_name"] != "Rossi" || claims["given_name"] != "Mario" || !slices.Contains(toStrings(claims["amr"]), "mfa") {
					t.Fatalf("claims = %v", claims)
				}
				if claims["sub"] != saml["sub"] {
					t.Fatalf("sub %v, via SAML %v: the same person must have the same sub", claims["sub"], saml["sub"])
				}
				if (op.Profile == "spid") != (claims["spid_idp"] == op.EntityID) {
					t.Fatalf("spid_idp %v for a %s login", claims["spid_idp"], op.Profile)
				}
				// The OP is named after the profile, and only there.
				named := map[string]any{"spid": claims["spid_op"], "cie": claims["cie_op"]}
				other := map[string]string{"spid": "cie", "cie": "spid"}[op.Profile]
				if named[op.Profile] != op.EntityID || named[other] != nil || (op.Profile == "cie") != (claims["cie_channel"] == "oidcfed") {
					t.Fatalf("spid_op %v, cie_op %v, cie_channel %v for a %s login at %s", claims["spid_op"], claims["cie_op"], claims["cie_channel"], op.Profile, op.EntityID)
				}
			})
		}
	}
	t.Run("the broker's entity configuration", func(t *testing.T) {
		resp, err := http.Get(issuer + "/.well-known/openid-federation")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/entity-statement+jwt" {
			t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	})
	t.Run("metrics count the chain resolutions", func(t *testing.T) {
		resp, err := http.Get(issuer + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), `sportello_federation_chain_resolutions_total{entity_type="openid_provider",outcome="resolved",provider="oidcfed"}`) {
			t.Fatal("no chain resolution counted")
		}
	})
}
