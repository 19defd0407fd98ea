package x509auth

import (
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"
)

// Well-known certificate policies of Italian smart cards.
const (
	// PolicyCNS is the CNS authentication certificate policy.
	PolicyCNS = "1.3.76.16.2.1"
	// PolicyCIE is the CIE 3.0 authentication certificate policy.
	PolicyCIE = "1.3.76.47.4"
)

// What to do when no revocation source answers.
const (
	// OnUnreachableFail refuses the certificate (the default: fail closed).
	OnUnreachableFail = "fail"
	// OnUnreachableAllow accepts it and logs a warning.
	OnUnreachableAllow = "allow"
)

// Defaults of Revocation.
const (
	DefaultMaxCRLSize   = 20 << 20
	DefaultFetchTimeout = 5 * time.Second
	// DefaultCacheTTL caches a CRL or OCSP response that states no nextUpdate.
	DefaultCacheTTL = time.Hour
)

// Policy is what a Validator enforces.
type Policy struct {
	// Anchors are the trust anchors (CA certificates), required.
	Anchors []*x509.Certificate
	// Intermediates are the intermediate CAs between a leaf and its anchor. They are the only
	// ones a chain is built from: certificates a client sends after its leaf are ignored.
	Intermediates []*x509.Certificate
	// RequiredPolicies lists accepted certificate policy OIDs: the leaf must carry at least one.
	// Required (deny by default).
	RequiredPolicies []string
	// KeyUsage is the key usage the leaf must carry (default x509.KeyUsageDigitalSignature).
	KeyUsage x509.KeyUsage
	// ForbiddenKeyUsage are key usages the leaf must not carry (default
	// x509.KeyUsageContentCommitment: nonRepudiation marks the card's signature certificate,
	// not its authentication certificate). Set -1 to forbid nothing more: keyCertSign and
	// cRLSign, the usages of an authority, are refused whatever this says (ReasonCertSign).
	ForbiddenKeyUsage x509.KeyUsage
	// Revocation configures CRL and OCSP checks.
	Revocation Revocation
	// Now is the clock (default time.Now).
	Now func() time.Time
	// HTTPClient fetches CRLs and OCSP responses (default: a client with FetchTimeout).
	HTTPClient *http.Client
	// Rand is the source of OCSP nonces (default crypto/rand).
	Rand io.Reader
	// Logger receives warnings (default slog.Default()).
	Logger *slog.Logger
	// OnRevocationCheck, when set, is told each revocation answer: source "crl" or "ocsp",
	// result "good", "revoked" or "unknown" (unreachable, stale, no URL). For metrics.
	OnRevocationCheck func(source, result string)
}

// Revocation configures revocation checking. With both CRL and OCSP enabled, a certificate is
// revoked when either source says so, good when at least one source answered and none said
// revoked, and otherwise handled by OnUnreachable.
type Revocation struct {
	// CRL enables checking the CRL distribution points of each certificate.
	CRL bool
	// OCSP enables asking the OCSP responder (from the AIA extension, or OCSPResponder).
	OCSP bool
	// OCSPResponder, when set, replaces the AIA responder URL of every certificate.
	OCSPResponder string
	// RequireOCSPNonce refuses OCSP responses that do not echo the request nonce (responders
	// that serve pre-signed responses never do). A wrong nonce is always refused.
	RequireOCSPNonce bool
	// OnUnreachable is OnUnreachableFail (default) or OnUnreachableAllow.
	OnUnreachable string
	// MaxCRLSize bounds a CRL download in bytes (default DefaultMaxCRLSize).
	MaxCRLSize int64
	// FetchTimeout bounds one CRL or OCSP fetch (default DefaultFetchTimeout).
	FetchTimeout time.Duration
	// URLRewrite maps URL prefixes found in certificates to replacements, for example
	// "http://127.0.0.1:8080/dev/pki/" to the address dev mode really listens on, or a
	// production CRL mirror.
	URLRewrite map[string]string
}

// NewValidator checks p and returns a Validator.
func NewValidator(p Policy) (*Validator, error) {
	if len(p.Anchors) == 0 {
		return nil, errors.New("x509auth: no trust anchors")
	}
	if len(p.RequiredPolicies) == 0 {
		return nil, errors.New("x509auth: no certificate policy required")
	}
	v := &Validator{p: p, roots: x509.NewCertPool(), intermediates: x509.NewCertPool()}
	for _, c := range p.Anchors {
		v.roots.AddCert(c)
	}
	for _, c := range p.Intermediates {
		v.intermediates.AddCert(c)
	}
	for _, s := range p.RequiredPolicies {
		oid, err := x509.ParseOID(s)
		if err != nil {
			return nil, fmt.Errorf("x509auth: policy %q: %w", s, err)
		}
		v.policies = append(v.policies, oid)
	}
	if v.p.KeyUsage == 0 {
		v.p.KeyUsage = x509.KeyUsageDigitalSignature
	}
	switch v.p.ForbiddenKeyUsage {
	case 0:
		v.p.ForbiddenKeyUsage = x509.KeyUsageContentCommitment
	case -1:
		v.p.ForbiddenKeyUsage = 0
	}
	if v.p.Now == nil {
		v.p.Now = time.Now
	}
	if v.p.Rand == nil {
		v.p.Rand = rand.Reader
	}
	if v.p.Logger == nil {
		v.p.Logger = slog.Default()
	}
	r := &v.p.Revocation
	switch r.OnUnreachable {
	case "":
		r.OnUnreachable = OnUnreachableFail
	case OnUnreachableFail, OnUnreachableAllow:
	default:
		return nil, fmt.Errorf("x509auth: on_unreachable %q: want fail or allow", r.OnUnreachable)
	}
	if r.MaxCRLSize <= 0 {
		r.MaxCRLSize = DefaultMaxCRLSize
	}
	if r.FetchTimeout <= 0 {
		r.FetchTimeout = DefaultFetchTimeout
	}
	if v.p.HTTPClient == nil {
		v.p.HTTPClient = &http.Client{
			Timeout: r.FetchTimeout,
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				if len(via) >= 3 {
					return errors.New("too many redirects")
				}
				return nil
			},
		}
	}
	v.rev = newRevocationChecker(v.p)
	return v, nil
}

// x509ParseOID parses a dotted OID; a variable so config validation and NewValidator agree.
var x509ParseOID = x509.ParseOID
