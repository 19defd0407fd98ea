package verify_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/inps/sportello/broker/verify"
)

// clientCert is a fresh self-signed TLS client certificate.
func clientCert(t testing.TB, cn string) tls.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

func x5t(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// TestCertificateBoundToken: RFC 8705 §3 — a token with cnf.x5t#S256 is good only over a
// connection with that certificate; a bearer token with any certificate or none.
func TestCertificateBoundToken(t *testing.T) {
	is := newTestIssuer()
	defer is.Close()
	now := time.Now()
	v := newVerifier(t, is, "inps-pensioni", &clock{now: now})
	a, b := clientCert(t, "a"), clientCert(t, "b")
	c := is.claims("inps-pensioni", now)
	c["cnf"] = map[string]any{"x5t#S256": x5t(a.Leaf)}
	bound := is.sign("es-1", "at+jwt", c)
	bearer := is.sign("es-1", "at+jwt", is.claims("inps-pensioni", now))
	for _, tc := range []struct {
		rule  string
		token string
		cert  *x509.Certificate
		want  error
	}{
		{"a bound token with its certificate is accepted", bound, a.Leaf, nil},
		{"a bound token with another certificate is refused", bound, b.Leaf, verify.ErrCertificateMismatch},
		{"a bound token without a certificate is refused", bound, nil, verify.ErrCertificateRequired},
		{"a bearer token with a certificate is accepted", bearer, a.Leaf, nil},
		{"a bearer token without one is accepted", bearer, nil, nil},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			got, err := v.VerifyWithCertificate(ctx, tc.token, tc.cert)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if tc.token == bound && got.X5TS256 != x5t(a.Leaf) {
					t.Fatalf("X5TS256 = %q", got.X5TS256)
				}
				return
			}
			if !errors.Is(err, tc.want) || !errors.Is(err, verify.ErrInvalidToken) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	t.Run("a bound token is no bearer token", func(t *testing.T) {
		if _, err := v.Verify(ctx, bound); !errors.Is(err, verify.ErrCertificateRequired) {
			t.Fatalf("got %v", err)
		}
	})
	for _, bad := range []any{"", "short", x5t(a.Leaf)[:42] + "=", 42, map[string]any{}} {
		c := is.claims("inps-pensioni", now)
		c["cnf"] = map[string]any{"x5t#S256": bad}
		if _, err := v.VerifyWithCertificate(ctx, is.sign("es-1", "at+jwt", c), a.Leaf); !errors.Is(err, verify.ErrMalformed) {
			t.Errorf("cnf.x5t#S256 %v: got %v, want ErrMalformed", bad, err)
		}
	}
}

// The middleware compares a bound token with the certificate of the TLS connection.
func TestMiddlewareChecksTheCertificate(t *testing.T) {
	is := newTestIssuer()
	defer is.Close()
	v := newVerifier(t, is, "inps-pensioni", &clock{now: time.Now()})
	a, b := clientCert(t, "a"), clientCert(t, "b")
	c := is.claims("inps-pensioni", time.Now())
	c["cnf"] = map[string]any{"x5t#S256": x5t(a.Leaf)}
	bound := is.sign("es-1", "at+jwt", c)
	srv := httptest.NewUnstartedServer(verify.Middleware(v, 2)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
	srv.StartTLS()
	defer srv.Close()
	for _, tc := range []struct {
		rule string
		cert *tls.Certificate
		want int
	}{
		{"with the token's certificate", &a, http.StatusOK},
		{"with another certificate", &b, http.StatusUnauthorized},
		{"without a certificate", nil, http.StatusUnauthorized},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			cfg := &tls.Config{InsecureSkipVerify: true}
			if tc.cert != nil {
				cfg.Certificates = []tls.Certificate{*tc.cert}
			}
			cl := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
			req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
			req.Header.Set("Authorization", "Bearer "+bound)
			resp, err := cl.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("got %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
}
