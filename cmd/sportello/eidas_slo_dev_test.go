package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// SP-initiated single logout towards the eIDAS node through the broker: the relying party's
// end_session for an eIDAS session sends a signed LogoutRequest to the dev node's SLO
// endpoint, its LogoutResponse comes back to /eidas/slo, and the broker session is over.
func TestDevModeEIDASLogoutThroughTheBroker(t *testing.T) {
	issuer, _ := devBroker(t)
	c := client(t, "", "")
	resp, v := spidLoginHint(t, c, issuer, "eidas", "https://www.spid.gov.it/SpidL2", "2", "login", "DE/IT/0123456789ABCDEF")
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
	var seen []string
	c.Transport = roundTripFunc(func(req *http.Request) (*http.Response, error) {
		seen = append(seen, req.Method+" "+req.URL.Path)
		return http.DefaultTransport.RoundTrip(req)
	})
	page, err := c.Get(issuer + "/end_session?" + url.Values{"id_token_hint": {tok.Extra("id_token").(string)}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4 && page.Request.URL.Path != "/logged-out"; i++ {
		page = submit(t, c, page, nil)
	}
	page.Body.Close()
	if page.Request.URL.Path != "/logged-out" || !slices.Contains(seen, "GET /dev/eidas/slo") || !slices.Contains(seen, "GET /eidas/slo") {
		t.Fatalf("logout did not go through the node's SLO and back: %v, ended at %s (%d)", seen, page.Request.URL, page.StatusCode)
	}
	wantLoginRequired(t, c, authURL(issuer, "eidas", "https://www.spid.gov.it/SpidL2", v)+"&prompt=none")
}

// eidas_country on /authorize: a country of the dev node is preselected on its form, any other
// value is invalid_request at the redirect URI.
func TestDevModeEIDASCountryHint(t *testing.T) {
	issuer, _ := devBroker(t)
	v := oauth2.GenerateVerifier()
	c := client(t, "", "")
	resp, err := c.Get(authURL(issuer, "eidas", "https://www.spid.gov.it/SpidL2", v) + "&eidas_country=ES")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `<option value="ES" selected>`) || strings.Contains(string(body), `<option value="DE" selected>`) {
		t.Fatalf("the node's form does not preselect ES: %d %.600s", resp.StatusCode, body)
	}
	for _, bad := range []string{"FR", "es", "ESP"} {
		c := client(t, "", "")
		c.CheckRedirect = func(req *http.Request, via []*http.Request) error { return http.ErrUseLastResponse }
		resp, err := c.Get(authURL(issuer, "eidas", "https://www.spid.gov.it/SpidL2", v) + "&eidas_country=" + bad)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if loc == nil || loc.Port() != "9000" || loc.Query().Get("error") != "invalid_request" ||
			!strings.HasPrefix(loc.Query().Get("error_description"), "eidas_country: ") {
			t.Fatalf("%s: %d %s", bad, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
}
