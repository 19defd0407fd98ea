package cns

import (
	"context"
	"crypto/x509"
	"fmt"

	"go.yaml.in/yaml/v3"

	"github.com/inps/sportello/config"
	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/x509auth"
)

// Name is the provider type in the configuration.
const Name = "cns"

// Config is a cns provider section:
//
//	providers:
//	  cns:
//	    type: cns
//	    trust_anchors: [testdata/pki/cns-ca.crt]   # or the bundle written by import-tsl
//	    intermediates: [regional-sub-ca.pem]        # CAs between cards and anchors (a client's are ignored)
//	    policies: ["1.3.76.16.2.1"]                 # default
//	    equivalent_policies: ["1.3.6.1.4.1.99999.1"] # declared equivalents of regional cards
//	    acr: https://www.spid.gov.it/SpidL3         # some deployments use SpidL2
//	    revocation: {crl: true, ocsp: true, on_unreachable: fail}
type Config struct {
	x509auth.SectionConfig `yaml:",inline"`
	// EquivalentPolicies are accepted besides Policies.
	EquivalentPolicies []string `yaml:"equivalent_policies"`
}

// accepted lists every accepted policy OID.
func (c *Config) accepted() []string {
	policies := c.Policies
	if len(policies) == 0 {
		policies = []string{x509auth.PolicyCNS}
	}
	return append(append([]string(nil), policies...), c.EquivalentPolicies...)
}

// Deps are the provider's injected dependencies.
type Deps = x509auth.CardDeps

// Provider is the CNS certificate login.
type Provider struct {
	auth *x509auth.Authenticator
}

var _ providers.CertificateAuthenticator = (*Provider)(nil)

// DecodeConfig strictly decodes and validates a cns section (paths in errors start with
// "providers.cns"; relative file paths are kept as written).
func DecodeConfig(node *yaml.Node, dev bool) (*Config, []error) {
	return decode(node, "providers."+Name, config.Resolver{}, dev)
}

// FromProvider decodes and validates the section of provider id, resolving relative paths
// against the configuration file's directory.
func FromProvider(id string, p *config.Provider, dev bool) (*Config, []error) {
	return decode(&p.Node, "providers."+id, p.Resolver, dev)
}

func decode(node *yaml.Node, path string, r config.Resolver, dev bool) (*Config, []error) {
	var c Config
	equivalents := func() []error {
		var errs []error
		for i, s := range c.EquivalentPolicies {
			if _, err := x509.ParseOID(s); err != nil {
				errs = append(errs, &config.FieldError{Path: fmt.Sprintf("%s.equivalent_policies[%d]", path, i), Msg: fmt.Sprintf("%q is not an OID", s)})
			}
		}
		return errs
	}
	if errs := x509auth.DecodeCardSection(node, path, r, dev, &c, x509auth.PolicyCNS, equivalents); len(errs) > 0 {
		return nil, errs
	}
	return &c, nil
}

// New builds the provider from a decoded configuration.
func New(cfg *Config, deps Deps) (*Provider, error) {
	auth, err := x509auth.NewCard(&cfg.SectionConfig, x509auth.Card{
		Type:     Name,
		Method:   providers.MethodCNS,
		Policies: cfg.accepted(),
		Name: map[string]string{
			"it": "Entra con CNS",
			"en": "Log in with CNS",
		},
		Description: map[string]string{
			"it": "Carta Nazionale dei Servizi (anche Tessera Sanitaria-CNS): inserisci la carta nel lettore e digita il PIN.",
			"en": "National Services Card (also the health card with CNS): insert the card in the reader and type its PIN.",
		},
	}, deps)
	if err != nil {
		return nil, err
	}
	return &Provider{auth: auth}, nil
}

// Info implements providers.Provider.
func (p *Provider) Info() providers.Info { return p.auth.Info() }

// AuthenticateCertificate implements providers.CertificateAuthenticator.
func (p *Provider) AuthenticateCertificate(ctx context.Context, chain []*x509.Certificate) (*providers.Identity, error) {
	return p.auth.AuthenticateCertificate(ctx, chain)
}

// Type is the cns provider type for cmd/sportello's list.
var Type = providers.Type{
	Name:  Name,
	Order: 2,
	Decode: func(id string, p *config.Provider, dev bool) (any, []error) {
		return FromProvider(id, p, dev)
	},
	Open: func(h providers.Host, cfg any) (providers.Provider, error) {
		return New(cfg.(*Config), Deps{ID: h.ID, Auditor: h.Auditor, Logger: h.Logger, URLRewrite: h.URLRewrite, OnRevocationCheck: h.OnRevocationCheck})
	},
	Messages: x509auth.Messages(),
}
