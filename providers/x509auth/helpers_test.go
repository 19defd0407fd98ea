package x509auth_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inps/sportello/providers/x509auth"
	"github.com/inps/sportello/providers/x509auth/devca"
)

const pkiDir = "../../testdata/pki"

// devBase is the prefix of the revocation URLs in the dev certificates.
const devBase = "http://127.0.0.1:8080/dev/pki/"

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// pkiServer is devca on an httptest server, counting requests by kind.
type pkiServer struct {
	*httptest.Server
	crlFetches, ocspFetches atomic.Int64
}

func startPKI(t testing.TB, now func() time.Time) *pkiServer {
	t.Helper()
	h, err := devca.New(pkiDir, devca.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	ps := &pkiServer{}
	inner := http.StripPrefix("/dev/pki", h)
	ps.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if filepath.Dir(r.URL.Path) == "/dev/pki/crl" {
			ps.crlFetches.Add(1)
		} else {
			ps.ocspFetches.Add(1)
		}
		inner.ServeHTTP(w, r)
	}))
	t.Cleanup(ps.Close)
	return ps
}

// rewrite points the dev URLs at ps.
func (ps *pkiServer) rewrite() map[string]string {
	return map[string]string{devBase: ps.URL + "/dev/pki/"}
}

func certs(t testing.TB, names ...string) []*x509.Certificate {
	t.Helper()
	var out []*x509.Certificate
	for _, n := range names {
		c, err := x509auth.LoadCertificates([]string{filepath.Join(pkiDir, n+".crt")})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c...)
	}
	return out
}

func keyPair(t testing.TB, name string) tls.Certificate {
	t.Helper()
	kp, err := tls.LoadX509KeyPair(filepath.Join(pkiDir, name+".crt"), filepath.Join(pkiDir, name+".key"))
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

// policy trusts both dev card PKIs (CIE and CNS) with both policies, CRL and OCSP on.
func policy(t testing.TB, ps *pkiServer, now func() time.Time) x509auth.Policy {
	return x509auth.Policy{
		Anchors:          certs(t, "cie-root", "cns-ca"),
		Intermediates:    certs(t, "cie-sub"),
		RequiredPolicies: []string{x509auth.PolicyCIE, x509auth.PolicyCNS},
		Revocation: x509auth.Revocation{
			CRL: true, OCSP: true, RequireOCSPNonce: true,
			URLRewrite: ps.rewrite(), FetchTimeout: 2 * time.Second,
		},
		Now:    now,
		Logger: slog.New(slog.DiscardHandler),
	}
}

func validator(t testing.TB, p x509auth.Policy) *x509auth.Validator {
	t.Helper()
	v, err := x509auth.NewValidator(p)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// leaf reads one certificate file as a one-element chain.
func leaf(t testing.TB, name string) []*x509.Certificate {
	return certs(t, name)
}

func readPEM(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(pkiDir, name))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := pem.Decode(data); b == nil {
		t.Fatalf("%s: not PEM", name)
	}
	return data
}

func writeFile(path string, data []byte) error { return os.WriteFile(path, data, 0o644) }
