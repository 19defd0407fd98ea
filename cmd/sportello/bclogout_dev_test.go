package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
)

// The dev mode of testdata/dev/README.md: a logout at end_session reaches demo-rp's
// backchannel_logout_uri, the dev receiver, with a logout token that verifies with the
// issuer's published keys (an independent library's RemoteKeySet).
func TestDevModeBackchannelLogoutReachesTheDevReceiver(t *testing.T) {
	issuer, _ := devBroker(t)
	ctx := context.Background()
	c := client(t, "", "")
	v := oauth2.GenerateVerifier()
	form, err := c.Get(authURL(issuer, "pin", "https://www.spid.gov.it/SpidL2", v))
	if err != nil || form.StatusCode != http.StatusOK {
		t.Fatalf("PIN form: %v %v", err, form)
	}
	code := callbackCode(t, submit(t, c, form, url.Values{"fiscal_code": {"FRRGNN55T50Z600A"}, "pin": {"A1B2C3D4"}}))
	prov, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatal(err)
	}
	var disc struct {
		JWKS      string `json:"jwks_uri"`
		Supported bool   `json:"backchannel_logout_supported"`
		Session   bool   `json:"backchannel_logout_session_supported"`
	}
	if err := prov.Claims(&disc); err != nil || !disc.Supported || !disc.Session {
		t.Fatalf("discovery: %+v %v", disc, err)
	}
	rp := oauth2.Config{ClientID: "demo-rp", ClientSecret: "demo-secret", Endpoint: prov.Endpoint(), RedirectURL: "http://127.0.0.1:9000/callback"}
	tok, err := rp.Exchange(ctx, code, oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	raw := tok.Extra("id_token").(string)
	idt, err := prov.Verifier(&oidc.Config{ClientID: "demo-rp"}).Verify(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	var idc struct {
		Sid string `json:"sid"`
	}
	_ = idt.Claims(&idc)
	resp, err := c.Get(issuer + "/end_session?" + url.Values{"id_token_hint": {raw}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var got []devLogout
	for deadline := time.Now().Add(30 * time.Second); len(got) == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the dev receiver got no logout token")
		}
		time.Sleep(50 * time.Millisecond)
		r, err := http.Get(issuer + devBackchannelPath)
		if err != nil {
			t.Fatal(err)
		}
		_ = json.NewDecoder(r.Body).Decode(&got)
		r.Body.Close()
	}
	payload, err := oidc.NewRemoteKeySet(ctx, disc.JWKS).VerifySignature(ctx, got[0].LogoutToken)
	if err != nil {
		t.Fatalf("the logout token does not verify with the published keys: %v", err)
	}
	var c2 map[string]any
	_ = json.Unmarshal(payload, &c2)
	jws, _ := jose.ParseSigned(got[0].LogoutToken, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if typ := jws.Signatures[0].Protected.ExtraHeaders[jose.HeaderType]; typ != "logout+jwt" {
		t.Errorf("typ %v", typ)
	}
	ev, _ := c2["events"].(map[string]any)
	if c2["iss"] != issuer || c2["aud"] != "demo-rp" || c2["sub"] != idt.Subject || c2["sid"] != idc.Sid || idc.Sid == "" || ev == nil ||
		ev["http://schemas.openid.net/event/backchannel-logout"] == nil || c2["nonce"] != nil {
		t.Fatalf("logout token claims %v (ID token sub %s sid %s)", c2, idt.Subject, idc.Sid)
	}
}
