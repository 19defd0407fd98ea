package x509auth

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"

	"github.com/inps/sportello/providers"
)

// Validator validates smart-card client certificates against a Policy. It is safe for
// concurrent use; it caches CRLs and OCSP responses, never certificates.
type Validator struct {
	p             Policy
	roots         *x509.CertPool
	intermediates *x509.CertPool
	policies      []x509.OID
	rev           *revocationChecker
}

// Result is a validated certificate and its holder.
type Result struct {
	Holder
	// Leaf is the client certificate.
	Leaf *x509.Certificate
	// Chain is the verified chain, leaf first, ending with the trust anchor.
	Chain []*x509.Certificate
	// Policy is the accepted policy OID the leaf carries.
	Policy string
	// Serial is the leaf's serial number in hexadecimal and Issuer its issuer's DN, for the
	// audit trail.
	Serial string
	Issuer string
}

// Validate checks the client certificate chain[0] and returns the holder. The rest of chain, as
// presented by the client or a proxy, is ignored: a card sends its leaf only, and a certificate
// the client sends is no evidence of anything, so the path to a trust anchor is built from the
// configured intermediates alone. A refusal is a *providers.UserError with a Reason code
// wrapping providers.ErrCredentialRejected.
func (v *Validator) Validate(ctx context.Context, chain []*x509.Certificate) (*Result, error) {
	if len(chain) == 0 || chain[0] == nil {
		return nil, rejectf(ReasonMissing, "no client certificate")
	}
	if len(chain) > providers.MaxChainLen {
		return nil, rejectf(ReasonUnknownCA, "chain of %d certificates", len(chain))
	}
	leaf := chain[0]
	// A certificate that may sign certificates is an authority's, never a card's: refused
	// before anything else, whoever issued it (x509.Verify does not look at the leaf's
	// basicConstraints or key usage).
	if leaf.BasicConstraintsValid && leaf.IsCA {
		return nil, rejectf(ReasonCACertificate, "basicConstraints CA:TRUE (key usage %s)", keyUsageString(leaf.KeyUsage))
	}
	if signs := leaf.KeyUsage & caKeyUsage; signs != 0 {
		return nil, rejectf(ReasonCertSign, "key usage %s includes %s", keyUsageString(leaf.KeyUsage), keyUsageString(signs))
	}
	now := v.p.Now()
	if now.Before(leaf.NotBefore) {
		return nil, rejectf(ReasonNotYetValid, "valid from %s", leaf.NotBefore.UTC())
	}
	if now.After(leaf.NotAfter) {
		return nil, rejectf(ReasonExpired, "expired on %s", leaf.NotAfter.UTC())
	}
	// clientAuth must be stated: Verify would accept a leaf without any EKU.
	if !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageClientAuth) {
		return nil, rejectf(ReasonNoClientAuth, "extended key usage %s lacks clientAuth", extKeyUsageString(leaf.ExtKeyUsage, leaf.UnknownExtKeyUsage))
	}
	chains, err := leaf.Verify(x509.VerifyOptions{
		Roots:         v.roots,
		Intermediates: v.intermediates,
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return nil, verifyError(err)
	}
	if leaf.KeyUsage&v.p.KeyUsage != v.p.KeyUsage {
		return nil, rejectf(ReasonKeyUsage, "key usage %s lacks %s", keyUsageString(leaf.KeyUsage), keyUsageString(v.p.KeyUsage&^leaf.KeyUsage))
	}
	if bad := leaf.KeyUsage & v.p.ForbiddenKeyUsage; bad != 0 {
		return nil, rejectf(ReasonKeyUsage, "key usage %s includes forbidden %s", keyUsageString(leaf.KeyUsage), keyUsageString(bad))
	}
	policy, ok := v.matchPolicy(leaf)
	if !ok {
		return nil, rejectf(ReasonWrongPolicy, "policies %v, want one of %v", leaf.Policies, v.p.RequiredPolicies)
	}
	holder, err := HolderOf(leaf)
	if err != nil {
		return nil, err
	}
	verified := chains[0]
	if err := v.rev.checkChain(ctx, verified); err != nil {
		return nil, err
	}
	return &Result{
		Holder: *holder,
		Leaf:   leaf,
		Chain:  verified,
		Policy: policy,
		Serial: leaf.SerialNumber.Text(16),
		Issuer: leaf.Issuer.String(),
	}, nil
}

func (v *Validator) matchPolicy(leaf *x509.Certificate) (string, bool) {
	for _, have := range leaf.Policies {
		for i, want := range v.policies {
			if have.Equal(want) {
				return v.p.RequiredPolicies[i], true
			}
		}
	}
	return "", false
}

// caKeyUsage are the key usages of an authority: a card's certificate carries neither.
const caKeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign

// verifyError maps an x509 path validation error to a reason.
func verifyError(err error) error {
	var invalid x509.CertificateInvalidError
	if errors.As(err, &invalid) {
		switch invalid.Reason {
		case x509.Expired:
			// The leaf's window was checked before: an intermediate is out of its window.
			return reject(ReasonUnknownCA, fmt.Errorf("issuing CA not valid now: %w", err))
		case x509.IncompatibleUsage:
			return reject(ReasonNoClientAuth, err)
		}
	}
	return reject(ReasonUnknownCA, err)
}
