package eidas

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/inps/sportello/internal/audit"
	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/saml"
	"github.com/inps/sportello/providers/saml/samlx"
)

// Deps are the provider's collaborators.
type Deps struct {
	// Store keeps request records and the assertion replay cache (shared by all replicas).
	Store store.Store
	// Auditor receives the trace (eidas.authn_request, eidas.response).
	Auditor audit.Auditor
	Logger  *slog.Logger
	// Now is the clock (default time.Now); Rand the random source (default crypto/rand).
	Now  func() time.Time
	Rand io.Reader
	// HTTPClient fetches the IdP metadata (default: a client with a 10s timeout).
	HTTPClient *http.Client
	// BaseURL is the broker's public base URL, e.g. http://127.0.0.1:8080.
	BaseURL string
	// ID is the provider id in the configuration (default "eidas").
	ID string
	// Linker finds the INPS record an eIDAS identity is linked to (default: the
	// configuration's links).
	Linker Linker
	// SessionEnder, when set, is called on the node's LogoutRequest (IdP-initiated logout)
	// with the eIDAS session (idp, name_id, session_index) so the broker ends its own.
	SessionEnder func(ctx context.Context, session map[string]string) error
	// PostForm writes the auto-submitting form of the HTTP-POST binding (default: the
	// engine's plain form); Unavailable the 503 page of a store outage.
	PostForm    func(w http.ResponseWriter, r *http.Request, action string, fields map[string]string) error
	Unavailable func(w http.ResponseWriter, r *http.Request, err error)
}

// Provider is the Service Provider towards the Italian eIDAS node (FICEP): the eIDAS profile
// (profile.go) on the SAML engine of providers/saml, with its own entity and metadata at
// /eidas/metadata. It implements providers.RedirectProvider, Logouter (single logout with the
// node, as SPID's), Hinter (eidas_country), Refresher, Runner and ReadinessReporter.
type Provider struct {
	cfg      *Config
	deps     Deps
	log      *slog.Logger
	engine   *saml.SP
	registry *saml.Registry
	entityID string
}

var (
	_ providers.RedirectProvider  = (*Provider)(nil)
	_ providers.Logouter          = (*Provider)(nil)
	_ providers.Refresher         = (*Provider)(nil)
	_ providers.Runner            = (*Provider)(nil)
	_ providers.ReadinessReporter = (*Provider)(nil)
	_ providers.Hinter            = (*Provider)(nil)
)

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

// Open builds the eIDAS provider of c with what the broker gives it.
func Open(h providers.Host, c *Config) (*Provider, error) {
	d := Deps{ID: h.ID, Store: h.Store, Auditor: h.Auditor, Logger: h.Logger, BaseURL: h.Issuer}
	if h.Broker != nil {
		d.SessionEnder, d.PostForm, d.Unavailable = h.Broker.EndUpstreamSession, h.Broker.WritePostForm, h.Broker.WriteUnavailable
	}
	return New(c, d)
}

// New builds the provider from a validated Config. The IdP metadata is not fetched here:
// Run (periodic refresh), Refresh, or the first lookup load it.
func New(cfg *Config, deps Deps) (*Provider, error) {
	if cfg == nil {
		return nil, errors.New("eidas: nil config")
	}
	if deps.Store == nil {
		return nil, errors.New("eidas: a Store is required")
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Rand == nil {
		deps.Rand = rand.Reader
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.ID == "" {
		deps.ID = "eidas"
	}
	if deps.Linker == nil {
		deps.Linker = StaticLinks(cfg.Links)
	}
	base := strings.TrimRight(deps.BaseURL, "/")
	if base == "" && (cfg.EntityID == "" || cfg.ACSURL == "" || cfg.SLOURL == "") {
		return nil, errors.New("eidas: BaseURL is required to derive the entity ID and endpoints")
	}
	kp, err := samlx.LoadKeyPair(cfg.KeyFile, cfg.CertFile)
	if err != nil {
		return nil, fmt.Errorf("eidas: SP key: %w", err)
	}
	ec := engineConfig(cfg, base, kp)
	log := deps.Logger.With("provider", deps.ID)
	p := &Provider{cfg: cfg, deps: deps, log: log, entityID: ec.EntityID}
	engine, err := saml.New(profile(cfg), ec, saml.Deps{
		Store: deps.Store, Now: deps.Now, Rand: deps.Rand, HTTPClient: deps.HTTPClient, Logger: log,
		Audit: p.audit, PostForm: deps.PostForm, Unavailable: deps.Unavailable,
		// Read at each logout, so that the field can be set after New.
		SessionEnder: func(ctx context.Context, session map[string]string) error {
			if p.deps.SessionEnder == nil {
				return nil
			}
			return p.deps.SessionEnder(ctx, session)
		},
	})
	if err != nil {
		return nil, err
	}
	p.engine, p.registry = engine, engine.Registry()
	return p, nil
}

// engineConfig is the SAML engine's view of the SP: endpoints under /eidas/, the two
// AttributeConsumingServices AgID gives an SP of the eIDAS node (99 minimum, 100 extended).
func engineConfig(cfg *Config, base string, kp *samlx.KeyPair) saml.Config {
	or := func(v, def string) string {
		if v != "" {
			return v
		}
		return def
	}
	return saml.Config{
		EntityID: or(cfg.EntityID, base+"/eidas/metadata"),
		ACSURL:   or(cfg.ACSURL, base+"/eidas/acs"),
		SLOURL:   or(cfg.SLOURL, base+"/eidas/slo"),
		Keys:     kp, Organization: cfg.Organization,
		AttributeServices: []saml.AttributeService{
			{Index: MinimumSetIndex, Names: map[string]string{"it": "eIDAS Natural Person Minimum Attribute Set"}, Attributes: MinimumSet},
			{Index: ExtendedSetIndex, Names: map[string]string{"it": "eIDAS Natural Person Full Attribute Set"}, Attributes: ExtendedSet},
		},
		AttributeServiceIndex: MinimumSetIndex,
		MetadataValidity:      cfg.MetadataValidity, IdPs: cfg.IdPs, MetadataRefresh: cfg.MetadataRefresh,
		ClockSkew: cfg.ClockSkew, RequestTTL: cfg.RequestTTL,
	}
}

// EntityID is the SP entityID.
func (p *Provider) EntityID() string { return p.entityID }

// Registry exposes the identity-provider registry (for health checks and tests).
func (p *Provider) Registry() *saml.Registry { return p.registry }

// Run refreshes the IdP metadata periodically until ctx ends.
func (p *Provider) Run(ctx context.Context) { p.registry.Run(ctx) }

// Refresh reloads the IdP metadata now.
func (p *Provider) Refresh(ctx context.Context) error { return p.registry.Refresh(ctx) }

// Readiness fails while the eIDAS node's metadata has never loaded.
func (p *Provider) Readiness(ctx context.Context) providers.Readiness {
	return p.registry.Readiness(ctx)
}

// Info describes eIDAS to the login page: auth_method eidas, up to SpidL3 (eIDAS high).
func (p *Provider) Info() providers.Info {
	return providers.Info{
		ID:     p.deps.ID,
		Method: providers.MethodEIDAS,
		MaxACR: loa.SpidL3,
		Name:   map[string]string{"it": "eIDAS", "en": "eIDAS"},
		Description: map[string]string{
			"it": "Accesso con l'identità digitale di un altro Paese dell'Unione europea",
			"en": "Sign in with the digital identity of another European Union country",
		},
	}
}

// Routes lists the path prefixes Handler serves.
func (p *Provider) Routes() []string { return []string{"/eidas/"} }

// Handler serves /eidas/metadata, /eidas/acs and /eidas/slo.
func (p *Provider) Handler(f providers.Finisher) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /eidas/metadata", p.serveMetadata)
	mux.HandleFunc("POST /eidas/acs", func(w http.ResponseWriter, r *http.Request) {
		p.engine.ServeACS(w, r, f, saml.ACS{Method: providers.MethodEIDAS, Identity: p.identityFrom})
	})
	mux.HandleFunc("/eidas/slo", p.engine.ServeSLO)
	return mux
}

// Logout starts SP-initiated single logout with the node (SAML Profiles §4.4, SPID's rules as
// for a SPID IdP: FICEP is one): a signed LogoutRequest for the identity's eIDAS session (the
// node, NameID, NameQualifier, SessionIndex of the login's assertion) on the node's SLO
// binding; the node's LogoutResponse at /eidas/slo redirects to returnTo. The node's own
// LogoutRequest (IdP-initiated) is answered there too and ends the broker session
// (Deps.SessionEnder).
func (p *Provider) Logout(w http.ResponseWriter, r *http.Request, id *providers.Identity, returnTo string) error {
	if id == nil || id.Session["idp"] == "" || id.Session["name_id"] == "" {
		return errors.New("eidas: identity carries no eIDAS session")
	}
	actor := id.FiscalNumber
	if actor == "" {
		actor = id.PersonIdentifier
	}
	return p.engine.Logout(w, r, id.Session, actor, returnTo)
}

// Metadata returns the signed SP metadata.
func (p *Provider) Metadata() ([]byte, error) { return p.engine.Metadata() }

func (p *Provider) serveMetadata(w http.ResponseWriter, _ *http.Request) {
	b, err := p.Metadata()
	if err != nil {
		p.log.Error("eidas: metadata", "err", err)
		http.Error(w, "metadata unavailable", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	_, _ = w.Write(b)
}

// Start sends the browser to the eIDAS node with a signed SPID-shaped AuthnRequest: the level
// asked (at least min_level: eIDAS substantial by default), ForceAuthn from L2, the data set
// of attribute_set (AttributeConsumingServiceIndex 99 or 100), no AllowCreate, no IsPassive.
// The node asks the person for their country, unless the login names it (eidas_country):
// then it goes beside the AuthnRequest as country.
func (p *Provider) Start(w http.ResponseWriter, r *http.Request, req *providers.LoginRequest) error {
	ctx := r.Context()
	idps := p.registry.List(ctx)
	if len(idps) == 0 {
		return &providers.UserError{Code: "eidas.unavailable",
			Err: fmt.Errorf("eidas: the eIDAS node's metadata is not loaded: %w", providers.ErrUnavailable)}
	}
	idp, ok := p.registry.Lookup(ctx, idps[0].EntityID)
	if !ok {
		return &providers.UserError{Code: "eidas.unavailable",
			Err: fmt.Errorf("eidas: eIDAS node not available: %w", providers.ErrUnavailable)}
	}
	level := max(loa.LevelOf(req.ACR), p.cfg.MinLevel)
	cmp := req.Comparison
	if cmp != loa.Minimum && cmp != loa.Exact {
		cmp = p.cfg.Comparison
	}
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
	sent, err := p.engine.SendAuthnRequest(w, r, ar)
	if sent != nil {
		p.log.Info("eidas: authn request", "login_id", req.ID, "request_id", sent.ID, "loa", level)
	}
	return err
}

// audit writes one trace record; a failure is logged, the login is not refused for it.
func (p *Provider) audit(ctx context.Context, typ, actor string, fields map[string]any) {
	if p.deps.Auditor == nil {
		return
	}
	ev := audit.Event{Time: p.deps.Now().UTC(), Type: typ, Actor: actor, Fields: fields}
	if err := p.deps.Auditor.Audit(ctx, ev); err != nil {
		p.log.Error("eidas: audit", "type", typ, "err", err)
	}
}
