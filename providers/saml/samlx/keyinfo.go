package samlx

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/beevik/etree"
)

// Classes of signature failure. VerifyEnveloped wraps exactly one of them, so that a caller
// (and a test) can tell a tampered document from a foreign key or a forbidden algorithm.
var (
	// ErrSignatureMissing: the element does not carry exactly one enveloped ds:Signature.
	ErrSignatureMissing = errors.New("not exactly one enveloped signature")
	// ErrSignatureShape: the ds:Signature is not built as SPID signatures are (elements, counts).
	ErrSignatureShape = errors.New("signature shape not allowed")
	// ErrSignatureAlgorithm: a canonicalization, signature, digest or transform algorithm
	// outside the allowed ones (sha1, XSLT, XPath...).
	ErrSignatureAlgorithm = errors.New("signature algorithm not allowed")
	// ErrSignatureReference: the Reference does not point at the signed element's ID (or the
	// element has none).
	ErrSignatureReference = errors.New("signature reference is not the signed element")
	// ErrKeyInfoMalformed: ds:KeyInfo holds something other than key names and X.509
	// certificates, or a certificate that is not base64.
	ErrKeyInfoMalformed = errors.New("KeyInfo malformed or unsupported")
	// ErrKeyInfoUntrusted: ds:KeyInfo carries a certificate that is not one of the trusted
	// (metadata) certificates. It is never trusted for itself.
	ErrKeyInfoUntrusted = errors.New("KeyInfo certificate is not a trusted metadata certificate")
	// ErrKeyExpired: no trusted certificate the signature may use is valid now.
	ErrKeyExpired = errors.New("no trusted certificate valid at this time")
	// ErrNoTrustedKey: there is no trusted certificate to verify with at all.
	ErrNoTrustedKey = errors.New("no trusted certificate")
	// ErrSignatureInvalid: the signature does not verify with any trusted key (content changed
	// after signing, signature value altered, or signed by another key).
	ErrSignatureInvalid = errors.New("signature does not verify with the trusted keys")
)

// KeyInfoShape is what SignEnveloped puts in the signature's ds:KeyInfo. Verification never
// depends on it: the key always comes from the metadata.
type KeyInfoShape int

const (
	// KeyInfoCertificate is X509Data with the signing certificate (the default).
	KeyInfoCertificate KeyInfoShape = iota
	// KeyInfoEmptyCertificate is X509Data with an empty <ds:X509Certificate/>, as AgID's test
	// IdP (spid-saml-check) signs.
	KeyInfoEmptyCertificate
	// KeyInfoNone is no KeyInfo at all, as some IdPs sign.
	KeyInfoNone
)

// KeyInfoShapes are every shape, for tests that run a table once per shape.
var KeyInfoShapes = []KeyInfoShape{KeyInfoCertificate, KeyInfoEmptyCertificate, KeyInfoNone}

// String names the shape as the tests' subtests do: cert, empty, none.
func (s KeyInfoShape) String() string {
	switch s {
	case KeyInfoCertificate:
		return "cert"
	case KeyInfoEmptyCertificate:
		return "empty"
	case KeyInfoNone:
		return "none"
	}
	return fmt.Sprintf("KeyInfoShape(%d)", int(s))
}

// SignOption changes how SignEnveloped and Assemble sign.
type SignOption func(*signOptions)

type signOptions struct{ keyInfo KeyInfoShape }

// WithKeyInfo makes the signature carry KeyInfo of the given shape.
func WithKeyInfo(s KeyInfoShape) SignOption { return func(o *signOptions) { o.keyInfo = s } }

// shapeKeyInfo rewrites the KeyInfo of a signature goxmldsig made (which always carries the
// certificate). KeyInfo is outside SignedInfo, so the signature stays valid.
func shapeKeyInfo(sig *etree.Element, s KeyInfoShape) {
	ki := sig.SelectElement("KeyInfo")
	if ki == nil {
		return
	}
	switch s {
	case KeyInfoEmptyCertificate:
		for _, c := range ki.FindElements(".//X509Certificate") {
			c.SetText("")
		}
	case KeyInfoNone:
		sig.RemoveChild(ki)
	}
}

// signers returns the trusted certificates the signature sig may have been made with. KeyInfo
// only narrows the choice, never widens it: absent, empty or holding only empty
// X509Certificate elements, every cert may have signed; otherwise each certificate it carries
// must be byte-for-byte one of certs (a certificate is never trusted for itself), and only
// those are tried. Key names and X.509 identifiers (KeyName, X509IssuerSerial,
// X509SubjectName, X509SKI) are labels and are ignored; key material that cannot be compared
// with the metadata (KeyValue, RetrievalMethod, PGPData...) is refused. Of the remaining
// certificates only those valid at now are returned.
func signers(sig *etree.Element, certs []*x509.Certificate, now time.Time) ([]*x509.Certificate, error) {
	if len(certs) == 0 {
		return nil, ErrNoTrustedKey
	}
	var named [][]byte
	for _, ki := range sig.ChildElements() {
		if ki.Tag != "KeyInfo" || ki.NamespaceURI() != NSDSig {
			continue
		}
		for _, c := range ki.ChildElements() {
			if c.NamespaceURI() != NSDSig {
				return nil, fmt.Errorf("%w: %s in KeyInfo", ErrKeyInfoMalformed, c.Tag)
			}
			switch c.Tag {
			case "KeyName":
			case "X509Data":
				ders, err := x509DataCerts(c)
				if err != nil {
					return nil, err
				}
				named = append(named, ders...)
			default:
				return nil, fmt.Errorf("%w: %s in KeyInfo", ErrKeyInfoMalformed, c.Tag)
			}
		}
	}
	candidates := certs
	if len(named) > 0 {
		candidates = nil
		for _, der := range named {
			i := indexCert(certs, der)
			if i < 0 {
				return nil, ErrKeyInfoUntrusted
			}
			if indexCert(candidates, der) < 0 {
				candidates = append(candidates, certs[i])
			}
		}
	}
	var valid []*x509.Certificate
	for _, c := range candidates {
		if !now.Before(c.NotBefore) && !now.After(c.NotAfter) {
			valid = append(valid, c)
		}
	}
	if len(valid) == 0 {
		return nil, ErrKeyExpired
	}
	return valid, nil
}

// x509DataCerts returns the DER of the non-empty X509Certificate children of an X509Data.
func x509DataCerts(xd *etree.Element) ([][]byte, error) {
	var out [][]byte
	for _, c := range xd.ChildElements() {
		if c.NamespaceURI() != NSDSig {
			return nil, fmt.Errorf("%w: %s in X509Data", ErrKeyInfoMalformed, c.Tag)
		}
		switch c.Tag {
		case "X509IssuerSerial", "X509SubjectName", "X509SKI":
		case "X509Certificate":
			if len(c.ChildElements()) > 0 {
				return nil, fmt.Errorf("%w: X509Certificate holds elements", ErrKeyInfoMalformed)
			}
			b64 := strings.Map(func(r rune) rune {
				if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
					return -1
				}
				return r
			}, charData(c))
			if b64 == "" {
				continue // AgID's validator signs with an empty X509Certificate
			}
			der, err := base64.StdEncoding.DecodeString(b64)
			if err != nil {
				return nil, fmt.Errorf("%w: X509Certificate is not base64", ErrKeyInfoMalformed)
			}
			out = append(out, der)
		default:
			return nil, fmt.Errorf("%w: %s in X509Data", ErrKeyInfoMalformed, c.Tag)
		}
	}
	return out, nil
}

// charData is all the character data directly inside el (a CDATA section splits it).
func charData(el *etree.Element) string {
	var sb strings.Builder
	for _, t := range el.Child {
		if cd, ok := t.(*etree.CharData); ok {
			sb.WriteString(cd.Data)
		}
	}
	return sb.String()
}

func indexCert(certs []*x509.Certificate, der []byte) int {
	for i, c := range certs {
		if bytes.Equal(c.Raw, der) {
			return i
		}
	}
	return -1
}

// withoutKeyInfo removes KeyInfo from el's enveloped signature (el is a private copy), so
// that goxmldsig, given a single root, verifies with that root and nothing KeyInfo says.
func withoutKeyInfo(el *etree.Element) {
	for _, sig := range SignatureChild(el) {
		for _, ki := range sig.ChildElements() {
			if ki.Tag == "KeyInfo" && ki.NamespaceURI() == NSDSig {
				sig.RemoveChild(ki)
			}
		}
	}
}
