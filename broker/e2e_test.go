package broker

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/inps/sportello/internal/store"
)

// runE2E drives the issuer with an independent relying-party library (coreos/go-oidc and
// x/oauth2): discovery, code flow with PKCE, ID-token verification, userinfo, refresh
// rotation and reuse detection, revocation, introspection and client_credentials.
func runE2E(t *testing.T, st store.Store) {
	tb := newTestBroker(t, st)
	ctx := context.Background()
	prov, err := oidc.NewProvider(ctx, tb.URL)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	var disc struct {
		ACR    []string `json:"acr_values_supported"`
		Grants []string `json:"grant_types_supported"`
		Claims []string `json:"claims_supported"`
	}
	if err := prov.Claims(&disc); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(disc.ACR, "https://www.spid.gov.it/SpidL3") || !slices.Contains(disc.Grants, "urn:ietf:params:oauth:grant-type:token-exchange") || !slices.Contains(disc.Claims, "act") {
		t.Fatalf("discovery misses the token contract: %+v", disc)
	}
	rp := oauth2.Config{ClientID: "demo-rp", ClientSecret: "demo-secret", Endpoint: prov.Endpoint(),
		RedirectURL: "http://127.0.0.1:9000/callback", Scopes: []string{"openid", "profile", "email", "fiscal_number", "offline_access"}}
	verifier := oauth2.GenerateVerifier()
	authURL := rp.AuthCodeURL("st4te", oauth2.S256ChallengeOption(verifier), oidc.Nonce("n0nce"),
		oauth2.SetAuthURLParam("idp", "RSSMRA80A01H501U:2"))
	cb, resp := newBrowser(t).authorize(t, authURL)
	if cb == nil {
		t.Fatalf("login did not reach the callback: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if cb.Get("state") != "st4te" || cb.Get("iss") != tb.URL {
		t.Fatalf("callback state/iss wrong: %v", cb)
	}
	tok, err := rp.Exchange(ctx, cb.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := prov.Verifier(&oidc.Config{ClientID: "demo-rp"}).Verify(ctx, rawID)
	if err != nil {
		t.Fatalf("ID token verification: %v", err)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"nonce": "n0nce", "acr": "https://www.spid.gov.it/SpidL2", "auth_method": "spid",
		"fiscal_number": "RSSMRA80A01H501U", "given_name": "Mario", "spid_idp": "https://idp.example"} {
		if claims[k] != want {
			t.Errorf("ID token %s = %v, want %v", k, claims[k], want)
		}
	}
	if claims["sub"] == "RSSMRA80A01H501U" || claims["sub"] != subjectFor(tb.subjectKey, "RSSMRA80A01H501U") {
		t.Errorf("sub must be the keyed hash of the fiscal code, got %v", claims["sub"])
	}
	// The access token is an RFC 9068 JWT.
	if hdr := jwtHeader(t, tok.AccessToken); hdr["typ"] != "at+jwt" || hdr["alg"] != "ES256" {
		t.Errorf("access token header = %v, want typ at+jwt alg ES256", hdr)
	}
	ui, err := prov.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	var uic map[string]any
	_ = ui.Claims(&uic)
	if ui.Subject != idt.Subject || uic["fiscal_number"] != "RSSMRA80A01H501U" {
		t.Errorf("userinfo = %v", uic)
	}

	// Refresh rotation: a new refresh token each time; reusing the old one revokes the family.
	rt1 := tok.RefreshToken
	if rt1 == "" {
		t.Fatal("no refresh token with offline_access")
	}
	tok2, err := rp.TokenSource(ctx, &oauth2.Token{RefreshToken: rt1, Expiry: time.Now().Add(-time.Hour)}).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if tok2.RefreshToken == "" || tok2.RefreshToken == rt1 {
		t.Fatal("refresh token was not rotated")
	}
	introspect := func(token string) map[string]any {
		form := url.Values{"token": {token}}
		req, _ := http.NewRequest(http.MethodPost, tb.URL+pathIntrospect, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("demo-service", "demo-service-secret")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return out
	}
	if got := introspect(tok2.AccessToken); got["active"] != true || got["sub"] != idt.Subject {
		t.Fatalf("introspection of a live access token = %v", got)
	}
	if got := introspect(tok2.RefreshToken); got["active"] != true {
		t.Fatalf("introspection of a live refresh token = %v", got)
	}
	// The client rotates once more (rt1's successor is now used), then rt1 comes back: a
	// replay, not a retry (see TestRefreshRetryWithinGrace), and the whole family is revoked.
	tok3, err := rp.TokenSource(ctx, &oauth2.Token{RefreshToken: tok2.RefreshToken, Expiry: time.Now().Add(-time.Hour)}).Token()
	if err != nil {
		t.Fatalf("second rotation: %v", err)
	}
	_, err = rp.TokenSource(ctx, &oauth2.Token{RefreshToken: rt1, Expiry: time.Now().Add(-time.Hour)}).Token()
	assertOAuthError(t, err, "invalid_grant")
	_, err = rp.TokenSource(ctx, &oauth2.Token{RefreshToken: tok3.RefreshToken, Expiry: time.Now().Add(-time.Hour)}).Token()
	assertOAuthError(t, err, "invalid_grant") // the whole family is revoked
	if got := introspect(tok3.RefreshToken); got["active"] != false {
		t.Fatalf("revoked family still active: %v", got)
	}

	// Revocation (RFC 7009) of an access token.
	form := url.Values{"token": {tok2.AccessToken}, "token_type_hint": {"access_token"}}
	req, _ := http.NewRequest(http.MethodPost, tb.URL+pathRevoke, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("demo-rp", "demo-secret")
	rresp, err := http.DefaultClient.Do(req)
	if err != nil || rresp.StatusCode != http.StatusOK {
		t.Fatalf("revocation: %v %v", err, rresp)
	}
	rresp.Body.Close()
	if got := introspect(tok2.AccessToken); got["active"] != false {
		t.Fatalf("revoked access token still active: %v", got)
	}
	if _, err := prov.UserInfo(ctx, oauth2.StaticTokenSource(tok2)); err == nil {
		t.Fatal("userinfo accepted a revoked access token")
	}

	// client_credentials for a service client.
	cc := clientcredentials.Config{ClientID: "demo-service", ClientSecret: "demo-service-secret", TokenURL: prov.Endpoint().TokenURL, Scopes: []string{"inps:services"}}
	stok, err := cc.Token(ctx)
	if err != nil {
		t.Fatalf("client_credentials: %v", err)
	}
	if got := introspect(stok.AccessToken); got["active"] != true || got["sub"] != "demo-service" {
		t.Fatalf("client_credentials token introspection = %v", got)
	}
}

func TestEndToEndMemory(t *testing.T) { runE2E(t, memStore(t)) }

func jwtHeader(t *testing.T, tok string) map[string]any {
	t.Helper()
	h, _, _ := strings.Cut(tok, ".")
	raw, err := base64URLDecode(h)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func assertOAuthError(t *testing.T, err error, code string) {
	t.Helper()
	var re *oauth2.RetrieveError
	if err == nil {
		t.Fatalf("expected OAuth error %s, got success", code)
	}
	if !errorsAs(err, &re) || re.ErrorCode != code {
		t.Fatalf("expected OAuth error %s, got %v", code, err)
	}
}
