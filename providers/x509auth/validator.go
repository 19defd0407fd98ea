package x509auth

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
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

// Validate checks chain (leaf first, as presented by the client; the rest are untrusted
// intermediates) and returns the holder. A refusal is a *providers.UserError with a Reason code
// wrapping providers.ErrCredentialRejected.
func (v *Validator) Validate(ctx context.Context, chain []*x509.Certificate) (*Result, error) {
	if len(chain) == 0 || chain[0] == nil {
		return nil, rejectf(ReasonMissing, "no client certificate")
	}
	if len(chain) > MaxChainLen {
		return nil, rejectf(ReasonUnknownCA, "chain of %d certificates", len(chain))
	}
	leaf := chain[0]
	now := v.p.Now()
	if now.Before(leaf.NotBefore) {
		return nil, rejectf(ReasonNotYetValid, "valid from %s", leaf.NotBefore.UTC())
	}
	if now.After(leaf.NotAfter) {
		return nil, rejectf(ReasonExpired, "expired on %s", leaf.NotAfter.UTC())
	}
	// clientAuth must be stated: Verify would accept a leaf without any EKU.
	if !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageClientAuth) {
		return nil, rejectf(ReasonNoClientAuth, "extended key usage %v lacks clientAuth", leaf.ExtKeyUsage)
	}
	intermediates := v.intermediates
	if len(chain) > 1 {
		intermediates = v.intermediates.Clone()
		for _, c := range chain[1:] {
			if c != nil {
				intermediates.AddCert(c)
			}
		}
	}
	chains, err := leaf.Verify(x509.VerifyOptions{
		Roots:         v.roots,
		Intermediates: intermediates,
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return nil, verifyError(err)
	}
	if leaf.KeyUsage&v.p.KeyUsage != v.p.KeyUsage {
		return nil, rejectf(ReasonKeyUsage, "key usage %#x lacks %#x", leaf.KeyUsage, v.p.KeyUsage)
	}
	if bad := leaf.KeyUsage & v.p.ForbiddenKeyUsage; bad != 0 {
		return nil, rejectf(ReasonKeyUsage, "key usage %#x includes forbidden %#x", leaf.KeyUsage, bad)
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
