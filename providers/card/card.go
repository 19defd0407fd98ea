package card

import (
	"context"
	"crypto/x509"

	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/x509auth"
)

// Deps are a card provider's injected dependencies.
type Deps = x509auth.CardDeps

// Provider is a certificate login (CIE or CNS).
type Provider struct {
	auth *x509auth.Authenticator
}

var _ providers.CertificateAuthenticator = (*Provider)(nil)

// Info implements providers.Provider.
func (p *Provider) Info() providers.Info { return p.auth.Info() }

// AuthenticateCertificate implements providers.CertificateAuthenticator. A CIE's identity
// says it came by the card's certificate (cie_channel "certificate"; CIE ID's says "cieid").
func (p *Provider) AuthenticateCertificate(ctx context.Context, chain []*x509.Certificate) (*providers.Identity, error) {
	id, err := p.auth.AuthenticateCertificate(ctx, chain)
	if err == nil && id != nil && id.Method == providers.MethodCIE {
		id.CIEChannel = ChannelCertificate
	}
	return id, err
}

// ChannelCertificate is the cie_channel of a CIE login by the card's certificate.
const ChannelCertificate = "certificate"

// hostDeps are the dependencies of a card provider opened with h.
func hostDeps(h providers.Host) Deps {
	return Deps{ID: h.ID, Auditor: h.Auditor, Logger: h.Logger, URLRewrite: h.URLRewrite, OnRevocationCheck: h.OnRevocationCheck}
}

// Authorities returns the CAs the provider trusts with the health of their revocation
// sources (CRLs, OCSP responders), for the operators' console.
func (p *Provider) Authorities() []x509auth.AuthorityHealth { return p.auth.Validator.Authorities() }
