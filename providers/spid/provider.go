package spid

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

// Deps are the provider's collaborators, injected by cmd/sportello.
type Deps struct {
	// Store keeps request records and the assertion replay cache (shared by all replicas).
	Store store.Store
	// Auditor receives the AgID trace (spid.authn_request, spid.response, spid.logout).
	Auditor audit.Auditor
	Logger  *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Rand is the random source of IDs and RelayState (default crypto/rand).
	Rand io.Reader
	// HTTPClient fetches IdP metadata (default: a client with a 10s timeout).
	HTTPClient *http.Client
	// BaseURL is the broker's public base URL, e.g. http://127.0.0.1:8080.
	BaseURL string
	// ID is the provider id in the configuration (default "spid").
	ID string
	// SessionEnder, when set, is called on an IdP-initiated LogoutRequest with the SPID session
	// (idp, name_id, session_index) so the broker can end its own session. Optional.
	SessionEnder func(ctx context.Context, session map[string]string) error
	// PostForm writes the auto-submitting form of the HTTP-POST binding in the broker's page
	// layout (CSP-compatible: no inline script). Default: a plain bilingual form whose visible
	// button works without JavaScript.
	PostForm func(w http.ResponseWriter, r *http.Request, action string, fields map[string]string) error
	// Unavailable answers a logout message that the store could not serve: 503, Retry-After
	// and the broker's page saying the service is temporarily unavailable. Default: the same
	// in plain bilingual text.
	Unavailable func(w http.ResponseWriter, r *http.Request, err error)
}

// spSettings are the resolved SP identity and endpoints.
type spSettings struct {
	Cfg      *Config
	EntityID string
	ACSURL   string
	SLOURL   string
	Keys     *samlx.KeyPair
}

// engineConfig is the SAML engine's view of the SP.
func (sp *spSettings) engineConfig() saml.Config {
	c := sp.Cfg
	return saml.Config{
		EntityID: sp.EntityID, ACSURL: sp.ACSURL, SLOURL: sp.SLOURL, Keys: sp.Keys,
		Organization: c.Organization, AttributeServices: c.AttributeServices,
		AttributeServiceIndex: c.acsIndex(), MetadataValidity: c.MetadataValidity,
		IdPs: c.IdPs, MetadataRefresh: c.MetadataRefresh, ClockSkew: c.ClockSkew, RequestTTL: c.RequestTTL,
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
// providers/saml. It implements providers.RedirectProvider, providers.Logouter,
// providers.Refresher and providers.Runner.
type Provider struct {
	sp       spSettings
	deps     Deps
	log      *slog.Logger
	engine   *saml.SP
	registry *saml.Registry
	trace    *traceFile
}

var (
	_ providers.RedirectProvider = (*Provider)(nil)
	_ providers.Logouter         = (*Provider)(nil)
	_ providers.OptionLister     = (*Provider)(nil)
	_ providers.Refresher        = (*Provider)(nil)
	_ providers.Runner           = (*Provider)(nil)
)

// New builds the provider from a validated Config. IdP metadata is not fetched here: call
// Run (periodic refresh) or let the first lookup load it lazily.
func New(cfg *Config, deps Deps) (*Provider, error) {
	if cfg == nil {
		return nil, errors.New("spid: nil config")
	}
	if deps.Store == nil {
		return nil, errors.New("spid: a Store is required")
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
	if deps.HTTPClient == nil {
		deps.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if deps.ID == "" {
		deps.ID = "spid"
	}
	if deps.PostForm == nil {
		deps.PostForm = func(w http.ResponseWriter, _ *http.Request, action string, fields map[string]string) error {
			return samlx.WritePOSTForm(w, action, fields)
		}
	}
	sp, err := resolveSP(cfg, deps.BaseURL)
	if err != nil {
		return nil, err
	}
	log := deps.Logger.With("provider", deps.ID)
	p := &Provider{sp: sp, deps: deps, log: log}
	engine, err := saml.New(profile(cfg), sp.engineConfig(), saml.Deps{
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
	if cfg.TraceFile != "" {
		if p.trace, err = openTrace(cfg.TraceFile); err != nil {
			return nil, fmt.Errorf("spid: %w", err)
		}
	}
	return p, nil
}

// resolveSP loads the SP key and derives the entity ID and endpoints from baseURL.
func resolveSP(cfg *Config, baseURL string) (spSettings, error) {
	base := strings.TrimRight(baseURL, "/")
	if base == "" && (cfg.EntityID == "" || cfg.ACSURL == "" || cfg.SLOURL == "") {
		return spSettings{}, errors.New("spid: BaseURL is required to derive the entity ID and endpoints")
	}
	kp, err := samlx.LoadKeyPair(cfg.KeyFile, cfg.CertFile)
	if err != nil {
		return spSettings{}, fmt.Errorf("spid: SP key: %w", err)
	}
	sp := spSettings{Cfg: cfg, EntityID: cfg.EntityID, ACSURL: cfg.ACSURL, SLOURL: cfg.SLOURL, Keys: kp}
	if sp.EntityID == "" {
		sp.EntityID = base + "/spid/metadata"
	}
	if sp.ACSURL == "" {
		sp.ACSURL = base + "/spid/acs"
	}
	if sp.SLOURL == "" {
		sp.SLOURL = base + "/spid/slo"
	}
	return sp, nil
}

// Run refreshes the IdP metadata periodically until ctx ends (first refresh immediately).
func (p *Provider) Run(ctx context.Context) { p.registry.Run(ctx) }

// Refresh reloads the IdP metadata now (dev mode calls it once its listener is up, since it
// serves the dev IdPs itself).
func (p *Provider) Refresh(ctx context.Context) error { return p.registry.Refresh(ctx) }

// Registry exposes the identity-provider registry (for health checks and tests).
func (p *Provider) Registry() *saml.Registry { return p.registry }

// EntityID is the SP entityID.
func (p *Provider) EntityID() string { return p.sp.EntityID }

// Info describes SPID to the login page.
func (p *Provider) Info() providers.Info {
	return providers.Info{
		ID:     p.deps.ID,
		Method: providers.MethodSPID,
		MaxACR: loa.SpidL3,
		Name:   map[string]string{"it": "SPID", "en": "SPID"},
		Description: map[string]string{
			"it": "Sistema Pubblico di Identità Digitale",
			"en": "Italian Public Digital Identity System",
		},
	}
}

// Routes lists the path prefixes Handler serves.
func (p *Provider) Routes() []string { return []string{"/spid/"} }

// IdPs lists the identity providers for the chooser.
func (p *Provider) IdPs() []IdPInfo {
	var out []IdPInfo
	for _, idp := range p.registry.List(context.Background()) {
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

// Handler serves /spid/metadata, /spid/acs and /spid/slo.
func (p *Provider) Handler(f providers.Finisher) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /spid/metadata", p.serveMetadata)
	mux.HandleFunc("POST /spid/acs", func(w http.ResponseWriter, r *http.Request) { p.serveACS(w, r, f) })
	mux.HandleFunc("/spid/slo", p.engine.ServeSLO)
	return mux
}

// Metadata returns the signed SP metadata, regenerated when half its validity has passed.
func (p *Provider) Metadata() ([]byte, error) { return p.engine.Metadata() }

// Logout starts SP-initiated single logout: a signed LogoutRequest for the identity's SPID
// session, sent on the IdP's SLO binding; the IdP's answer at /spid/slo redirects to returnTo.
func (p *Provider) Logout(w http.ResponseWriter, r *http.Request, id *providers.Identity, returnTo string) error {
	if id == nil || id.Session["idp"] == "" || id.Session["name_id"] == "" {
		return errors.New("spid: identity carries no SPID session")
	}
	return p.engine.Logout(w, r, id.Session, id.FiscalNumber, returnTo)
}

func (p *Provider) serveMetadata(w http.ResponseWriter, r *http.Request) {
	b, err := p.Metadata()
	if err != nil {
		p.log.Error("spid: metadata", "err", err)
		http.Error(w, "metadata unavailable", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	_, _ = w.Write(b)
}

// audit writes one trace record to the Auditor and the trace file; failures are logged (the
// login itself is not refused for a trace failure, but the operator sees it).
func (p *Provider) audit(ctx context.Context, typ, actor string, fields map[string]any) {
	ev := audit.Event{Time: p.deps.Now().UTC(), Type: typ, Actor: actor, Fields: fields}
	if p.deps.Auditor != nil {
		if err := p.deps.Auditor.Audit(ctx, ev); err != nil {
			p.log.Error("spid: audit", "type", typ, "err", err)
		}
	}
	if p.trace != nil {
		if err := p.trace.Audit(ctx, ev); err != nil {
			p.log.Error("spid: trace file", "type", typ, "err", err)
		}
	}
}

// Close releases the trace file.
func (p *Provider) Close() error {
	if p.trace != nil {
		return p.trace.Close()
	}
	return nil
}
