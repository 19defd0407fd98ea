package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// testCertPEM is a fresh self-signed certificate (PEM), and a JWKS of its key with x5c.
func testCertPEM(t testing.TB) (pemBytes, jwks []byte) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "rp"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	jwks, err = json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &k.PublicKey, Certificates: []*x509.Certificate{cert}}}})
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), jwks
}

// TestTLSClientAuthRules: the RFC 8705 client settings refuse every contrary value at its path.
func TestTLSClientAuthRules(t *testing.T) {
	certPEM, jwks := testCertPEM(t)
	ca := writeFile(t, "ca.pem", string(certPEM))
	notPEM := writeFile(t, "bad.pem", "not a certificate")
	keyPEM := writeFile(t, "key.pem", string(testKeyPEM(t)))
	x5cJWKS := writeFile(t, "x5c.json", string(jwks))
	plainJWKS := writeFile(t, "plain.json", `{"keys":[{"kty":"EC","crv":"P-256","x":"adxW-pYkiDglt45akKM7n6y3Cd4wruoqk0rByQeepAA",
		"y":"XA7_8Jezzpz0z-NsGW6P0nczyzGdN1SKuC6DPSHWD-k"}]}`)
	withMTLS := func(m map[string]any) {
		set(m, "listen.mtls", "127.0.0.1:8443")
		set(m, "listen.mtls_url", "https://cert.example.it")
		set(m, "listen.tls_cert", "tls/mtls.crt")
		set(m, "listen.tls_key", "tls/mtls.key")
	}
	pki := func(extra map[string]any) func(m map[string]any) {
		return func(m map[string]any) {
			withMTLS(m)
			set(m, "clients.0.secret", nil)
			set(m, "clients.0.auth_method", "tls_client_auth")
			for k, v := range extra {
				set(m, "clients.0."+k, v)
			}
		}
	}
	selfSigned := func(extra map[string]any) func(m map[string]any) {
		return func(m map[string]any) {
			withMTLS(m)
			set(m, "clients.0.secret", nil)
			set(m, "clients.0.auth_method", "self_signed_tls_client_auth")
			for k, v := range extra {
				set(m, "clients.0."+k, v)
			}
		}
	}
	tests := []struct {
		name   string
		mutate func(m map[string]any)
		want   []string
	}{
		{"tls_client_auth with its CAs and a subject DN is valid", pki(map[string]any{"tls_client_auth_ca_file": ca, "tls_client_auth_subject_dn": "CN=rp,O=INPS,C=IT"}), nil},
		{"tls_client_auth with a SAN is valid", pki(map[string]any{"tls_client_auth_ca_file": ca, "tls_client_auth_san_dns": "rp.example.it"}), nil},
		{"tls_client_auth needs its CAs", pki(map[string]any{"tls_client_auth_san_dns": "rp.example.it"}), []string{"clients[0].tls_client_auth_ca_file"}},
		{"the CA file holds certificates", pki(map[string]any{"tls_client_auth_ca_file": notPEM, "tls_client_auth_san_dns": "rp.example.it"}), []string{"clients[0].tls_client_auth_ca_file"}},
		{"the CA file holds certificates only", pki(map[string]any{"tls_client_auth_ca_file": keyPEM, "tls_client_auth_san_dns": "rp.example.it"}), []string{"clients[0].tls_client_auth_ca_file"}},
		{"tls_client_auth needs a subject attribute", pki(map[string]any{"tls_client_auth_ca_file": ca}), []string{"clients[0].auth_method"}},
		{"tls_client_auth takes exactly one subject attribute", pki(map[string]any{"tls_client_auth_ca_file": ca,
			"tls_client_auth_san_dns": "rp.example.it", "tls_client_auth_san_email": "rp@example.it"}), []string{"clients[0].auth_method"}},
		{"a SAN IP is an address", pki(map[string]any{"tls_client_auth_ca_file": ca, "tls_client_auth_san_ip": "10.0.0.300"}), []string{"clients[0].tls_client_auth_san_ip"}},
		{"a SAN URI is absolute", pki(map[string]any{"tls_client_auth_ca_file": ca, "tls_client_auth_san_uri": "rp/x"}), []string{"clients[0].tls_client_auth_san_uri"}},
		{"a subject DN has attributes", pki(map[string]any{"tls_client_auth_ca_file": ca, "tls_client_auth_subject_dn": "rp"}), []string{"clients[0].tls_client_auth_subject_dn"}},
		{"tls_client_auth has no secret", func(m map[string]any) {
			pki(map[string]any{"tls_client_auth_ca_file": ca, "tls_client_auth_san_dns": "rp.example.it"})(m)
			set(m, "clients.0.secret", "env:SPORTELLO_TEST_CLIENT_SECRET")
		}, []string{"clients[0].secret"}},
		{"mutual TLS needs a listener", func(m map[string]any) {
			pki(map[string]any{"tls_client_auth_ca_file": ca, "tls_client_auth_san_dns": "rp.example.it"})(m)
			set(m, "listen.mtls", nil)
			set(m, "listen.mtls_url", nil)
			set(m, "listen.tls_cert", nil)
			set(m, "listen.tls_key", nil)
		}, []string{"clients[0].auth_method"}},
		{"the subject attributes belong to tls_client_auth", func(m map[string]any) {
			set(m, "clients.0.tls_client_auth_san_dns", "rp.example.it")
			set(m, "clients.0.tls_client_auth_ca_file", ca)
		}, []string{"clients[0].tls_client_auth_san_dns", "clients[0].tls_client_auth_ca_file"}},

		{"self-signed with a pinned certificate is valid", selfSigned(map[string]any{"tls_client_certificate_file": ca}), nil},
		{"self-signed with x5c in its JWKS is valid", selfSigned(map[string]any{"jwks_file": x5cJWKS}), nil},
		{"self-signed needs a certificate", selfSigned(nil), []string{"clients[0].auth_method"}},
		{"self-signed JWKS keys need x5c", selfSigned(map[string]any{"jwks_file": plainJWKS}), []string{"clients[0].auth_method"}},
		{"a pinned certificate file holds certificates", selfSigned(map[string]any{"tls_client_certificate_file": notPEM}), []string{"clients[0].tls_client_certificate_file"}},
		{"a pinned certificate belongs to self-signed", func(m map[string]any) {
			set(m, "clients.0.tls_client_certificate_file", ca)
		}, []string{"clients[0].tls_client_certificate_file"}},

		{"bound tokens of a public client are valid", func(m map[string]any) {
			withMTLS(m)
			set(m, "clients.1.tls_client_certificate_bound_access_tokens", true)
		}, nil},
		{"bound tokens need a listener", func(m map[string]any) {
			set(m, "clients.1.tls_client_certificate_bound_access_tokens", true)
		}, []string{"clients[1].auth_method"}},
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

// FuzzParseCertificatesPEM: any input parses to certificates or an error, never a panic or
// an empty success.
func FuzzParseCertificatesPEM(f *testing.F) {
	certPEM, _ := testCertPEM(f)
	f.Add(certPEM)
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		certs, err := ParseCertificatesPEM(data)
		if err == nil && len(certs) == 0 {
			t.Fatal("success without a certificate")
		}
	})
}
