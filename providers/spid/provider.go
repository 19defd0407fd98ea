package spid

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/inps/sportello/internal/audit"
	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/saml"
)

// Deps are the provider's collaborators, injected by cmd/sportello (the Auditor receives the
// AgID trace: spid.authn_request, spid.response, spid.logout_request, ...).
type Deps = saml.ProfileDeps

// spec is the SPID profile's part of the SAML provider.
func spec(cfg *Config) saml.ProfileSpec {
	ec := cfg.SPSection.EngineConfig()
	ec.Organization, ec.AttributeServices, ec.AttributeServiceIndex = cfg.Organization, cfg.AttributeServices, cfg.acsIndex()
	return saml.ProfileSpec{
		Profile: profile(cfg), Config: ec,
		KeyFile: cfg.KeyFile, CertFile: cfg.CertFile, Method: providers.MethodSPID, NameIdP: true,
		Identity: func(_ context.Context, a *saml.Assertion, idp *saml.IdP) (*providers.Identity, error) {
			return identityFrom(a, idp.EntityID)
		},
	}
}

// IdPInfo is what the chooser shows for an IdP.
type IdPInfo struct {
	EntityID  string `json:"entity_id"`
	Name      string `json:"name"`
	LogoURL   string `json:"logo_url,omitempty"`
	ShortName string `json:"short_name,omitempty"`
}

// Provider is the SPID Service Provider: the SPID profile (validate.go) on the SAML engine of
// providers/saml, the scaffolding (routes, metadata, ACS and SLO glue, registry) being
// saml.ProfileProvider's. It implements providers.RedirectProvider, providers.Logouter,
// providers.OptionLister, providers.Refresher, providers.Runner and
// providers.ReadinessReporter.
type Provider struct {
	*saml.ProfileProvider
	cfg   *Config
	trace *traceFile
}

var (
	_ providers.RedirectProvider  = (*Provider)(nil)
	_ providers.Logouter          = (*Provider)(nil)
	_ providers.OptionLister      = (*Provider)(nil)
	_ providers.Refresher         = (*Provider)(nil)
	_ providers.Runner            = (*Provider)(nil)
	_ providers.ReadinessReporter = (*Provider)(nil)
)

// New builds the provider from a validated Config. IdP metadata is not fetched here: call
// Run (periodic refresh) or let the first lookup load it lazily.
func New(cfg *Config, deps Deps) (*Provider, error) {
	if cfg == nil {
		return nil, errors.New("spid: nil config")
	}
	p := &Provider{cfg: cfg}
	sp := spec(cfg)
	sp.Trace = p.writeTrace
	base, err := saml.NewProfileProvider(sp, deps)
	if err != nil {
		return nil, err
	}
	p.ProfileProvider = base
	if cfg.TraceFile != "" {
		if p.trace, err = openTrace(cfg.TraceFile); err != nil {
			return nil, fmt.Errorf("spid: %w", err)
		}
	}
	return p, nil
}

// Info describes SPID to the login page.
func (p *Provider) Info() providers.Info {
	return providers.Info{
		ID:     p.ID(),
		Method: providers.MethodSPID,
		MaxACR: loa.SpidL3,
		Name:   map[string]string{"it": "SPID", "en": "SPID"},
		Description: map[string]string{
			"it": "Sistema Pubblico di Identità Digitale",
			"en": "Italian Public Digital Identity System",
		},
	}
}

// IdPs lists the identity providers for the chooser.
func (p *Provider) IdPs() []IdPInfo {
	var out []IdPInfo
	for _, idp := range p.Registry().List(context.Background()) {
		out = append(out, IdPInfo{EntityID: idp.EntityID, Name: idp.Name, LogoURL: idp.LogoURL, ShortName: idp.ShortName})
	}
	return out
}

// Options lists the identity providers for the broker's chooser and its idp= hint (the
// hint is the IdP entityID; its configured short name, when it has one, is an alias).
func (p *Provider) Options() []providers.Option {
	var out []providers.Option
	for _, idp := range p.IdPs() {
		out = append(out, providers.Option{Hint: idp.EntityID, Alias: idp.ShortName, Name: idp.Name, LogoURL: idp.LogoURL})
	}
	return out
}

// Logout starts SP-initiated single logout: a signed LogoutRequest for the identity's SPID
// session, sent on the IdP's SLO binding; the IdP's answer at /spid/slo redirects to returnTo.
func (p *Provider) Logout(w http.ResponseWriter, r *http.Request, id *providers.Identity, returnTo string) error {
	return p.LogoutSession(w, r, id, returnTo)
}

// writeTrace writes one record of the AgID trace to the trace file, when there is one.
func (p *Provider) writeTrace(ctx context.Context, ev audit.Event) error {
	if p.trace == nil {
		return nil
	}
	return p.trace.Audit(ctx, ev)
}

// Close releases the trace file.
func (p *Provider) Close() error {
	if p.trace != nil {
		return p.trace.Close()
	}
	return nil
}
