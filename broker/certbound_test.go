package broker

import (
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/inps/sportello/config"
)

// withBoundClients registers relying parties whose tokens are bound to their certificate
// (RFC 8705 §3): rp-bound (client_secret_basic) and spa-bound (public, PKCE), and svc-bound,
// which may introspect their tokens.
func withBoundClients(c *config.Config) {
	bound := true
	rp := config.Client{ID: "rp-bound", Secret: config.Secret{Value: "rp-bound-secret"}, AuthMethod: config.AuthSecretBasic,
		RedirectURIs: []string{"http://127.0.0.1:9000/callback"}, Scopes: []string{"openid", "fiscal_number", "offline_access"},
		GrantTypes: []string{config.GrantAuthorizationCode, config.GrantRefreshToken}, TLSClientCertificateBoundAccessTokens: &bound}
	spa := rp
	spa.ID, spa.Secret, spa.AuthMethod, spa.Public = "spa-bound", config.Secret{}, config.AuthNone, true
	svc := config.Client{ID: "svc-bound", Secret: config.Secret{Value: "svc-bound-secret"}, AuthMethod: config.AuthSecretBasic,
		GrantTypes: []string{config.GrantClientCredentials}, Scopes: []string{"inps:services"}, TLSClientCertificateBoundAccessTokens: &bound,
		Introspect: true, IntrospectClients: []string{"rp-bound", "spa-bound"}}
	c.Clients = append(c.Clients, rp, spa, svc)
}

// tokenCall posts to the token-side endpoint with HTTP Basic when user is set.
func tokenCall(t *testing.T, c *http.Client, endpoint string, form url.Values, user, pass string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func userinfoWith(t *testing.T, c *http.Client, endpoint, tok string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, endpoint, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("WWW-Authenticate")
}

// cnfOf is the x5t#S256 of an access token's cnf (unverified: the tests' own token).
func cnfOf(t *testing.T, tok string) string {
	t.Helper()
	x5t, _ := tokenCnf(t, tok)["x5t#S256"].(string)
	return x5t
}

// TestCertificateBoundTokens: RFC 8705 §3 — a bound client's access tokens carry the
// thumbprint of the certificate of its token request, userinfo answers only with that
// certificate, a public client's refresh token works only with it, and no bound token is
// issued without a certificate.
func TestCertificateBoundTokens(t *testing.T) {
	pki := newMTLSPKI(t)
	tb := newTestBroker(t, memStore(t), withMTLSClients(t, pki), withBoundClients)
	mtls := mtlsListener(t, tb)
	certA, certB := &pki.selfSigned, &pki.stranger
	thumbA := certThumbprint(certA.Leaf)
	redirect := "http://127.0.0.1:9000/callback"

	t.Run("a tls_client_auth client's token carries its certificate's thumbprint, introspection too", func(t *testing.T) {
		c := mtlsClient(&pki.client)
		st, out := postWith(t, c, mtls+pathToken, url.Values{"grant_type": {"client_credentials"}, "client_id": {"svc-mtls"}})
		if st != http.StatusOK {
			t.Fatalf("got %d %v", st, out)
		}
		tok := out["access_token"].(string)
		if got := cnfOf(t, tok); got != certThumbprint(pki.client.Leaf) {
			t.Fatalf("cnf.x5t#S256 = %q", got)
		}
		_, in := postWith(t, c, mtls+pathIntrospect, url.Values{"client_id": {"svc-mtls"}, "token": {tok}})
		cnf, _ := in["cnf"].(map[string]any)
		if in["active"] != true || cnf["x5t#S256"] != certThumbprint(pki.client.Leaf) {
			t.Fatalf("introspection: %v", in)
		}
	})
	t.Run("a client without binding gets bearer tokens", func(t *testing.T) {
		_, out := postWith(t, mtlsClient(&pki.client), mtls+pathToken, url.Values{"grant_type": {"client_credentials"}, "client_id": {"svc-san"}})
		if tok, _ := out["access_token"].(string); tok == "" || cnfOf(t, tok) != "" {
			t.Fatalf("got %v", out)
		}
	})
	t.Run("a bound secret client is refused on the main listener", func(t *testing.T) {
		st, out := tokenCall(t, http.DefaultClient, tb.URL+pathToken, url.Values{"grant_type": {"client_credentials"}}, "svc-bound", "svc-bound-secret")
		if st != http.StatusBadRequest || out["error"] != "invalid_request" {
			t.Fatalf("got %d %v", st, out)
		}
	})
	t.Run("a bound secret client's token is bound to any certificate it presents", func(t *testing.T) {
		_, out := tokenCall(t, mtlsClient(certB), mtls+pathToken, url.Values{"grant_type": {"client_credentials"}}, "svc-bound", "svc-bound-secret")
		if tok, _ := out["access_token"].(string); cnfOf(t, tok) != certThumbprint(certB.Leaf) {
			t.Fatalf("got %v", out)
		}
	})

	t.Run("userinfo answers a bound token only with its certificate", func(t *testing.T) {
		code := codeFor(t, tb, "rp-bound", nil)
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}}
		if st, out := tokenCall(t, http.DefaultClient, tb.URL+pathToken, form, "rp-bound", "rp-bound-secret"); st != http.StatusBadRequest || out["error"] != "invalid_request" {
			t.Fatalf("code exchange without a certificate: %d %v", st, out)
		}
		// The refused request consumed nothing: the code is redeemed with the certificate.
		st, out := tokenCall(t, mtlsClient(certA), mtls+pathToken, form, "rp-bound", "rp-bound-secret")
		if st != http.StatusOK {
			t.Fatalf("code exchange: %d %v", st, out)
		}
		at := out["access_token"].(string)
		if cnfOf(t, at) != thumbA {
			t.Fatalf("cnf.x5t#S256 = %q, want %q", cnfOf(t, at), thumbA)
		}
		if st, _ := userinfoWith(t, mtlsClient(certA), mtls+pathUserinfo, at); st != http.StatusOK {
			t.Fatalf("userinfo with certificate A: %d", st)
		}
		if st, www := userinfoWith(t, mtlsClient(certB), mtls+pathUserinfo, at); st != http.StatusUnauthorized || !strings.Contains(www, "invalid_token") {
			t.Fatalf("userinfo with certificate B: %d %q", st, www)
		}
		if st, www := userinfoWith(t, mtlsClient(nil), mtls+pathUserinfo, at); st != http.StatusUnauthorized || !strings.Contains(www, "invalid_token") {
			t.Fatalf("userinfo without a certificate: %d %q", st, www)
		}
		if st, _ := userinfoWith(t, http.DefaultClient, tb.URL+pathUserinfo, at); st != http.StatusUnauthorized {
			t.Fatalf("userinfo on the main listener: %d", st)
		}
		// A confidential client's refresh is bound to its authentication; the new access
		// token to the certificate of the refresh.
		st, out = tokenCall(t, mtlsClient(certB), mtls+pathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {out["refresh_token"].(string)}}, "rp-bound", "rp-bound-secret")
		if st != http.StatusOK || cnfOf(t, out["access_token"].(string)) != certThumbprint(certB.Leaf) {
			t.Fatalf("refresh with certificate B: %d %v", st, out)
		}
		// Its refresh token is bound to no certificate: introspection shows no cnf.
		_, in := tokenCall(t, http.DefaultClient, tb.URL+pathIntrospect, url.Values{"token": {out["refresh_token"].(string)}}, "svc-bound", "svc-bound-secret")
		if in["active"] != true || in["cnf"] != nil {
			t.Fatalf("introspection of a confidential client's refresh token: %v", in)
		}
	})

	t.Run("a public client's refresh token works only with its certificate", func(t *testing.T) {
		verifier, challenge := pkce()
		code := codeFor(t, tb, "spa-bound", url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}})
		st, out := postWith(t, mtlsClient(certA), mtls+pathToken, url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {redirect}, "client_id": {"spa-bound"}, "code_verifier": {verifier}})
		if st != http.StatusOK || out["refresh_token"] == nil {
			t.Fatalf("code exchange: %d %v", st, out)
		}
		rt := out["refresh_token"].(string)
		_, in := tokenCall(t, http.DefaultClient, tb.URL+pathIntrospect, url.Values{"token": {rt}}, "svc-bound", "svc-bound-secret")
		if cnf, _ := in["cnf"].(map[string]any); in["active"] != true || cnf["x5t#S256"] != thumbA {
			t.Fatalf("introspection of the bound refresh token: %v", in)
		}
		refresh := func(cert *tls.Certificate, base string) (int, map[string]any) {
			c := mtlsClient(cert)
			if cert == nil && base == tb.URL {
				c = http.DefaultClient
			}
			return postWith(t, c, base+pathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {"spa-bound"}})
		}
		if st, out := refresh(certB, mtls); st != http.StatusBadRequest || out["error"] != "invalid_grant" {
			t.Fatalf("refresh with certificate B: %d %v", st, out)
		}
		if st, out := refresh(nil, tb.URL); st != http.StatusBadRequest || out["error"] != "invalid_request" {
			t.Fatalf("refresh on the main listener: %d %v", st, out)
		}
		// Neither refusal rotated or revoked anything: the holder of certificate A refreshes.
		st, out = refresh(certA, mtls)
		if st != http.StatusOK || cnfOf(t, out["access_token"].(string)) != thumbA {
			t.Fatalf("refresh with certificate A: %d %v", st, out)
		}
	})
}
