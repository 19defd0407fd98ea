// Package cardtest mints smart-card certificates from the dev PKI (testdata/pki) for tests:
// variants of the dev cards signed with a dev CA's key, and hostile ones — card certificates that
// are authorities, and a leaf a card signed in someone else's name. Tests only: the dev keys are
// public.
package cardtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"testing"
)

// Load reads the first certificate of the PEM file name+".crt" in dir.
func Load(t testing.TB, dir, name string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name+".crt"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(data)
	if b == nil {
		t.Fatalf("%s.crt: not PEM", name)
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// CA loads a dev CA's certificate and PKCS#8 private key from dir.
func CA(t testing.TB, dir, name string) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name+".key"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(data)
	if b == nil {
		t.Fatalf("%s.key: not PEM", name)
	}
	key, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return Load(t, dir, name), key.(crypto.Signer)
}

// Issue signs a variant of template with issuer's key: a fresh P-256 key and random serial,
// key identifiers recomputed, then edit (which may be nil). To change the subject, edit must
// clear RawSubject too.
func Issue(t testing.TB, issuer *x509.Certificate, issuerKey crypto.Signer, template *x509.Certificate, edit func(*x509.Certificate)) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := *template
	tmpl.SerialNumber = serial.Add(serial, big.NewInt(1))
	tmpl.SubjectKeyId, tmpl.AuthorityKeyId = nil, nil
	if edit != nil {
		edit(&tmpl)
	}
	der, err := x509.CreateCertificate(rand.Reader, &tmpl, issuer, key.Public(), issuerKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c, key
}

// Hostile are the certificates of the report, all variants of Giuseppe Verdi's CNS card issued
// by the dev CNS CA, which has no path-length limit.
type Hostile struct {
	// Anchor is the dev CNS CA.
	Anchor *x509.Certificate
	// Plain is the card certificate issued again unchanged: the control, accepted.
	Plain *x509.Certificate
	// CA has basicConstraints CA:TRUE and keyCertSign.
	CA *x509.Certificate
	// CertSign has keyCertSign without CA:TRUE; CRLSign has cRLSign.
	CertSign, CRLSign *x509.Certificate
	// Victim names Mario Rossi (RSSMRA80A01H501U) and was signed by CA: no authority issued
	// it. It carries no revocation URLs.
	Victim *x509.Certificate
	keys   map[*x509.Certificate]crypto.Signer
}

// VictimFiscalCode is the fiscal code Hostile.Victim claims.
const VictimFiscalCode = "RSSMRA80A01H501U"

// MintHostile mints the Hostile certificates from the dev PKI in dir. It fails the test when
// the dev CNS CA has a path-length limit: the attack needs an anchor without one.
func MintHostile(t testing.TB, dir string) *Hostile {
	t.Helper()
	ca, caKey := CA(t, dir, "cns-ca")
	if ca.MaxPathLen >= 0 {
		t.Fatalf("cns-ca has pathlen %d: these tests need an anchor without a path-length limit", ca.MaxPathLen)
	}
	genuine := Load(t, dir, "giuseppe-verdi-cns")
	h := &Hostile{Anchor: ca, keys: map[*x509.Certificate]crypto.Signer{}}
	mint := func(issuer *x509.Certificate, issuerKey crypto.Signer, edit func(*x509.Certificate)) *x509.Certificate {
		c, key := Issue(t, issuer, issuerKey, genuine, edit)
		h.keys[c] = key
		return c
	}
	h.Plain = mint(ca, caKey, nil)
	h.CA = mint(ca, caKey, func(c *x509.Certificate) {
		c.BasicConstraintsValid, c.IsCA = true, true
		c.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign
	})
	h.CertSign = mint(ca, caKey, func(c *x509.Certificate) {
		c.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign
	})
	h.CRLSign = mint(ca, caKey, func(c *x509.Certificate) {
		c.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign
	})
	h.Victim = mint(h.CA, h.keys[h.CA], func(c *x509.Certificate) {
		c.RawSubject = nil
		c.Subject = pkix.Name{Country: []string{"IT"}, Organization: []string{"Regione Lombardia"},
			CommonName: VictimFiscalCode + "/7420070100000002.bm90IGEgcmVhbCBjYXJk"}
		// No revocation URLs: with on_unreachable allow nothing else would stop it.
		c.CRLDistributionPoints, c.OCSPServer = nil, nil
	})
	return h
}

// Key returns the private key of a certificate MintHostile minted.
func (h *Hostile) Key(c *x509.Certificate) crypto.Signer { return h.keys[c] }

// TLS is what a TLS client presents: chain, leaf first, with the key of the leaf (minted by
// MintHostile).
func (h *Hostile) TLS(chain ...*x509.Certificate) *tls.Certificate {
	kp := tls.Certificate{PrivateKey: h.keys[chain[0]], Leaf: chain[0]}
	for _, c := range chain {
		kp.Certificate = append(kp.Certificate, c.Raw)
	}
	return &kp
}

// Files writes chain (leaf first) and the leaf's key as PEM files name.crt and name.key in dir,
// for clients that load a key pair from files.
func (h *Hostile) Files(t testing.TB, dir, name string, chain ...*x509.Certificate) (certFile, keyFile string) {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(h.keys[chain[0]])
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	if err := os.WriteFile(certFile, PEM(chain...), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// PEM encodes chain as concatenated CERTIFICATE blocks.
func PEM(chain ...*x509.Certificate) []byte {
	var b []byte
	for _, c := range chain {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return b
}

// EscapedPEM is chain as a reverse proxy passes it in listen.client_cert_header (nginx
// $ssl_client_escaped_cert).
func EscapedPEM(chain ...*x509.Certificate) string { return url.PathEscape(string(PEM(chain...))) }
