package cieid

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
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
	// Auditor receives the trace (cieid.authn_request, cieid.response).
	Auditor audit.Auditor
	Logger  *slog.Logger
	// Now is the clock (default time.Now); Rand the random source (default crypto/rand).
	Now  func() time.Time
	Rand io.Reader
	// HTTPClient fetches the IdP metadata (default: a client with a 10s timeout).
	HTTPClient *http.Client
	// BaseURL is the broker's public base URL, e.g. http://127.0.0.1:8080.
	BaseURL string
	// ID is the provider id in the configuration (default "cieid").
	ID string
	// PostForm writes the auto-submitting form of the HTTP-POST binding (default: the
	// engine's plain form); Unavailable the 503 page of a store outage.
	PostForm    func(w http.ResponseWriter, r *http.Request, action string, fields map[string]string) error
	Unavailable func(w http.ResponseWriter, r *http.Request, err error)
}

// Provider is the CIE ID Service Provider ("Entra con CIE"): the CIE ID profile (profile.go)
// on the SAML engine of providers/saml, with its own entity and metadata at /cieid/metadata.
// It implements providers.RedirectProvider, Refresher, Runner and ReadinessReporter. It is no
// Logouter: the CIE ID server does not answer SAML single logout (the CIE ID technical
// manual, "Protocolli di comunicazione": a "Simple Logout" of its own).
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
	_ providers.Refresher         = (*Provider)(nil)
	_ providers.Runner            = (*Provider)(nil)
	_ providers.ReadinessReporter = (*Provider)(nil)
)

// Open builds the CIE ID provider of c with what the broker gives it.
func Open(h providers.Host, c *Config) (*Provider, error) {
	d := Deps{ID: h.ID, Store: h.Store, Auditor: h.Auditor, Logger: h.Logger, BaseURL: h.Issuer}
	if h.Broker != nil {
		d.PostForm, d.Unavailable = h.Broker.WritePostForm, h.Broker.WriteUnavailable
	}
	return New(c, d)
}

// New builds the provider from a validated Config. The IdP metadata is not fetched here:
// Run (periodic refresh), Refresh, or the first lookup load it.
func New(cfg *Config, deps Deps) (*Provider, error) {
	if cfg == nil {
		return nil, errors.New("cieid: nil config")
	}
	if deps.Store == nil {
		return nil, errors.New("cieid: a Store is required")
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
		deps.ID = "cieid"
	}
	base := strings.TrimRight(deps.BaseURL, "/")
	if base == "" && (cfg.EntityID == "" || cfg.ACSURL == "" || cfg.SLOURL == "") {
		return nil, errors.New("cieid: BaseURL is required to derive the entity ID and endpoints")
	}
	kp, err := samlx.LoadKeyPair(cfg.KeyFile, cfg.CertFile)
	if err != nil {
		return nil, fmt.Errorf("cieid: SP key: %w", err)
	}
	ec := engineConfig(cfg, base, kp)
	log := deps.Logger.With("provider", deps.ID)
	p := &Provider{cfg: cfg, deps: deps, log: log, entityID: ec.EntityID}
	engine, err := saml.New(profile(cfg), ec, saml.Deps{
		Store: deps.Store, Now: deps.Now, Rand: deps.Rand, HTTPClient: deps.HTTPClient, Logger: log,
		Audit: p.audit, PostForm: deps.PostForm, Unavailable: deps.Unavailable,
	})
	if err != nil {
		return nil, err
	}
	p.engine, p.registry = engine, engine.Registry()
	return p, nil
}

// engineConfig is the SAML engine's view of the SP: endpoints under /cieid/, one
// AttributeConsumingService (index 0, the eIDAS minimum data set, its ServiceName with an
// empty xml:lang as the CIE ID technical manual shows it).
func engineConfig(cfg *Config, base string, kp *samlx.KeyPair) saml.Config {
	or := func(v, def string) string {
		if v != "" {
			return v
		}
		return def
	}
	return saml.Config{
		EntityID: or(cfg.EntityID, base+"/cieid/metadata"),
		ACSURL:   or(cfg.ACSURL, base+"/cieid/acs"),
		SLOURL:   or(cfg.SLOURL, base+"/cieid/slo"),
		Keys:     kp, Organization: cfg.Organization,
		AttributeServices: []saml.AttributeService{{Index: 0, Names: map[string]string{"": cfg.ServiceName},
			Attributes: Attributes}},
		MetadataValidity: cfg.MetadataValidity, IdPs: cfg.IdPs, MetadataRefresh: cfg.MetadataRefresh,
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

// Readiness fails while the CIE ID server's metadata has never loaded.
func (p *Provider) Readiness(ctx context.Context) providers.Readiness {
	return p.registry.Readiness(ctx)
}

// Info describes CIE ID to the login page: auth_method cie, up to SpidL3, its own chooser
// entry ("cieid": the "Entra con CIE" button).
func (p *Provider) Info() providers.Info {
	return providers.Info{
		ID:     p.deps.ID,
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

// Routes lists the path prefixes Handler serves.
func (p *Provider) Routes() []string { return []string{"/cieid/"} }

// Handler serves /cieid/metadata, /cieid/acs and /cieid/slo.
func (p *Provider) Handler(f providers.Finisher) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /cieid/metadata", p.serveMetadata)
	mux.HandleFunc("POST /cieid/acs", func(w http.ResponseWriter, r *http.Request) {
		p.engine.ServeACS(w, r, f, saml.ACS{Method: providers.MethodCIE, Identity: identityFrom})
	})
	mux.HandleFunc("/cieid/slo", p.engine.ServeSLO)
	return mux
}

// Metadata returns the signed SP metadata.
func (p *Provider) Metadata() ([]byte, error) { return p.engine.Metadata() }

func (p *Provider) serveMetadata(w http.ResponseWriter, _ *http.Request) {
	b, err := p.Metadata()
	if err != nil {
		p.log.Error("cieid: metadata", "err", err)
		http.Error(w, "metadata unavailable", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	_, _ = w.Write(b)
}

// Start sends the browser to the CIE ID server with a signed AuthnRequest: ForceAuthn always,
// the level asked (at least min_level) with Comparison minimum or exact, no AllowCreate, no
// IsPassive, Destination the SSO Location of the binding used.
func (p *Provider) Start(w http.ResponseWriter, r *http.Request, req *providers.LoginRequest) error {
	ctx := r.Context()
	idps := p.registry.List(ctx)
	if len(idps) == 0 {
		return &providers.UserError{Code: "cieid.unavailable",
			Err: fmt.Errorf("cieid: the CIE ID server's metadata is not loaded: %w", providers.ErrUnavailable)}
	}
	idp, ok := p.registry.Lookup(ctx, idps[0].EntityID)
	if !ok {
		return &providers.UserError{Code: "cieid.unavailable",
			Err: fmt.Errorf("cieid: CIE ID server not available: %w", providers.ErrUnavailable)}
	}
	level := max(loa.LevelOf(req.ACR), p.cfg.MinLevel)
	cmp := req.Comparison
	if cmp != loa.Minimum && cmp != loa.Exact {
		cmp = p.cfg.Comparison
	}
	sent, err := p.engine.SendAuthnRequest(w, r, saml.AuthnRequest{
		LoginID: req.ID, IdP: idp, Level: level, Comparison: cmp, ForceAuthn: true,
	})
	if sent != nil {
		p.log.Info("cieid: authn request", "login_id", req.ID, "request_id", sent.ID, "loa", level)
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
		p.log.Error("cieid: audit", "type", typ, "err", err)
	}
}
