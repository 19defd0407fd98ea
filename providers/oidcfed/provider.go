package oidcfed

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/inps/sportello/config"
	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/providers"
)

// Method is the provider's method in the chooser; its logins carry auth_method spid or cie.
const Method = "oidcfed"

// Type is the oidcfed provider type for cmd/sportello's list.
var Type = providers.Type{
	Name:  "oidcfed",
	Order: 1,
	Decode: func(id string, p *config.Provider, dev bool) (any, []error) {
		return Decode(id, p, dev)
	},
	Open: func(h providers.Host, cfg any) (providers.Provider, error) {
		return Open(h, cfg.(*Config), Options{})
	},
	Messages: Messages(),
}

// Options are what tests and dev mode inject.
type Options struct {
	// Client fetches statements and calls the OPs (default: 10 s timeout).
	Client *http.Client
	// Now is the clock (default time.Now).
	Now func() time.Time
	// OnResolve is told each chain resolution's outcome (metrics).
	OnResolve func(entityType, outcome string)
}

// Provider is the federation Relying Party: one provider for every configured SPID and CIE
// OpenID Provider.
type Provider struct {
	h        providers.Host
	cfg      *Config
	entityID string
	log      *slog.Logger
	client   *http.Client
	clock    func() time.Time
	src      KeySource
	keys     atomic.Pointer[KeySet]
	resolver *Resolver
	ops      map[string]OPConfig
	// chains are the OPs with a valid chain, by entity id, as last resolved.
	chains   atomic.Pointer[map[string]*Chain]
	finisher providers.Finisher
	// resolved is what each refresh saw of every OP, for the operators' console.
	resolved atomic.Pointer[map[string]OPState]
}

// OPState is one configured OpenID Provider as the last refreshes saw it.
type OPState struct {
	EntityID, Name string
	// LastAttempt is the last refresh; LastResolved the last one that gave a valid trust
	// chain, ChainExpires that chain's exp (zero: none yet).
	LastAttempt, LastResolved, ChainExpires time.Time
	// LastError is the last refresh's failure ("" when its chain resolved).
	LastError string
	// Offered: its chain is valid now, so the chooser offers it.
	Offered bool
}

// OPs reports every configured OP in configuration order; it resolves nothing.
func (p *Provider) OPs() []OPState {
	seen := map[string]OPState{}
	if m := p.resolved.Load(); m != nil {
		seen = *m
	}
	chains := *p.chains.Load()
	now := p.now()
	out := make([]OPState, 0, len(p.cfg.OpenIDProviders))
	for _, op := range p.cfg.OpenIDProviders {
		st := seen[op.EntityID]
		st.EntityID, st.Name = op.EntityID, op.EntityID
		if c, ok := chains[op.EntityID]; ok {
			st.Name = p.opName(op, c)
			st.Offered = now.Before(c.ExpiresAt())
		} else if op.Name != "" {
			st.Name = op.Name
		}
		out = append(out, st)
	}
	return out
}

var (
	_ providers.RedirectProvider = (*Provider)(nil)
	_ providers.OptionLister     = (*Provider)(nil)
	_ providers.Refresher        = (*Provider)(nil)
	_ providers.Runner           = (*Provider)(nil)
	_ providers.Logouter         = (*Provider)(nil)
)

// Open builds the provider of c and loads its keys.
func Open(h providers.Host, c *Config, o Options) (*Provider, error) {
	p := &Provider{h: h, cfg: c, entityID: c.EntityID, client: o.Client, clock: o.Now, ops: map[string]OPConfig{}}
	if p.entityID == "" {
		p.entityID = strings.TrimRight(h.Issuer, "/")
	}
	p.log = h.Logger
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	p.log = p.log.With("provider", h.ID)
	if p.client == nil {
		p.client = &http.Client{Timeout: 10 * time.Second}
	}
	if p.clock == nil {
		p.clock = time.Now
	}
	src, err := keySource(h, c, p.clock)
	if err != nil {
		return nil, err
	}
	p.src = src
	ks, err := p.src.Load(context.Background())
	if err != nil {
		return nil, fmt.Errorf("oidcfed %s: %w", h.ID, err)
	}
	p.keys.Store(ks)
	if o.OnResolve == nil {
		o.OnResolve = h.OnChainResolution
	}
	p.resolver = &Resolver{Anchors: c.anchors, Client: p.client, Store: h.Store, Logger: p.log, Now: p.clock,
		Skew: c.ClockSkew, RefreshBefore: c.ChainRefresh, OnResolve: o.OnResolve}
	for _, op := range c.OpenIDProviders {
		p.ops[op.EntityID] = op
	}
	empty := map[string]*Chain{}
	p.chains.Store(&empty)
	return p, nil
}

func (p *Provider) now() time.Time  { return p.clock() }
func (p *Provider) keySet() *KeySet { return p.keys.Load() }

// Info implements providers.Provider.
func (p *Provider) Info() providers.Info {
	return providers.Info{ID: p.h.ID, Method: Method, MaxACR: loa.SpidL3,
		Name:        map[string]string{"it": "SPID o CIE (OpenID Connect)", "en": "SPID or CIE (OpenID Connect)"},
		Description: map[string]string{"it": "Entra con SPID o con CIE tramite la federazione OpenID Connect.", "en": "Sign in with SPID or CIE through the OpenID Connect federation."}}
}

// ChannelOIDCFed is the cie_channel of a CIE login through the federation's CIE OP (the
// card's certificate says "certificate", CIE ID "cieid"): the same person, the same sub.
const ChannelOIDCFed = "oidcfed"

// Options lists the OPs whose trust chain is valid now: an OP without one is not offered.
func (p *Provider) Options() []providers.Option {
	chains := *p.chains.Load()
	now := p.now()
	var out []providers.Option
	for _, op := range p.cfg.OpenIDProviders {
		c, ok := chains[op.EntityID]
		if !ok || !now.Before(c.ExpiresAt()) {
			continue
		}
		// The CIE OP is the Ministry's CIE ID server over OpenID Connect: the CIE ID entry.
		entry := "spid"
		if op.Profile == ProfileCIE {
			entry = "cieid"
		}
		out = append(out, providers.Option{Hint: op.EntityID, Name: p.opName(op, c), Entry: entry})
	}
	return out
}

func (p *Provider) opName(op OPConfig, c *Chain) string {
	if op.Name != "" {
		return op.Name
	}
	if n := c.String("organization_name"); n != "" {
		return n
	}
	return op.EntityID
}

// Routes implements providers.RouteProvider: the entity configuration and the callback.
func (p *Provider) Routes() []string { return []string{WellKnown, CallbackPath} }

// Handler serves the entity configuration and the authorization response.
func (p *Provider) Handler(f providers.Finisher) http.Handler {
	p.finisher = f
	mux := http.NewServeMux()
	mux.HandleFunc(WellKnown, p.serveEntityConfiguration)
	mux.HandleFunc(CallbackPath, func(w http.ResponseWriter, r *http.Request) { p.callback(w, r, f) })
	return mux
}

// Refresh resolves the chain of every OP (from the Store while fresh) and keeps the valid
// ones; an OP without a valid chain is logged and not offered.
func (p *Provider) Refresh(ctx context.Context) error {
	if ks, err := p.src.Load(ctx); err == nil {
		p.keys.Store(ks)
	} else {
		p.log.Error("federation: reloading the keys failed, keeping the loaded ones", "error", err)
	}
	next := map[string]*Chain{}
	state := map[string]OPState{}
	if m := p.resolved.Load(); m != nil {
		for k, v := range *m {
			state[k] = v
		}
	}
	now := p.now()
	var errs []error
	for _, op := range p.cfg.OpenIDProviders {
		st := state[op.EntityID]
		st.LastAttempt = now
		c, err := p.resolver.Resolve(ctx, EntityOP, op.EntityID, op.TrustMarks)
		if err != nil {
			p.log.Warn("federation: OpenID Provider not offered: no valid trust chain", "op", op.EntityID, "error", err)
			errs = append(errs, fmt.Errorf("%s: %w", op.EntityID, err))
			st.LastError = err.Error()
			state[op.EntityID] = st
			continue
		}
		st.LastResolved, st.ChainExpires, st.LastError = now, c.ExpiresAt(), ""
		state[op.EntityID] = st
		next[op.EntityID] = c
	}
	p.chains.Store(&next)
	p.resolved.Store(&state)
	if len(next) == 0 && len(errs) > 0 {
		return errors.Join(errs...)
	}
	return nil
}

// Run refreshes the chains every minute (each is resolved again only near its exp).
func (p *Provider) Run(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_ = p.Refresh(ctx)
		}
	}
}

// Chains returns the valid chains as last resolved, by OP entity id.
func (p *Provider) Chains() map[string]*Chain { return *p.chains.Load() }

// chainFor is the OP's current chain: resolved through the Store-backed cache, so a replica
// that never refreshed still finds it.
func (p *Provider) chainFor(ctx context.Context, entityID string) (*Chain, OPConfig, error) {
	op, ok := p.ops[entityID]
	if !ok {
		return nil, op, fmt.Errorf("%w: %s is not a configured OpenID Provider", providers.ErrCredentialRejected, entityID)
	}
	c, err := p.resolver.Resolve(ctx, EntityOP, entityID, op.TrustMarks)
	if err != nil {
		return nil, op, err
	}
	return c, op, nil
}

// keySource is where the keys are: with the broker's keys in the Store (h.SealKey) the set is
// there too, filled in dev mode from the files (generated); else the files of keys_dir. A
// source set on the configuration (dev federation, tests) is used as the files are.
func keySource(h providers.Host, c *Config, clock func() time.Time) (KeySource, error) {
	files := c.keys
	if files == nil && c.KeysDir != "" {
		files = &FileKeySource{Dir: c.KeysDir, Generate: c.generate, Now: clock}
	}
	if h.SealKey != nil {
		src := &StoreKeySource{Store: h.Store, CryptoKey: h.SealKey, Key: StoreKeyPrefix + h.ID, Now: clock}
		if h.Dev {
			src.Bootstrap = files
		}
		return src, nil
	}
	if files == nil {
		return nil, fmt.Errorf("oidcfed %s: %w: keys_dir is not set", h.ID, ErrNoKeys)
	}
	return files, nil
}
