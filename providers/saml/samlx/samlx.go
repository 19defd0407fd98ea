package samlx

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// SAML and SPID namespaces and identifiers.
const (
	NSProtocol  = "urn:oasis:names:tc:SAML:2.0:protocol"
	NSAssertion = "urn:oasis:names:tc:SAML:2.0:assertion"
	NSMetadata  = "urn:oasis:names:tc:SAML:2.0:metadata"
	NSDSig      = "http://www.w3.org/2000/09/xmldsig#"
	NSSPID      = "https://spid.gov.it/saml-extensions"
	// NSCIE is the namespace of the CIE ID metadata extensions (the CIE ID technical manual,
	// "Informazioni di censimento e contatto").
	NSCIE = "https://www.cartaidentita.interno.gov.it/saml-extensions"
	NSXSI = "http://www.w3.org/2001/XMLSchema-instance"
	NSXS  = "http://www.w3.org/2001/XMLSchema"

	BindingRedirect = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
	BindingPOST     = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"

	NameIDEntity    = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity"
	NameIDTransient = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
	AttrNameBasic   = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"
	CMBearer        = "urn:oasis:names:tc:SAML:2.0:cm:bearer"

	StatusSuccess         = "urn:oasis:names:tc:SAML:2.0:status:Success"
	StatusRequester       = "urn:oasis:names:tc:SAML:2.0:status:Requester"
	StatusResponder       = "urn:oasis:names:tc:SAML:2.0:status:Responder"
	StatusAuthnFailed     = "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"
	StatusNoAuthnContext  = "urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext"
	StatusRequestDenied   = "urn:oasis:names:tc:SAML:2.0:status:RequestDenied"
	StatusPartialLogout   = "urn:oasis:names:tc:SAML:2.0:status:PartialLogout"
	AlgRSASHA256          = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
	AlgSHA256             = "http://www.w3.org/2001/04/xmlenc#sha256"
	AlgExcC14N            = "http://www.w3.org/2001/10/xml-exc-c14n#"
	AlgEnvelopedSignature = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
)

// TimeFormat is the xs:dateTime layout SPID uses (UTC, milliseconds).
const TimeFormat = "2006-01-02T15:04:05.000Z"

// FormatTime renders t as a UTC xs:dateTime.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeFormat) }

// ParseTime parses an xs:dateTime; SAML requires UTC, so a value without "Z" is refused.
func ParseTime(s string) (time.Time, error) {
	if len(s) < 20 || s[len(s)-1] != 'Z' {
		return time.Time{}, fmt.Errorf("dateTime %q is not UTC", s)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("dateTime %q: %w", s, err)
	}
	return t, nil
}

// NewID returns a random xs:ID ("_" followed by 40 hex digits: never starts with a digit).
func NewID(r io.Reader) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	b := make([]byte, 20)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("random id: %w", err)
	}
	return "_" + hex.EncodeToString(b), nil
}

// KeyPair is an RSA signing key with its certificate.
type KeyPair struct {
	Key  *rsa.PrivateKey
	Cert *x509.Certificate
}

// LoadKeyPair reads a PEM private key (PKCS#1 or PKCS#8 RSA) and a PEM certificate and checks
// that they match.
func LoadKeyPair(keyFile, certFile string) (*KeyPair, error) {
	kb, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("read key: %w", err)
	}
	cb, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("read certificate: %w", err)
	}
	return ParseKeyPair(kb, cb)
}

// ParseKeyPair parses PEM key and certificate bytes (see LoadKeyPair).
func ParseKeyPair(keyPEM, certPEM []byte) (*KeyPair, error) {
	key, err := ParseRSAKey(keyPEM)
	if err != nil {
		return nil, err
	}
	cert, err := ParseCertificatePEM(certPEM)
	if err != nil {
		return nil, err
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok || !pub.Equal(&key.PublicKey) {
		return nil, errors.New("certificate does not match the private key")
	}
	if key.N.BitLen() < 2048 {
		return nil, fmt.Errorf("RSA key of %d bits: at least 2048 required", key.N.BitLen())
	}
	return &KeyPair{Key: key, Cert: cert}, nil
}

// ParseRSAKey parses a PEM RSA private key (PKCS#1 or PKCS#8).
func ParseRSAKey(b []byte) (*rsa.PrivateKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("key: no PEM block")
	}
	if k, err := x509.ParsePKCS1PrivateKey(blk.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("key: %w", err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("key: not an RSA key")
	}
	return rk, nil
}

// ParseCertificatePEM parses the first PEM certificate in b.
func ParseCertificatePEM(b []byte) (*x509.Certificate, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, errors.New("certificate: no PEM CERTIFICATE block")
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("certificate: %w", err)
	}
	return c, nil
}

// EncodeKeyPEM renders a PKCS#8 PEM private key.
func EncodeKeyPEM(k *rsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("marshal key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// EncodeCertPEM renders a PEM certificate.
func EncodeCertPEM(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}
