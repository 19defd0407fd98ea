package broker

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/inps/sportello/broker/bclogout"
	"github.com/inps/sportello/broker/grants"
	"github.com/inps/sportello/broker/jar"
	"github.com/inps/sportello/broker/keys"
	"github.com/inps/sportello/broker/par"
	"github.com/inps/sportello/broker/session"
	"github.com/inps/sportello/broker/verify/dpop"
	"github.com/inps/sportello/config"
	"github.com/inps/sportello/internal/audit"
	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/providers"
)

// Options are the broker's dependencies; cmd/sportello builds them.
type Options struct {
	Config *config.Config
	Store  store.Store
	// Providers in chooser order. Their Info().ID must be unique.
	Providers []providers.Provider
	// Open opens, after Providers and in chooser order, the providers that use the broker's
	// services: New calls each once with the broker, before it serves anything.
	Open []func(providers.Services) (providers.Provider, error)
	// Keys is the source of signing keys.
	Keys keys.Source
	// SubjectKey is the HMAC key of the sub derivation (≥ 32 bytes).
	SubjectKey []byte
	// CryptoKey is the shared key for sealing state and MACs (≥ 32 bytes).
	CryptoKey []byte
	Logger    *slog.Logger
	Auditor   audit.Auditor
	// Registerer receives the Prometheus metrics (nil: a private registry).
	Registerer prometheus.Registerer
	// Gatherer serves /metrics (nil: the private registry).
	Gatherer prometheus.Gatherer
	// Messages adds provider message catalogues (key → lang → text).
	Messages map[string]map[string]string
	// Delegations, when set, offers delegates the choice to act for a delegator and re-checks
	// delegated grants at every refresh.
	Delegations Delegations
	// Entitlements, when set, returns an official's authorisations by fiscal code (default: the
	// first provider that is a providers.Entitler); they are added to every login, whatever
	// the credential (authorisations belong to the person).
	Entitlements func(ctx context.Context, fiscalNumber string) ([]string, error)
	// Switches, when set, are the security team's overrides: a switched-off provider or IdP
	// refuses new logins, a switched-off client's requests and tokens stop.
	Switches Switches
	// Routes are extra handlers mounted in every mode (delegation pages, operators' APIs).
	Routes map[string]http.Handler
	// Mount, when set, returns further extra handlers that use the broker's services; New
	// calls it once with the broker.
	Mount func(providers.Services) (map[string]http.Handler, error)
	// DevRoutes are extra handlers mounted in dev mode (dev IdPs, outbox, dev PKI).
	DevRoutes map[string]http.Handler
	Now       func() time.Time
	Rand      io.Reader
	// KeyReloadInterval is how often the key set is re-read (default 10s).
	KeyReloadInterval time.Duration
	// ReadyChecks are reported in /readyz beside the store's PING and the providers' own.
	ReadyChecks []ReadyCheck
	// CountLogin, when set, counts each login beside sportello_logins_total, for the
	// console's logins of the last hour: see LoginOutcome.
	CountLogin func(kind, id, outcome string)
	// BackchannelInterval is how often Run looks at the back-channel logout queue besides
	// the sessions this replica ends (default DefaultBackchannelInterval).
	BackchannelInterval time.Duration
	// BackchannelClient delivers the logout tokens (default: the queue's own client, no
	// redirects, 10 s timeout).
	BackchannelClient *http.Client
}

// Broker is the OIDC provider and login orchestrator.
type Broker struct {
	op.UnimplementedServer

	cfg        *config.Config
	issuer     string
	accessAud  string
	store      store.Store
	log        *slog.Logger
	audit      audit.Auditor
	now        func() time.Time
	rand       io.Reader
	subjectKey []byte
	cryptoKey  []byte
	keys       *keys.Ring
	grants     *grants.Repo
	sessions   *session.Repo
	bcl        *bclogout.Queue
	bclKick    chan struct{}
	bclEvery   time.Duration
	bclClient  *http.Client
	par        *par.Requests
	jar        *jar.Verifier
	// dpopAS checks the DPoP proofs of the token endpoint and PAR (server nonces required),
	// dpopRS those that come with DPoP-bound tokens at userinfo.
	dpopAS, dpopRS *dpop.Checker
	clients        atomic.Pointer[clientSet] // replaced whole by ReloadClients
	provs          []providers.Provider
	provByID       map[string]providers.Provider
	metrics        *metrics
	countLogin     func(kind, id, outcome string)
	catalogue      *catalogue
	discovery      []byte
	devRoutes      map[string]http.Handler
	routesExtra    map[string]http.Handler
	entitle        func(ctx context.Context, fiscalNumber string) ([]string, error)
	switches       Switches
	delegs         Delegations
	// starting keeps /readyz at 503 until the process says start-up is complete.
	starting    atomic.Bool
	readyChecks []ReadyCheck
	// readyNotes holds the last non-ok checks /readyz saw, to log changes only.
	readyNotes  atomic.Value
	reloadEvery time.Duration
	handler     http.Handler
	// oauth registers the token-side endpoints on a mux (routes: the main listener;
	// MTLSHandler: the mutual-TLS listener's aliases, RFC 8705 §5).
	oauth func(mux *http.ServeMux, mtls bool)
}

var _ op.Server = (*Broker)(nil)

// New builds a broker. It loads the signing keys (bootstrapping them when needed).
func New(ctx context.Context, o Options) (*Broker, error) {
	if o.Config == nil || o.Store == nil || o.Keys == nil {
		return nil, errors.New("broker: Config, Store and Keys are required")
	}
	if len(o.SubjectKey) < 32 {
		return nil, errors.New("broker: subject key must be at least 32 bytes")
	}
	if len(o.CryptoKey) < 32 {
		return nil, errors.New("broker: crypto key must be at least 32 bytes")
	}
	b := &Broker{
		cfg:         o.Config,
		issuer:      strings.TrimRight(o.Config.Issuer, "/"),
		accessAud:   o.Config.AccessAudience(),
		store:       o.Store,
		log:         o.Logger,
		audit:       o.Auditor,
		now:         o.Now,
		rand:        o.Rand,
		subjectKey:  o.SubjectKey,
		cryptoKey:   o.CryptoKey,
		provs:       slices.Clone(o.Providers),
		provByID:    map[string]providers.Provider{},
		devRoutes:   o.DevRoutes,
		routesExtra: maps.Clone(o.Routes),
		entitle:     o.Entitlements,
		switches:    o.Switches,
		delegs:      o.Delegations,
		reloadEvery: o.KeyReloadInterval,
		readyChecks: o.ReadyChecks,
		bclKick:     make(chan struct{}, 1),
		bclEvery:    o.BackchannelInterval,
		bclClient:   o.BackchannelClient,
	}
	b.setDefaults()
	if err := b.openRepos(nil); err != nil {
		return nil, err
	}
	pushed, err := par.New(o.Store, par.Options{TTL: o.Config.PAR.TTL, Rand: b.rand, Prefix: parPrefix})
	if err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	b.par = pushed
	objects, err := jar.New(jar.Options{Issuer: b.issuer, Store: o.Store, Prefix: jarPrefix,
		Now: func() time.Time { return b.now() }, Keys: jar.NewKeys(jar.KeysOptions{AllowHTTP: o.Config.Dev})})
	if err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	b.jar = objects
	if err := b.dpopCheckers(); err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	if err := b.loadClients(o.Config); err != nil {
		return nil, err
	}
	if err := b.openProviders(o); err != nil {
		return nil, err
	}
	if err := b.checkCredentials(b.clientMap()); err != nil {
		return nil, err
	}
	grace := o.Config.Keys.RetiredGrace
	if grace == 0 {
		grace = max(o.Config.Tokens.AccessTTL, o.Config.Tokens.IDTTL) + time.Minute
	}
	b.keys = &keys.Ring{Source: o.Keys, Grace: grace, Now: b.now, Log: b.log}
	b.keys.Changed = func(active []string) {
		// Every replica records when it starts signing with other keys (key ids only).
		b.auditEvent(context.Background(), "keys.reloaded", "", map[string]any{"active": active})
	}
	if _, err := b.keys.Reload(ctx); err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	b.metrics = newMetrics(o.Registerer, o.Gatherer)
	b.countLogin = o.CountLogin
	msgs := map[string]map[string]string{}
	for k, v := range actForMessages {
		msgs[k] = v
	}
	for k, v := range o.Messages {
		msgs[k] = v
	}
	b.catalogue = newCatalogue(msgs)
	disc, err := b.buildDiscovery()
	if err != nil {
		return nil, err
	}
	b.discovery = disc
	b.handler = b.routes()
	return b, nil
}

// openRepos opens the grants, the sessions and the back-channel logout queue over the Store;
// sign signs the logout tokens (nil: the broker's key ring).
func (b *Broker) openRepos(sign bclogout.Signer) error {
	cfg := b.cfg
	b.grants = grants.New(grants.Options{Store: b.store, RefreshTTL: cfg.Tokens.RefreshTTL,
		AccessTTL: cfg.Tokens.AccessTTL, ReuseGrace: cfg.Tokens.ReuseGrace(),
		Now: func() time.Time { return b.now() }, Rand: b.rand, Logger: b.log})
	b.sessions = session.New(session.Options{Store: b.store, Idle: cfg.Tokens.SessionIdle,
		MaxAge: cfg.Tokens.SessionMax, Now: func() time.Time { return b.now() }, Rand: b.rand,
		Subject: func(id *providers.Identity) string { return subjectOf(b.subjectKey, id) },
		OnEnd:   b.sessionEnded})
	bcl, err := b.newBackchannel(sign)
	if err != nil {
		return fmt.Errorf("broker: %w", err)
	}
	b.bcl = bcl
	return nil
}

// setDefaults fills the options left unset: a discarding logger and auditor, the system
// clock and random source, key reloads every 10 s.
func (b *Broker) setDefaults() {
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	if b.audit == nil {
		b.audit = nopAuditor{}
	}
	if b.now == nil {
		b.now = time.Now
	}
	if b.rand == nil {
		b.rand = rand.Reader
	}
	if b.reloadEvery == 0 {
		b.reloadEvery = 10 * time.Second
	}
	if b.bclEvery <= 0 {
		b.bclEvery = DefaultBackchannelInterval
	}
}

// loadClients registers the configured clients and the broker's own sign-in client, whose id
// no configured client may take.
func (b *Broker) loadClients(cfg *config.Config) error {
	set, err := b.buildClients(cfg)
	if err != nil {
		return err
	}
	b.clients.Store(set)
	return nil
}

// buildClients makes the client set of cfg: every configured client, then the broker's own.
func (b *Broker) buildClients(cfg *config.Config) (*clientSet, error) {
	byID := map[string]*Client{}
	for _, c := range cfg.Clients {
		cl, err := newClient(c, cfg.Tokens.IDTTL, cfg.Dev, cfg.Keys.Algorithm)
		if err != nil {
			return nil, fmt.Errorf("broker: %w", err)
		}
		byID[cl.id] = cl
	}
	if _, taken := byID[selfClientID]; taken {
		return nil, fmt.Errorf("broker: client id %q is reserved for the broker's own sign-in", selfClientID)
	}
	self, err := selfClient(b.issuer, cfg.Tokens.IDTTL, cfg.Dev)
	if err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	byID[selfClientID] = self
	return &clientSet{byID: byID, cors: newCORSPolicy(byID), defaultACR: cfg.Policy.DefaultACR}, nil
}

// checkCredentials refuses a client whose credentials name no provider.
func (b *Broker) checkCredentials(clients map[string]*Client) error {
	for _, cl := range clients {
		for _, id := range cl.credentials {
			if _, ok := b.provByID[id]; !ok {
				return fmt.Errorf("broker: client %s: credentials names %q, which is no provider", cl.id, id)
			}
		}
	}
	return nil
}

// openProviders opens the providers of o.Open and the routes of o.Mount with the broker's
// services, indexes every provider by id (unique) and finds the Entitler when no
// Entitlements function was given.
func (b *Broker) openProviders(o Options) error {
	for _, open := range o.Open {
		p, err := open(b)
		if err != nil {
			return err
		}
		b.provs = append(b.provs, p)
	}
	if o.Mount != nil {
		routes, err := o.Mount(b)
		if err != nil {
			return err
		}
		if b.routesExtra == nil {
			b.routesExtra = map[string]http.Handler{}
		}
		maps.Copy(b.routesExtra, routes)
	}
	for _, p := range b.provs {
		id := p.Info().ID
		if _, dup := b.provByID[id]; dup {
			return fmt.Errorf("broker: duplicate provider id %q", id)
		}
		b.provByID[id] = p
		if e, ok := p.(providers.Entitler); ok && b.entitle == nil {
			b.entitle = e.Entitlements
		}
	}
	return nil
}

// StartingUntilReady makes /readyz answer 503 until MarkReady: for a process that still has
// start-up work after its listener is bound.
func (b *Broker) StartingUntilReady() { b.starting.Store(true) }

// MarkReady ends the start-up phase of StartingUntilReady.
func (b *Broker) MarkReady() { b.starting.Store(false) }

// Run keeps the broker's background work going until ctx ends, and returns when all of it
// has stopped: key reloads, and the delivery of back-channel logout tokens (every replica
// works the shared queue; see broker/bclogout).
func (b *Broker) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { b.runBackchannel(ctx) })
	b.keys.Watch(ctx, b.reloadEvery)
	wg.Wait()
}

// ReloadKeys re-reads the key set now (SIGHUP).
func (b *Broker) ReloadKeys(ctx context.Context) error {
	_, err := b.keys.Reload(ctx)
	return err
}

// ServeHTTP serves the main listener.
func (b *Broker) ServeHTTP(w http.ResponseWriter, r *http.Request) { b.handler.ServeHTTP(w, r) }

// Issuer returns the issuer URL.
func (b *Broker) Issuer() string { return b.issuer }

// Finisher returns the broker's providers.Finisher (for providers serving their own routes).
func (b *Broker) Finisher() providers.Finisher { return (*finisher)(b) }

// Providers lists the providers in chooser order, those of Options.Open included.
func (b *Broker) Providers() []providers.Provider { return slices.Clone(b.provs) }

var _ providers.Services = (*Broker)(nil)

type nopAuditor struct{}

func (nopAuditor) Audit(context.Context, audit.Event) error { return nil }

func (b *Broker) auditEvent(ctx context.Context, typ, actor string, fields map[string]any) {
	if err := b.audit.Audit(ctx, audit.Event{Time: b.now().UTC(), Type: typ, Actor: actor, Fields: fields}); err != nil {
		b.log.ErrorContext(ctx, "audit write failed", "type", typ, "error", err)
	}
}
