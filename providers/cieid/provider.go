package cieid

import (
	"errors"
	"net/http"

	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/saml"
)

// Deps are the provider's collaborators (the Auditor receives cieid.authn_request,
// cieid.response).
type Deps = saml.ProfileDeps

// Provider is the CIE ID Service Provider ("Entra con CIE"): the CIE ID profile (profile.go)
// on the SAML engine of providers/saml, with its own entity and metadata at /cieid/metadata;
// the scaffolding (routes, metadata, ACS and SLO glue, registry) is saml.ProfileProvider's.
// It implements providers.RedirectProvider, Refresher, Runner and ReadinessReporter. It is no
// Logouter: the CIE ID server does not answer SAML single logout (the CIE ID technical
// manual, "Protocolli di comunicazione": a "Simple Logout" of its own).
type Provider struct {
	*saml.ProfileProvider
	cfg *Config
}

var (
	_ providers.RedirectProvider  = (*Provider)(nil)
	_ providers.Refresher         = (*Provider)(nil)
	_ providers.Runner            = (*Provider)(nil)
	_ providers.ReadinessReporter = (*Provider)(nil)
)

// Open builds the CIE ID provider of c with what the broker gives it.
func Open(h providers.Host, c *Config) (*Provider, error) { return New(c, saml.HostDeps(h)) }

// New builds the provider from a validated Config. The IdP metadata is not fetched here:
// Run (periodic refresh), Refresh, or the first lookup load it.
func New(cfg *Config, deps Deps) (*Provider, error) {
	if cfg == nil {
		return nil, errors.New("cieid: nil config")
	}
	base, err := saml.NewProfileProvider(saml.ProfileSpec{
		Profile: profile(cfg), Config: engineConfig(cfg), KeyFile: cfg.KeyFile, CertFile: cfg.CertFile,
		Method: providers.MethodCIE, Identity: identityFrom,
	}, deps)
	if err != nil {
		return nil, err
	}
	return &Provider{ProfileProvider: base, cfg: cfg}, nil
}

// engineConfig is the SAML engine's view of the SP: endpoints under /cieid/ unless
// configured, one AttributeConsumingService (index 0, the eIDAS minimum data set, its
// ServiceName with an empty xml:lang as the CIE ID technical manual shows it).
func engineConfig(cfg *Config) saml.Config {
	ec := cfg.SPSection.EngineConfig()
	ec.Organization = cfg.Organization
	ec.AttributeServices = []saml.AttributeService{{Index: 0, Names: map[string]string{"": cfg.ServiceName}, Attributes: Attributes}}
	return ec
}

// Info describes CIE ID to the login page: auth_method cie, up to SpidL3, its own chooser
// entry ("cieid": the "Entra con CIE" button).
func (p *Provider) Info() providers.Info {
	return providers.Info{
		ID:     p.ID(),
		Method: providers.MethodCIE,
		Entry:  "cieid",
		MaxACR: loa.SpidL3,
		Name:   map[string]string{"it": "CIE ID", "en": "CIE ID"},
		Description: map[string]string{
			"it": "Entra con CIE, il servizio di identità del Ministero dell'Interno",
			"en": "Sign in with CIE, the Ministry of the Interior's identity service",
		},
	}
}

// Start sends the browser to the CIE ID server with a signed AuthnRequest: ForceAuthn always,
// the level asked (at least min_level) with Comparison minimum or exact, no AllowCreate, no
// IsPassive, Destination the SSO Location of the binding used.
func (p *Provider) Start(w http.ResponseWriter, r *http.Request, req *providers.LoginRequest) error {
	idp, err := p.OnlyIdP(r.Context(), "cieid.unavailable", "CIE ID server")
	if err != nil {
		return err
	}
	level, cmp := saml.Level(req, p.cfg.MinLevel, p.cfg.Comparison)
	sent, err := p.Engine().SendAuthnRequest(w, r, saml.AuthnRequest{
		LoginID: req.ID, IdP: idp, Level: level, Comparison: cmp, ForceAuthn: true,
	})
	if sent != nil {
		p.Log().Info("cieid: authn request", "login_id", req.ID, "request_id", sent.ID, "loa", level)
	}
	return err
}
