package card

import (
	"crypto/x509"
	"fmt"

	"go.yaml.in/yaml/v3"

	"github.com/inps/sportello/config"
	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/x509auth"
)

// CNSConfig is a cns provider section:
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
type CNSConfig struct {
	x509auth.SectionConfig `yaml:",inline"`
	// EquivalentPolicies are accepted besides Policies.
	EquivalentPolicies []string `yaml:"equivalent_policies"`
}

// accepted lists every accepted policy OID.
func (c *CNSConfig) accepted() []string {
	policies := c.Policies
	if len(policies) == 0 {
		policies = []string{x509auth.PolicyCNS}
	}
	return append(append([]string(nil), policies...), c.EquivalentPolicies...)
}

// CNS is the cns provider type for cmd/sportello's list.
var CNS = providers.Type{
	Name:  "cns",
	Order: 2,
	Decode: func(id string, p *config.Provider, dev bool) (any, []error) {
		return decodeCNS(&p.Node, "providers."+id, p.Resolver, dev)
	},
	Open: func(h providers.Host, cfg any) (providers.Provider, error) {
		return NewCNS(cfg.(*CNSConfig), hostDeps(h))
	},
	Messages: x509auth.Messages(),
}

// DecodeCNS strictly decodes and validates a cns section (paths in errors start with
// "providers.cns"; relative file paths are kept as written).
func DecodeCNS(node *yaml.Node, dev bool) (*CNSConfig, []error) {
	return decodeCNS(node, "providers.cns", config.Resolver{}, dev)
}

func decodeCNS(node *yaml.Node, path string, r config.Resolver, dev bool) (*CNSConfig, []error) {
	var c CNSConfig
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

// NewCNS builds a CNS provider from a decoded configuration.
func NewCNS(cfg *CNSConfig, deps Deps) (*Provider, error) {
	auth, err := x509auth.NewCard(&cfg.SectionConfig, x509auth.Card{
		Type:     "cns",
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
