package saml

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/inps/sportello/config"
	"github.com/inps/sportello/internal/audit"
	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/saml/samlx"
)

// ProfileDeps are the collaborators of a profile's provider (SPID, CIE ID, eIDAS), injected
// by cmd/sportello through Open (HostDeps) or by tests.
type ProfileDeps struct {
	// Store keeps request records and the assertion replay cache (shared by all replicas).
	Store store.Store
	// Auditor receives the federation's trace ("<profile>.authn_request", "<profile>.response",
	// "<profile>.logout_request", ...).
	Auditor audit.Auditor
	Logger  *slog.Logger
	// Now is the clock (default time.Now); Rand the random source of IDs and RelayState
	// (default crypto/rand).
	Now  func() time.Time
	Rand io.Reader
	// HTTPClient fetches the IdP metadata (default: a client with a 10s timeout).
	HTTPClient *http.Client
	// BaseURL is the broker's public base URL, e.g. http://127.0.0.1:8080: the entity ID and
	// the endpoints not configured are derived from it.
	BaseURL string
	// ID is the provider id in the configuration (default: the profile's name).
	ID string
	// SessionEnder, when set, is called on an IdP-initiated LogoutRequest with the session
	// (idp, name_id, session_index) so the broker can end its own. Read at each logout, so it
	// may be set after the provider is built.
	SessionEnder func(ctx context.Context, session map[string]string) error
	// PostForm writes the auto-submitting form of the HTTP-POST binding in the broker's page
	// layout (default: the engine's plain bilingual form); Unavailable answers a message the
	// store could not serve (503, Retry-After; default: plain bilingual text).
	PostForm    func(w http.ResponseWriter, r *http.Request, action string, fields map[string]string) error
	Unavailable func(w http.ResponseWriter, r *http.Request, err error)
}

// HostDeps are the deps of a provider opened by the broker: its id, base URL, store, audit
// trail and log, and the running broker's forms, outage page and session ending.
func HostDeps(h providers.Host) ProfileDeps {
	d := ProfileDeps{ID: h.ID, Store: h.Store, Auditor: h.Auditor, Logger: h.Logger, BaseURL: h.Issuer}
	if h.Broker != nil {
		d.SessionEnder, d.PostForm, d.Unavailable = h.Broker.EndUpstreamSession, h.Broker.WritePostForm, h.Broker.WriteUnavailable
	}
	return d
}

// ProfileSpec is what a profile package tells the base: everything else of a SAML provider —
// construction, routes, metadata, ACS and SLO glue, the audit trail — is ProfileProvider's.
type ProfileSpec struct {
	// Profile is the engine's profile; its Name ("spid", "cieid", "eidas") is the default
	// provider id, the path of the endpoints (/<name>/metadata, /<name>/acs, /<name>/slo),
	// and the prefix of errors, log lines and audit events.
	Profile Profile
	// Config is the engine's configuration; an empty EntityID, ACSURL or SLOURL is derived
	// from ProfileDeps.BaseURL (<base>/<name>/metadata, /acs, /slo), and Keys is loaded from
	// KeyFile and CertFile.
	Config            Config
	KeyFile, CertFile string
	// Method is the auth_method of the identities; Identity maps a validated assertion to one.
	Method   string
	Identity func(ctx context.Context, a *Assertion, idp *IdP) (*providers.Identity, error)
	// NameIdP names the IdP of the request in every failed attempt (ACS.NameIdP), for a
	// federation whose identities name their IdP (SPID: spid_idp).
	NameIdP bool
	// Trace, when set, receives every audit event too (SPID's trace file): a failure is
	// logged.
	Trace func(ctx context.Context, ev audit.Event) error
}

// Resolve is the engine's configuration of spec for the broker at baseURL: the SP key loaded,
// an empty EntityID, ACSURL or SLOURL derived (<base>/<profile>/metadata, /acs, /slo).
func (spec ProfileSpec) Resolve(baseURL string) (Config, error) {
	name, ec := spec.Profile.Name, spec.Config
	base := strings.TrimRight(baseURL, "/")
	if base == "" && (ec.EntityID == "" || ec.ACSURL == "" || ec.SLOURL == "") {
		return Config{}, fmt.Errorf("%s: BaseURL is required to derive the entity ID and endpoints", name)
	}
	kp, err := samlx.LoadKeyPair(spec.KeyFile, spec.CertFile)
	if err != nil {
		return Config{}, fmt.Errorf("%s: SP key: %w", name, err)
	}
	ec.Keys = kp
	for _, f := range []struct {
		v    *string
		path string
	}{{&ec.EntityID, "/metadata"}, {&ec.ACSURL, "/acs"}, {&ec.SLOURL, "/slo"}} {
		if *f.v == "" {
			*f.v = base + "/" + name + f.path
		}
	}
	return ec, nil
}

// ProfileProvider is the scaffolding of a provider on a SAML profile: the engine, its IdP
// registry, the endpoints under /<profile>/ and the audit trail. A profile package embeds it
// and adds only its differences: Info, Start (levels, attribute sets, hints), the identity
// mapping, its metadata extensions and configuration. It implements Refresher, Runner,
// ReadinessReporter and the RouteProvider half of RedirectProvider; it is no Logouter by
// itself (a profile whose IdP answers single logout says so with a Logout that calls
// LogoutSession).
type ProfileProvider struct {
	spec   ProfileSpec
	deps   ProfileDeps
	log    *slog.Logger
	engine *SP
	name   string
}

// NewProfileProvider loads the SP key, derives the endpoints and builds the engine. The IdP
// metadata is not fetched here: Run (periodic refresh), Refresh, or the first lookup load it.
func NewProfileProvider(spec ProfileSpec, deps ProfileDeps) (*ProfileProvider, error) {
	name := spec.Profile.Name
	if deps.Store == nil {
		return nil, fmt.Errorf("%s: a Store is required", name)
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.ID == "" {
		deps.ID = name
	}
	ec, err := spec.Resolve(deps.BaseURL)
	if err != nil {
		return nil, err
	}
	p := &ProfileProvider{spec: spec, deps: deps, log: deps.Logger.With("provider", deps.ID), name: name}
	p.engine, err = New(spec.Profile, ec, Deps{
		Store: deps.Store, Now: deps.Now, Rand: deps.Rand, HTTPClient: deps.HTTPClient, Logger: p.log,
		Audit: p.audit, PostForm: deps.PostForm, Unavailable: deps.Unavailable,
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
	// The engine's defaults (time.Now, crypto/rand) are the provider's.
	p.deps.Now, p.deps.Rand = p.engine.deps.Now, p.engine.deps.Rand
	return p, nil
}

// ID is the provider id in the configuration.
func (p *ProfileProvider) ID() string { return p.deps.ID }

// Deps are the provider's collaborators, defaults filled in. SetSessionEnder changes the one
// field that may change after construction.
func (p *ProfileProvider) Deps() ProfileDeps { return p.deps }

// SetSessionEnder sets the function an IdP-initiated logout calls (ProfileDeps.SessionEnder).
func (p *ProfileProvider) SetSessionEnder(f func(ctx context.Context, session map[string]string) error) {
	p.deps.SessionEnder = f
}

// Log is the provider's logger (with its id).
func (p *ProfileProvider) Log() *slog.Logger { return p.log }

// Engine is the SAML engine.
func (p *ProfileProvider) Engine() *SP { return p.engine }

// Keys are the SP's signing key and certificate.
func (p *ProfileProvider) Keys() *samlx.KeyPair { return p.engine.cfg.Keys }

// EntityID is the SP entityID; ACSURL its Assertion Consumer Service.
func (p *ProfileProvider) EntityID() string { return p.engine.cfg.EntityID }
func (p *ProfileProvider) ACSURL() string   { return p.engine.cfg.ACSURL }

// Registry exposes the identity-provider registry (for health checks and tests).
func (p *ProfileProvider) Registry() *Registry { return p.engine.registry }

// Run refreshes the IdP metadata periodically until ctx ends (the first refresh at once).
func (p *ProfileProvider) Run(ctx context.Context) { p.engine.registry.Run(ctx) }

// Refresh reloads the IdP metadata now (dev mode calls it once its listener is up, since it
// serves the dev IdPs itself).
func (p *ProfileProvider) Refresh(ctx context.Context) error { return p.engine.registry.Refresh(ctx) }

// Readiness is the registry's: failing while no identity provider of the profile is loaded,
// a warning while a metadata source has no copy or keeps a stale one.
func (p *ProfileProvider) Readiness(ctx context.Context) providers.Readiness {
	return p.engine.registry.Readiness(ctx)
}

// Routes lists the path prefix Handler serves, /<profile>/.
func (p *ProfileProvider) Routes() []string { return []string{"/" + p.name + "/"} }

// Handler serves /<profile>/metadata, /<profile>/acs (HTTP-POST) and /<profile>/slo (both
// bindings, both directions).
func (p *ProfileProvider) Handler(f providers.Finisher) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /"+p.name+"/metadata", p.serveMetadata)
	mux.HandleFunc("POST /"+p.name+"/acs", func(w http.ResponseWriter, r *http.Request) {
		p.engine.ServeACS(w, r, f, ACS{Method: p.spec.Method, NameIdP: p.spec.NameIdP, Identity: p.spec.Identity})
	})
	mux.HandleFunc("/"+p.name+"/slo", p.engine.ServeSLO)
	return mux
}

// Metadata returns the signed SP metadata, regenerated when half its validity has passed.
func (p *ProfileProvider) Metadata() ([]byte, error) { return p.engine.Metadata() }

func (p *ProfileProvider) serveMetadata(w http.ResponseWriter, _ *http.Request) {
	b, err := p.Metadata()
	if err != nil {
		p.log.Error(p.name+": metadata", "err", err)
		http.Error(w, "metadata unavailable", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	_, _ = w.Write(b)
}

// LogoutSession starts SP-initiated single logout (SAML Profiles §4.4): a signed
// LogoutRequest for the identity's session (idp, name_id, name_qualifier, session_index of
// the login's assertion) on the IdP's SLO binding; the IdP's answer at /<profile>/slo
// redirects to returnTo. The audit trail names the person by fiscal number, else by
// PersonIdentifier.
func (p *ProfileProvider) LogoutSession(w http.ResponseWriter, r *http.Request, id *providers.Identity, returnTo string) error {
	if id == nil || id.Session["idp"] == "" || id.Session["name_id"] == "" {
		return fmt.Errorf("%s: identity carries no session of this identity provider", p.name)
	}
	actor := id.FiscalNumber
	if actor == "" {
		actor = id.PersonIdentifier
	}
	return p.engine.Logout(w, r, id.Session, actor, returnTo)
}

// OnlyIdP is the one identity provider of a profile that has one (the CIE ID server, the
// eIDAS node), loaded or not: a login while its metadata is missing is a UserError of code
// (the profile's "unavailable" page) wrapping providers.ErrUnavailable.
func (p *ProfileProvider) OnlyIdP(ctx context.Context, code, what string) (*IdP, error) {
	idps := p.engine.registry.List(ctx)
	if len(idps) == 0 {
		return nil, &providers.UserError{Code: code,
			Err: fmt.Errorf("%s: the %s's metadata is not loaded: %w", p.name, what, providers.ErrUnavailable)}
	}
	idp, ok := p.engine.registry.Lookup(ctx, idps[0].EntityID)
	if !ok {
		return nil, &providers.UserError{Code: code,
			Err: fmt.Errorf("%s: %s not available: %w", p.name, what, providers.ErrUnavailable)}
	}
	return idp, nil
}

// Level is what an AuthnRequest asks for req: its level, at least minLevel, and its
// comparison when it is minimum or exact, else def.
func Level(req *providers.LoginRequest, minLevel int, def string) (int, string) {
	cmp := req.Comparison
	if cmp != loa.Minimum && cmp != loa.Exact {
		cmp = def
	}
	return max(loa.LevelOf(req.ACR), minLevel), cmp
}

// audit writes one trace record to the Auditor and the Trace; a failure is logged, the login
// is not refused for it (the operator sees it).
func (p *ProfileProvider) audit(ctx context.Context, typ, actor string, fields map[string]any) {
	ev := audit.Event{Time: p.deps.Now().UTC(), Type: typ, Actor: actor, Fields: fields}
	if p.deps.Auditor != nil {
		if err := p.deps.Auditor.Audit(ctx, ev); err != nil {
			p.log.Error(p.name+": audit", "type", typ, "err", err)
		}
	}
	if p.spec.Trace != nil {
		if err := p.spec.Trace(ctx, ev); err != nil {
			p.log.Error(p.name+": trace file", "type", typ, "err", err)
		}
	}
}

// ProfileType is the providers.Type of a profile package for cmd/sportello's list: its
// configuration decoder and its Open, typed, with its page catalogue.
func ProfileType[C any, P providers.Provider](name string, order int,
	decode func(id string, p *config.Provider, dev bool) (*C, []error),
	open func(h providers.Host, c *C) (P, error), messages map[string]map[string]string) providers.Type {
	return providers.Type{
		Name:  name,
		Order: order,
		Decode: func(id string, p *config.Provider, dev bool) (any, []error) {
			return decode(id, p, dev)
		},
		Open: func(h providers.Host, cfg any) (providers.Provider, error) {
			return open(h, cfg.(*C))
		},
		Messages: messages,
	}
}
