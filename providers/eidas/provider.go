package eidas

import (
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/saml"
)

// Deps are the provider's collaborators (the Auditor receives eidas.authn_request,
// eidas.response, eidas.logout_request, ...), and the Linker.
type Deps struct {
	saml.ProfileDeps
	// Linker finds the INPS record an eIDAS identity is linked to (default: the
	// configuration's links).
	Linker Linker
}

// Provider is the Service Provider towards the Italian eIDAS node (FICEP): the eIDAS profile
// (profile.go) on the SAML engine of providers/saml, with its own entity and metadata at
// /eidas/metadata; the scaffolding (routes, metadata, ACS and SLO glue, registry) is
// saml.ProfileProvider's. It implements providers.RedirectProvider, Logouter (single logout
// with the node, as SPID's), Hinter (eidas_country), Refresher, Runner and ReadinessReporter.
type Provider struct {
	*saml.ProfileProvider
	cfg    *Config
	linker Linker
}

var (
	_ providers.RedirectProvider  = (*Provider)(nil)
	_ providers.Logouter          = (*Provider)(nil)
	_ providers.Refresher         = (*Provider)(nil)
	_ providers.Runner            = (*Provider)(nil)
	_ providers.ReadinessReporter = (*Provider)(nil)
	_ providers.Hinter            = (*Provider)(nil)
)

// Open builds the eIDAS provider of c with what the broker gives it.
func Open(h providers.Host, c *Config) (*Provider, error) {
	return New(c, Deps{ProfileDeps: saml.HostDeps(h)})
}

// New builds the provider from a validated Config. The IdP metadata is not fetched here:
// Run (periodic refresh), Refresh, or the first lookup load it.
func New(cfg *Config, deps Deps) (*Provider, error) {
	if cfg == nil {
		return nil, errors.New("eidas: nil config")
	}
	p := &Provider{cfg: cfg, linker: deps.Linker}
	if p.linker == nil {
		p.linker = StaticLinks(cfg.Links)
	}
	base, err := saml.NewProfileProvider(saml.ProfileSpec{
		Profile: profile(cfg), Config: engineConfig(cfg), KeyFile: cfg.KeyFile, CertFile: cfg.CertFile,
		Method: providers.MethodEIDAS, Identity: p.identityFrom,
	}, deps.ProfileDeps)
	if err != nil {
		return nil, err
	}
	p.ProfileProvider = base
	return p, nil
}

// engineConfig is the SAML engine's view of the SP: endpoints under /eidas/ unless
// configured, the two AttributeConsumingServices AgID gives an SP of the eIDAS node (99
// minimum, 100 extended).
func engineConfig(cfg *Config) saml.Config {
	ec := cfg.SPSection.EngineConfig()
	ec.Organization, ec.AttributeServiceIndex = cfg.Organization, MinimumSetIndex
	ec.AttributeServices = []saml.AttributeService{
		{Index: MinimumSetIndex, Names: map[string]string{"it": "eIDAS Natural Person Minimum Attribute Set"}, Attributes: MinimumSet},
		{Index: ExtendedSetIndex, Names: map[string]string{"it": "eIDAS Natural Person Full Attribute Set"}, Attributes: ExtendedSet},
	}
	return ec
}

// Info describes eIDAS to the login page: auth_method eidas, up to SpidL3 (eIDAS high).
func (p *Provider) Info() providers.Info {
	return providers.Info{
		ID:     p.ID(),
		Method: providers.MethodEIDAS,
		MaxACR: loa.SpidL3,
		Name:   map[string]string{"it": "eIDAS", "en": "eIDAS"},
		Description: map[string]string{
			"it": "Accesso con l'identità digitale di un altro Paese dell'Unione europea",
			"en": "Sign in with the digital identity of another European Union country",
		},
	}
}

// Logout starts SP-initiated single logout with the node (SAML Profiles §4.4, SPID's rules as
// for a SPID IdP: FICEP is one): a signed LogoutRequest for the identity's eIDAS session (the
// node, NameID, NameQualifier, SessionIndex of the login's assertion) on the node's SLO
// binding; the node's LogoutResponse at /eidas/slo redirects to returnTo. The node's own
// LogoutRequest (IdP-initiated) is answered there too and ends the broker session
// (SessionEnder).
func (p *Provider) Logout(w http.ResponseWriter, r *http.Request, id *providers.Identity, returnTo string) error {
	return p.LogoutSession(w, r, id, returnTo)
}

// CountryHint is the /authorize parameter that names the person's country
// (eidas_country=DE): the node is sent it beside the AuthnRequest (CountryParam) and skips
// its country choice.
const CountryHint = "eidas_country"

// CountryParam is the parameter beside the SAMLRequest that carries the country to the node,
// as the eIDAS-Node's Connector takes it from a Service Provider ("country").
const CountryParam = "country"

// HintParams names eidas_country.
func (p *Provider) HintParams() []string { return []string{CountryHint} }

// CheckHint accepts for eidas_country an ISO 3166-1 alpha-2 code in upper case that is one
// of the countries the node offers (countries); anything else is refused (the broker answers
// invalid_request), never passed on to the node nor quietly dropped: a relying party that
// names a country learns at once that the login cannot go there.
func (p *Provider) CheckHint(name, value string) error {
	if name != CountryHint {
		return fmt.Errorf("not a parameter of the eIDAS provider")
	}
	if !countryRe.MatchString(value) {
		return errors.New("must be an ISO 3166-1 alpha-2 country code in upper case (DE)")
	}
	if !slices.Contains(p.cfg.Countries, value) {
		return fmt.Errorf("the eIDAS node offers no login for country %s", value)
	}
	return nil
}

// Start sends the browser to the eIDAS node with a signed SPID-shaped AuthnRequest: the level
// asked (at least min_level: eIDAS substantial by default), ForceAuthn from L2, the data set
// of attribute_set (AttributeConsumingServiceIndex 99 or 100), no AllowCreate, no IsPassive.
// The node asks the person for their country, unless the login names it (eidas_country):
// then it goes beside the AuthnRequest as country.
func (p *Provider) Start(w http.ResponseWriter, r *http.Request, req *providers.LoginRequest) error {
	idp, err := p.OnlyIdP(r.Context(), "eidas.unavailable", "eIDAS node")
	if err != nil {
		return err
	}
	level, cmp := saml.Level(req, p.cfg.MinLevel, p.cfg.Comparison)
	set := MinimumSetIndex
	if p.cfg.AttributeSet == "extended" {
		set = ExtendedSetIndex
	}
	ar := saml.AuthnRequest{
		LoginID: req.ID, IdP: idp, Level: level, Comparison: cmp, ForceAuthn: req.ForceAuthn, AttributeService: &set,
	}
	if cc := req.Hints[CountryHint]; cc != "" {
		// Checked at /authorize; checked again, as the record crossed the Store.
		if err := p.CheckHint(CountryHint, cc); err != nil {
			return fmt.Errorf("eidas: %s: %w", CountryHint, err)
		}
		ar.Params = map[string]string{CountryParam: cc}
	}
	sent, err := p.Engine().SendAuthnRequest(w, r, ar)
	if sent != nil {
		p.Log().Info("eidas: authn request", "login_id", req.ID, "request_id", sent.ID, "loa", level, "country", req.Hints[CountryHint])
	}
	return err
}
