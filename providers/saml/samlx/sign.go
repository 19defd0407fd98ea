package samlx

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/russellhaering/goxmldsig/etreeutils"
)

// signingContext returns a goxmldsig context for SPID: exclusive c14n, rsa-sha256, prefix ds.
func signingContext(kp *KeyPair) (*dsig.SigningContext, error) {
	ctx, err := dsig.NewSigningContext(kp.Key, [][]byte{kp.Cert.Raw})
	if err != nil {
		return nil, fmt.Errorf("signing context: %w", err)
	}
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	ctx.Prefix = "ds"
	ctx.IdAttribute = "ID"
	return ctx, nil
}

// SignEnveloped adds an enveloped signature to el (which must carry an ID attribute), placed
// where the SAML schemas want it: right after the Issuer child when el has one, else first.
// KeyInfo carries the signing certificate unless WithKeyInfo says otherwise.
func SignEnveloped(el *etree.Element, kp *KeyPair, opts ...SignOption) error {
	if el.SelectAttrValue("ID", "") == "" {
		return errors.New("sign: element has no ID")
	}
	var o signOptions
	for _, opt := range opts {
		opt(&o)
	}
	ctx, err := signingContext(kp)
	if err != nil {
		return err
	}
	// goxmldsig canonicalizes the element it digests in place (pushing namespace declarations
	// down, sorting attributes): sign a copy so the document keeps its authored form.
	sig, err := ctx.ConstructSignature(el.Copy(), true)
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	shapeKeyInfo(sig, o.keyInfo)
	pos := 0
	for i, c := range el.Child {
		if ce, ok := c.(*etree.Element); ok {
			if ce.Tag == "Issuer" {
				pos = i + 1
			}
			break
		}
	}
	el.InsertChildAt(pos, sig)
	return nil
}

// SignBytes signs content with rsa-sha256 (for the HTTP-Redirect query signature).
func SignBytes(kp *KeyPair, content []byte) ([]byte, error) {
	h := sha256.Sum256(content)
	s, err := rsa.SignPKCS1v15(nil, kp.Key, crypto.SHA256, h[:])
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	return s, nil
}

// VerifyBytes checks an RSA PKCS#1 v1.5 signature made with sigAlg (rsa-sha256 or rsa-sha512)
// by any of certs.
func VerifyBytes(certs []*x509.Certificate, sigAlg string, content, sig []byte) error {
	var hash crypto.Hash
	var digest []byte
	switch sigAlg {
	case AlgRSASHA256:
		h := sha256.Sum256(content)
		hash, digest = crypto.SHA256, h[:]
	case "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512":
		h := sha512.Sum512(content)
		hash, digest = crypto.SHA512, h[:]
	default:
		return fmt.Errorf("signature algorithm %q not allowed", sigAlg)
	}
	for _, c := range certs {
		pub, ok := c.PublicKey.(*rsa.PublicKey)
		if !ok {
			continue
		}
		if rsa.VerifyPKCS1v15(pub, hash, digest, sig) == nil {
			return nil
		}
	}
	return errors.New("signature does not verify with any trusted key")
}

// Allowed algorithms in an XML signature: SPID asks for SHA-256 or stronger, and only the
// enveloped-signature and exclusive c14n transforms (so no XSLT, no XPath).
var (
	allowedSigAlgs = map[string]bool{
		AlgRSASHA256: true,
		"http://www.w3.org/2001/04/xmldsig-more#rsa-sha512": true,
	}
	allowedDigestAlgs = map[string]bool{
		AlgSHA256: true,
		"http://www.w3.org/2001/04/xmlenc#sha512": true,
	}
	allowedTransforms = map[string]bool{
		AlgEnvelopedSignature: true,
		AlgExcC14N:            true,
	}
)

// SignatureChild returns the ds:Signature direct children of el.
func SignatureChild(el *etree.Element) []*etree.Element {
	var out []*etree.Element
	for _, c := range el.ChildElements() {
		if c.Tag == "Signature" && c.NamespaceURI() == NSDSig {
			out = append(out, c)
		}
	}
	return out
}

// CheckSignatureShape enforces the shape SPID signatures have before any cryptography: one
// SignedInfo, one SignatureValue, at most one KeyInfo, exclusive c14n, an allowed signature
// method, exactly one Reference whose URI is "#"+id, only the enveloped and exclusive-c14n
// transforms, an allowed digest. Its errors wrap ErrSignatureShape, ErrSignatureAlgorithm or
// ErrSignatureReference.
func CheckSignatureShape(sig *etree.Element, id string) error {
	var signedInfo *etree.Element
	counts := map[string]int{}
	for _, c := range sig.ChildElements() {
		if c.NamespaceURI() != NSDSig {
			return fmt.Errorf("%w: unexpected element %s", ErrSignatureShape, c.Tag)
		}
		switch c.Tag {
		case "SignedInfo", "SignatureValue", "KeyInfo":
			if counts[c.Tag]++; counts[c.Tag] > 1 {
				return fmt.Errorf("%w: two %s", ErrSignatureShape, c.Tag)
			}
			if c.Tag == "SignedInfo" {
				signedInfo = c
			}
		default:
			return fmt.Errorf("%w: unexpected element %s", ErrSignatureShape, c.Tag)
		}
	}
	if signedInfo == nil || counts["SignatureValue"] == 0 {
		return fmt.Errorf("%w: SignedInfo or SignatureValue missing", ErrSignatureShape)
	}
	var refs int
	for _, c := range signedInfo.ChildElements() {
		alg := c.SelectAttrValue("Algorithm", "")
		switch c.Tag {
		case "CanonicalizationMethod":
			if alg != AlgExcC14N {
				return fmt.Errorf("%w: canonicalization %q", ErrSignatureAlgorithm, alg)
			}
		case "SignatureMethod":
			if !allowedSigAlgs[alg] {
				return fmt.Errorf("%w: method %q", ErrSignatureAlgorithm, alg)
			}
		case "Reference":
			refs++
			if uri := c.SelectAttrValue("URI", ""); uri != "#"+id {
				return fmt.Errorf("%w: reference %q does not point at #%s", ErrSignatureReference, uri, id)
			}
			if err := checkReference(c); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%w: unexpected element %s in SignedInfo", ErrSignatureShape, c.Tag)
		}
	}
	if refs != 1 {
		return fmt.Errorf("%w: %d references, want 1", ErrSignatureReference, refs)
	}
	return nil
}

// checkReference checks a Reference's transforms and digest.
func checkReference(ref *etree.Element) error {
	for _, rc := range ref.ChildElements() {
		switch rc.Tag {
		case "Transforms":
			for _, t := range rc.ChildElements() {
				if ta := t.SelectAttrValue("Algorithm", ""); t.Tag != "Transform" || !allowedTransforms[ta] {
					return fmt.Errorf("%w: transform %q", ErrSignatureAlgorithm, ta)
				}
			}
		case "DigestMethod":
			if da := rc.SelectAttrValue("Algorithm", ""); !allowedDigestAlgs[da] {
				return fmt.Errorf("%w: digest %q", ErrSignatureAlgorithm, da)
			}
		case "DigestValue":
		default:
			return fmt.Errorf("%w: unexpected element %s in Reference", ErrSignatureShape, rc.Tag)
		}
	}
	return nil
}

// VerifyEnveloped verifies the enveloped signature of el (a direct ds:Signature child, shape
// checked by CheckSignatureShape) against certs, which come from trusted metadata. The key is
// always one of certs, whatever KeyInfo holds: KeyInfo may be absent or carry an empty
// X509Certificate (AgID's test IdP signs so), and a certificate it does carry must be one of
// certs and only narrows which of them is tried (see signers). It returns the element as
// signed (re-parsed from the canonical bytes), which is what callers must read. Its errors
// wrap one of the Err* classes of this package.
func VerifyEnveloped(el *etree.Element, certs []*x509.Certificate, now time.Time) (*etree.Element, error) {
	sigs := SignatureChild(el)
	if len(sigs) != 1 {
		return nil, fmt.Errorf("signature: %w: %d enveloped signatures", ErrSignatureMissing, len(sigs))
	}
	id := el.SelectAttrValue("ID", "")
	if id == "" {
		return nil, fmt.Errorf("signature: %w: signed element has no ID", ErrSignatureReference)
	}
	if err := CheckSignatureShape(sigs[0], id); err != nil {
		return nil, fmt.Errorf("signature: %w", err)
	}
	trusted, err := signers(sigs[0], certs, now)
	if err != nil {
		return nil, fmt.Errorf("signature: %w", err)
	}
	// A private copy, with the namespace declarations in scope carried onto it so that
	// prefixes declared on an ancestor (the Response) still resolve when canonicalizing.
	if el.Parent() != nil {
		pctx, err := etreeutils.NSBuildParentContext(el)
		if err != nil {
			return nil, fmt.Errorf("signature: %w: %w", ErrSignatureShape, err)
		}
		if el, err = etreeutils.NSDetatch(pctx, el); err != nil {
			return nil, fmt.Errorf("signature: %w: %w", ErrSignatureShape, err)
		}
	} else {
		el = el.Copy()
	}
	// KeyInfo is outside SignedInfo, so removing it leaves the signature intact; without it
	// goxmldsig verifies with the single root it is given.
	withoutKeyInfo(el)
	var lastErr error
	for _, c := range trusted {
		vc := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{c}})
		vc.IdAttribute = "ID"
		vc.Clock = dsig.NewFakeClockAt(now)
		out, err := validateWithRoot(vc, el)
		if err == nil {
			return out, nil
		}
		lastErr = err
	}
	return nil, fmt.Errorf("signature: %w: %w", ErrSignatureInvalid, lastErr)
}

// validateWithRoot runs goxmldsig on el, whose signature has no KeyInfo, so that it verifies
// with the one root of vc. goxmldsig works on its own copy of el.
func validateWithRoot(vc *dsig.ValidationContext, el *etree.Element) (out *etree.Element, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("verifier panic: %v", r)
		}
	}()
	return vc.Validate(el)
}

// EncodeSignature renders a signature value for a query string.
func EncodeSignature(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
