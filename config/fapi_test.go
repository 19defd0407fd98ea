package config

import "testing"

// TestFAPI2Profile: a fapi2 client gets the profile's defaults, and whatever it sets against
// the profile is refused at its path.
func TestFAPI2Profile(t *testing.T) {
	certPEM, jwks := testCertPEM(t)
	ca := writeFile(t, "ca.pem", string(certPEM))
	jwksFile := writeFile(t, "jwks.json", string(jwks))
	fapi := func(extra map[string]any) func(m map[string]any) {
		return func(m map[string]any) {
			set(m, "listen.mtls", "127.0.0.1:8443")
			set(m, "listen.mtls_url", "https://cert.example.it")
			set(m, "listen.tls_cert", "tls/mtls.crt")
			set(m, "listen.tls_key", "tls/mtls.key")
			set(m, "clients.0.secret", nil)
			set(m, "clients.0.profile", "fapi2")
			set(m, "clients.0.jwks_file", jwksFile)
			for k, v := range extra {
				set(m, "clients.0."+k, v)
			}
		}
	}
	t.Run("the defaults are filled", func(t *testing.T) {
		m := baseConfig()
		fapi(nil)(m)
		set(m, "keys.algorithm", "RS256")
		cfg, err := Parse(mustYAML(t, m), testOptions(t, nil))
		if err != nil {
			t.Fatal(err)
		}
		cl := cfg.Clients[0]
		if !cl.RequirePushedAuthorizationRequests || !cl.CertBound() || cl.AuthMethod != AuthPrivateKeyJWT || cl.SigningAlg != "ES256" {
			t.Fatalf("got par=%v bound=%v auth=%s alg=%s", cl.RequirePushedAuthorizationRequests, cl.CertBound(), cl.AuthMethod, cl.SigningAlg)
		}
	})
	t.Run("a CA file makes the method tls_client_auth", func(t *testing.T) {
		m := baseConfig()
		fapi(map[string]any{"jwks_file": nil, "tls_client_auth_ca_file": ca, "tls_client_auth_san_dns": "rp.example.it"})(m)
		cfg, err := Parse(mustYAML(t, m), testOptions(t, nil))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Clients[0].AuthMethod != AuthTLSClient {
			t.Fatalf("auth_method %s", cfg.Clients[0].AuthMethod)
		}
	})
	t.Run("a DPoP client gets no certificate binding by default", func(t *testing.T) {
		m := baseConfig()
		fapi(map[string]any{"dpop_bound_access_tokens": true})(m)
		cfg, err := Parse(mustYAML(t, m), testOptions(t, nil))
		if err != nil {
			t.Fatal(err)
		}
		if cl := cfg.Clients[0]; cl.CertBound() || !cl.DPoPBoundAccessTokens {
			t.Fatalf("bound=%v dpop=%v", cl.CertBound(), cl.DPoPBoundAccessTokens)
		}
	})
	tests := []struct {
		name   string
		mutate func(m map[string]any)
		want   []string
	}{
		{"a fapi2 client with private_key_jwt is valid", fapi(nil), nil},
		{"an unknown profile is refused", fapi(map[string]any{"profile": "fapi1"}), []string{"clients[0].profile", "clients[0].secret"}},
		{"client_secret_basic is refused", fapi(map[string]any{"auth_method": "client_secret_basic", "secret": "env:SPORTELLO_TEST_CLIENT_SECRET"}), []string{"clients[0].auth_method"}},
		{"a fapi2 client without credentials is refused", fapi(map[string]any{"jwks_file": nil}), []string{"clients[0].auth_method", "clients[0].secret"}},
		{"RS256 tokens are refused", fapi(map[string]any{"signing_alg": "RS256"}), []string{"clients[0].signing_alg"}},
		{"bearer tokens are refused", fapi(map[string]any{"tls_client_certificate_bound_access_tokens": false}), []string{"clients[0].tls_client_certificate_bound_access_tokens"}},
		{"DPoP instead of certificate-bound tokens is sender-constraining too", fapi(map[string]any{"tls_client_certificate_bound_access_tokens": false, "dpop_bound_access_tokens": true}), nil},
		{"a public fapi2 client is refused", func(m map[string]any) {
			set(m, "listen.mtls", "127.0.0.1:8443")
			set(m, "listen.mtls_url", "https://cert.example.it")
			set(m, "listen.tls_cert", "tls/mtls.crt")
			set(m, "listen.tls_key", "tls/mtls.key")
			set(m, "clients.1.profile", "fapi2")
		}, []string{"clients[1].public"}},
		{"fapi2 needs the mutual-TLS listener for its bound tokens", func(m map[string]any) {
			fapi(nil)(m)
			set(m, "listen.mtls", nil)
			set(m, "listen.mtls_url", nil)
			set(m, "listen.tls_cert", nil)
			set(m, "listen.tls_key", nil)
		}, []string{"clients[0].auth_method"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := baseConfig()
			tt.mutate(m)
			_, err := Parse(mustYAML(t, m), testOptions(t, nil))
			wantOnly(t, err, tt.want...)
			wantLocated(t, err)
		})
	}
}
