package card

import (
	"go.yaml.in/yaml/v3"

	"github.com/inps/sportello/config"
	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/x509auth"
)

// CIEConfig is a cie provider section:
//
//	providers:
//	  cie:
//	    type: cie
//	    trust_anchors: [testdata/pki/cie-root.crt]
//	    intermediates: [testdata/pki/cie-sub.crt]  # required: only the leaf a client sends counts
//	    policies: ["1.3.76.47.4"]        # default
//	    acr: https://www.spid.gov.it/SpidL3
//	    revocation: {crl: true, ocsp: true, on_unreachable: fail}
type CIEConfig struct {
	x509auth.SectionConfig `yaml:",inline"`
}

// CIE is the cie provider type for cmd/sportello's list.
var CIE = providers.Type{
	Name:  "cie",
	Order: 1,
	Decode: func(id string, p *config.Provider, dev bool) (any, []error) {
		return decodeCIE(&p.Node, "providers."+id, p.Resolver, dev)
	},
	Open: func(h providers.Host, cfg any) (providers.Provider, error) {
		return NewCIE(cfg.(*CIEConfig), hostDeps(h))
	},
	Messages: x509auth.Messages(),
}

// DecodeCIE strictly decodes and validates a cie section (paths in errors start with
// "providers.cie"; relative file paths are kept as written).
func DecodeCIE(node *yaml.Node, dev bool) (*CIEConfig, []error) {
	return decodeCIE(node, "providers.cie", config.Resolver{}, dev)
}

func decodeCIE(node *yaml.Node, path string, r config.Resolver, dev bool) (*CIEConfig, []error) {
	var c CIEConfig
	if errs := x509auth.DecodeCardSection(node, path, r, dev, &c, x509auth.PolicyCIE, nil); len(errs) > 0 {
		return nil, errs
	}
	return &c, nil
}

// NewCIE builds a CIE provider from a decoded configuration.
func NewCIE(cfg *CIEConfig, deps Deps) (*Provider, error) {
	policies := cfg.Policies
	if len(policies) == 0 {
		policies = []string{x509auth.PolicyCIE}
	}
	auth, err := x509auth.NewCard(&cfg.SectionConfig, x509auth.Card{
		Type:     "cie",
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
