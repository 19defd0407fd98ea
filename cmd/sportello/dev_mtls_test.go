package main

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/inps/sportello/config"
)

// The dev clients demo-mtls and demo-fapi2 authenticate with their certificates of
// testdata/pki on the real mutual-TLS listener, as testdata/dev/README.md says.
func TestDevModeMutualTLSClients(t *testing.T) {
	issuer, mtls := devBroker(t)
	post := func(c *http.Client, endpoint string, form url.Values) (int, map[string]any) {
		t.Helper()
		resp, err := c.PostForm(endpoint, form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	pki := "../../testdata/pki/"
	demoMTLS := client(t, pki+"demo-mtls.crt", pki+"demo-mtls.key")
	demoFAPI := client(t, pki+"demo-fapi2.crt", pki+"demo-fapi2.key")
	cc := url.Values{"grant_type": {"client_credentials"}, "client_id": {"demo-mtls"}, "scope": {"inps:services"}}

	t.Run("discovery names the mutual-TLS aliases", func(t *testing.T) {
		resp, err := http.Get(issuer + "/.well-known/openid-configuration")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var d struct {
			Aliases map[string]string `json:"mtls_endpoint_aliases"`
			Bound   bool              `json:"tls_client_certificate_bound_access_tokens"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&d)
		if d.Aliases["token_endpoint"] != mtls+"/oauth/token" || d.Aliases["pushed_authorization_request_endpoint"] != mtls+"/oauth/par" || !d.Bound {
			t.Fatalf("got %+v", d)
		}
	})
	t.Run("demo-mtls gets a token bound to its certificate", func(t *testing.T) {
		st, out := post(demoMTLS, mtls+"/oauth/token", cc)
		tok, _ := out["access_token"].(string)
		if st != http.StatusOK || tok == "" {
			t.Fatalf("got %d %v", st, out)
		}
		raw, _ := os.ReadFile(pki + "demo-mtls.crt")
		blk, _ := pem.Decode(raw)
		cert, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(cert.Raw)
		payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
		var c struct {
			Cnf map[string]string `json:"cnf"`
		}
		_ = json.Unmarshal(payload, &c)
		if c.Cnf["x5t#S256"] != base64.RawURLEncoding.EncodeToString(sum[:]) {
			t.Fatalf("cnf %v", c.Cnf)
		}
	})
	for _, tt := range []struct {
		name string
		c    *http.Client
		url  string
	}{
		{"another client's certificate is refused", demoFAPI, mtls},
		{"a card certificate is refused", client(t, pki+"mario-rossi-cie.crt", pki+"mario-rossi-cie.key"), mtls},
		{"no certificate is refused", client(t, "", ""), mtls},
		{"the main listener is refused", http.DefaultClient, issuer},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if st, out := post(tt.c, tt.url+"/oauth/token", cc); st != http.StatusUnauthorized || out["error"] != "invalid_client" {
				t.Fatalf("got %d %v", st, out)
			}
		})
	}
	t.Run("demo-fapi2 pushes with its certificate and PKCE, and only pushed requests are taken", func(t *testing.T) {
		par := url.Values{"client_id": {"demo-fapi2"}, "response_type": {"code"}, "scope": {"openid"}, "redirect_uri": {"http://127.0.0.1:9000/callback"},
			"state": {"s"}, "code_challenge_method": {"S256"}, "code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}}
		if st, out := post(demoFAPI, mtls+"/oauth/par", par); st != http.StatusCreated || out["request_uri"] == nil {
			t.Fatalf("push: %d %v", st, out)
		}
		noPKCE := url.Values{}
		for k, v := range par {
			if !strings.HasPrefix(k, "code_challenge") {
				noPKCE[k] = v
			}
		}
		if st, out := post(demoFAPI, mtls+"/oauth/par", noPKCE); st != http.StatusBadRequest || out["error"] != "invalid_request" {
			t.Fatalf("push without PKCE: %d %v", st, out)
		}
		resp, err := client(t, "", "").Get(issuer + "/authorize?" + par.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusBadRequest && !strings.Contains(loc, "error=invalid_request") {
			t.Fatalf("plain authorize: %d %s", resp.StatusCode, loc)
		}
	})
}

// The mutual-TLS dev clients added beside dev.yaml pass the same validation as a file's.
func TestDevMTLSClientsAreValid(t *testing.T) {
	cfg, err := config.DevConfig("127.0.0.1:8080", "127.0.0.1:8443", t.TempDir(), config.Options{ProviderTypes: configValidators(), Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Clients = append(cfg.Clients, devMTLSClients("../../testdata/pki")...)
	cfg.ApplyDefaults()
	for _, err := range cfg.Validate() {
		if strings.HasPrefix(err.Error(), "clients") {
			t.Error(err)
		}
	}
	for _, cl := range cfg.Clients[len(cfg.Clients)-2:] {
		if cl.ID == "demo-fapi2" && (cl.AuthMethod != config.AuthTLSClient || !cl.RequirePushedAuthorizationRequests || !cl.CertBound()) {
			t.Errorf("demo-fapi2 = %+v", cl)
		}
	}
}
