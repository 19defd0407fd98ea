package cie

import (
	"context"
	"crypto/x509"

	"go.yaml.in/yaml/v3"

	"github.com/inps/sportello/config"
	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/x509auth"
)

// Name is the provider type in the configuration.
const Name = "cie"

// Config is a cie provider section:
//
//	providers:
//	  cie:
//	    type: cie
//	    trust_anchors: [testdata/pki/cie-root.crt]
//	    intermediates: [testdata/pki/cie-sub.crt]  # required: only the leaf a client sends counts
//	    policies: ["1.3.76.47.4"]        # default
//	    acr: https://www.spid.gov.it/SpidL3
//	    revocation: {crl: true, ocsp: true, on_unreachable: fail}
type Config struct {
	x509auth.SectionConfig `yaml:",inline"`
}

// Deps are the provider's injected dependencies.
type Deps = x509auth.CardDeps

// Provider is the CIE certificate login.
type Provider struct {
	auth *x509auth.Authenticator
}

var _ providers.CertificateAuthenticator = (*Provider)(nil)

// DecodeConfig strictly decodes and validates a cie section (paths in errors start with
// "providers.cie"; relative file paths are kept as written).
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
	if errs := x509auth.DecodeCardSection(node, path, r, dev, &c, x509auth.PolicyCIE, nil); len(errs) > 0 {
		return nil, errs
	}
	return &c, nil
}

// New builds the provider from a decoded configuration.
func New(cfg *Config, deps Deps) (*Provider, error) {
	policies := cfg.Policies
	if len(policies) == 0 {
		policies = []string{x509auth.PolicyCIE}
	}
	auth, err := x509auth.NewCard(&cfg.SectionConfig, x509auth.Card{
		Type:     Name,
		Method:   providers.MethodCIE,
		Policies: policies,
		Name: map[string]string{
			"it": "Entra con CIE",
			"en": "Log in with CIE",
		},
		Description: map[string]string{
			"it": "Carta d'Identità Elettronica: appoggia o inserisci la carta nel lettore e digita il PIN.",
			"en": "Electronic Identity Card: place or insert the card in the reader and type its PIN.",
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

// Type is the cie provider type for cmd/sportello's list.
var Type = providers.Type{
	Name:  Name,
	Order: 1,
	Decode: func(id string, p *config.Provider, dev bool) (any, []error) {
		return FromProvider(id, p, dev)
	},
	Open: func(h providers.Host, cfg any) (providers.Provider, error) {
		return New(cfg.(*Config), Deps{ID: h.ID, Auditor: h.Auditor, Logger: h.Logger, URLRewrite: h.URLRewrite, OnRevocationCheck: h.OnRevocationCheck})
	},
	Messages: x509auth.Messages(),
}
