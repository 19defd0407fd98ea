package oidcfed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/inps/sportello/internal/store"
)

// Anchor is a configured trust anchor: its entity identifier and the federation keys known
// out of band (its entity configuration must be signed by one of them).
type Anchor struct {
	EntityID string
	JWKS     *jose.JSONWebKeySet
}

// Chain is a resolved, verified trust chain and the metadata it yields.
type Chain struct {
	// Subject is the leaf's entity identifier; Anchor the trust anchor reached.
	Subject string `json:"sub"`
	Anchor  string `json:"anchor"`
	// Path lists the entity identifiers from the leaf to the anchor.
	Path []string `json:"path"`
	// Expires is the earliest exp of the chain's statements (Unix seconds); Resolved is
	// when it was resolved.
	Expires  int64 `json:"exp"`
	Resolved int64 `json:"resolved"`
	// Statements are the compact JWSs: the leaf's entity configuration, the subordinate
	// statements upwards, the anchor's entity configuration.
	Statements []string `json:"statements"`
	// Metadata is the leaf's metadata of the resolved entity type, policies applied.
	Metadata map[string]any `json:"metadata"`
	// TrustMarks are the types of the leaf's trust marks that verified.
	TrustMarks []string `json:"trust_marks,omitempty"`
}

// ExpiresAt is the chain's expiry as a time.
func (c *Chain) ExpiresAt() time.Time { return time.Unix(c.Expires, 0) }

// JWKS is the leaf's OIDC keys (the metadata's jwks), parsed.
func (c *Chain) JWKS() (*jose.JSONWebKeySet, error) {
	raw, err := json.Marshal(c.Metadata["jwks"])
	if err != nil {
		return nil, err
	}
	set := &jose.JSONWebKeySet{}
	if err := json.Unmarshal(raw, set); err != nil || len(set.Keys) == 0 {
		return nil, fmt.Errorf("%w: %s: metadata jwks missing or not a JWKS", ErrMalformed, c.Subject)
	}
	return set, nil
}

// String is the metadata's string parameter name ("" when absent).
func (c *Chain) String(name string) string {
	s, _ := c.Metadata[name].(string)
	return s
}

// Outcomes of a resolution, as the metrics count them.
const (
	OutcomeResolved  = "resolved"
	OutcomeCached    = "cached"
	OutcomeNoChain   = "no_chain"
	OutcomeExpired   = "expired"
	OutcomeSignature = "bad_signature"
	OutcomePolicy    = "policy_violation"
	OutcomeTrustMark = "trust_mark"
	OutcomeMalformed = "malformed"
	OutcomeFetch     = "fetch_error"
	OutcomeStore     = "store_error"
)

// outcomeOf names err for the metrics.
func outcomeOf(err error) string {
	switch {
	case err == nil:
		return OutcomeResolved
	case errors.Is(err, ErrPolicy):
		return OutcomePolicy
	case errors.Is(err, ErrTrustMark):
		return OutcomeTrustMark
	case errors.Is(err, ErrSignature):
		return OutcomeSignature
	case errors.Is(err, ErrExpired):
		return OutcomeExpired
	case errors.Is(err, ErrMalformed):
		return OutcomeMalformed
	case errors.Is(err, ErrFetch):
		return OutcomeFetch
	}
	return OutcomeNoChain
}

// Resolver resolves trust chains to its anchors and caches them in the Store (shared by the
// replicas) until their exp.
type Resolver struct {
	Anchors []Anchor
	Client  *http.Client
	Store   store.Store
	Logger  *slog.Logger
	// Now is the clock (default time.Now); Skew the tolerance on iat and exp (default 1 min).
	Now  func() time.Time
	Skew time.Duration
	// MaxDepth bounds the superiors walked above the leaf (default 5).
	MaxDepth int
	// RefreshBefore is how long before exp a cached chain is resolved again (default 1 h,
	// at most half the chain's life).
	RefreshBefore time.Duration
	// OnResolve is told each resolution's outcome (metrics); nil when not counted.
	OnResolve func(entityType, outcome string)
}

func (r *Resolver) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Resolver) skew() time.Duration {
	if r.Skew > 0 {
		return r.Skew
	}
	return time.Minute
}

func (r *Resolver) count(entityType, outcome string) {
	if r.OnResolve != nil {
		r.OnResolve(entityType, outcome)
	}
}

func cacheKey(entityType, sub string) string { return "oidcfed:chain:" + entityType + ":" + sub }

// Resolve returns the verified chain of entityID for entityType (openid_provider for an OP),
// with every trust mark type of required verified: from the Store while it is fresh, else
// resolved again (a chain still valid in the Store is kept when a refresh fails).
func (r *Resolver) Resolve(ctx context.Context, entityType, entityID string, required []string) (*Chain, error) {
	cached, err := r.cached(ctx, entityType, entityID)
	if err != nil {
		r.count(entityType, OutcomeStore)
		return nil, err
	}
	now := r.now()
	if cached != nil && now.Before(r.refreshAt(cached)) && hasAll(cached.TrustMarks, required) {
		r.count(entityType, OutcomeCached)
		return cached, nil
	}
	c, err := r.ResolveFresh(ctx, entityType, entityID, required)
	if err != nil {
		if cached != nil && now.Before(cached.ExpiresAt()) && hasAll(cached.TrustMarks, required) {
			r.log().Warn("federation: refreshing a trust chain failed, keeping the cached one", "entity", entityID, "error", err, "exp", cached.ExpiresAt())
			return cached, nil
		}
		return nil, err
	}
	return c, nil
}

func (r *Resolver) log() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (r *Resolver) refreshAt(c *Chain) time.Time {
	before := r.RefreshBefore
	if before == 0 {
		before = time.Hour
	}
	life := c.ExpiresAt().Sub(time.Unix(c.Resolved, 0))
	if before > life/2 {
		before = life / 2
	}
	return c.ExpiresAt().Add(-before)
}

func (r *Resolver) cached(ctx context.Context, entityType, entityID string) (*Chain, error) {
	if r.Store == nil {
		return nil, nil
	}
	raw, err := r.Store.Get(ctx, cacheKey(entityType, entityID))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("oidcfed: trust chain cache: %w", err)
	}
	c := &Chain{}
	if err := json.Unmarshal(raw, c); err != nil || c.Subject != entityID {
		return nil, nil // a record this version cannot read: resolve again
	}
	return c, nil
}

// ResolveFresh resolves and verifies the chain of entityID now, ignoring the cache, and
// stores it.
func (r *Resolver) ResolveFresh(ctx context.Context, entityType, entityID string, required []string) (*Chain, error) {
	c, err := r.resolve(ctx, entityType, entityID, required)
	r.count(entityType, outcomeOf(err))
	if err != nil {
		return nil, err
	}
	if r.Store != nil {
		raw, err := json.Marshal(c)
		if err != nil {
			return nil, err
		}
		if ttl := c.ExpiresAt().Sub(r.now()); ttl > 0 {
			if err := r.Store.Put(ctx, cacheKey(entityType, entityID), raw, ttl); err != nil {
				r.log().Warn("federation: caching a trust chain failed", "entity", entityID, "error", err)
			}
		}
	}
	return c, nil
}

func (r *Resolver) anchor(id string) *Anchor {
	for i := range r.Anchors {
		if r.Anchors[i].EntityID == id {
			return &r.Anchors[i]
		}
	}
	return nil
}

func (r *Resolver) client() *http.Client {
	if r.Client != nil {
		return r.Client
	}
	return &http.Client{Timeout: 10 * time.Second}
}

// configuration fetches, parses and self-verifies the entity configuration of id.
func (r *Resolver) configuration(ctx context.Context, id string) (*Statement, error) {
	raw, err := fetchStatement(ctx, r.client(), ConfigurationURL(id))
	if err != nil {
		return nil, err
	}
	return r.parseConfiguration(raw, id)
}

func (r *Resolver) parseConfiguration(raw, id string) (*Statement, error) {
	ec, err := ParseStatement(raw, r.now(), r.skew())
	if err != nil {
		return nil, err
	}
	if ec.Issuer != id || ec.Subject != id {
		return nil, fmt.Errorf("%w: entity configuration at %s is about %s, issued by %s", ErrMalformed, ConfigurationURL(id), ec.Subject, ec.Issuer)
	}
	if err := ec.VerifySelf(); err != nil {
		return nil, err
	}
	return ec, nil
}

// link is one step up: the superior's subordinate statement about the entity below, and the
// superior's own entity configuration.
type link struct {
	sub, sup *Statement
}

func (r *Resolver) resolve(ctx context.Context, entityType, entityID string, required []string) (*Chain, error) {
	if err := checkEntityID(entityID); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	leaf, err := r.configuration(ctx, entityID)
	if err != nil {
		return nil, err
	}
	if _, ok := leaf.Metadata[entityType]; !ok {
		return nil, fmt.Errorf("%w: %s has no %s metadata", ErrMalformed, entityID, entityType)
	}
	links, err := r.walk(ctx, leaf, 0, map[string]bool{entityID: true})
	if err != nil {
		return nil, err
	}
	return r.assemble(leaf, links, entityType, required)
}

// walk finds a path from ec up to a configured anchor through ec's authority hints, depth
// first, and returns its links.
func (r *Resolver) walk(ctx context.Context, ec *Statement, depth int, seen map[string]bool) ([]link, error) {
	maxDepth := r.MaxDepth
	if maxDepth == 0 {
		maxDepth = 5
	}
	if len(ec.AuthorityHints) == 0 {
		return nil, fmt.Errorf("%w: %s has no authority_hints and is not a configured trust anchor", ErrNoChain, ec.Subject)
	}
	var errs []error
	for _, hint := range ec.AuthorityHints {
		if seen[hint] {
			errs = append(errs, fmt.Errorf("%w: loop through %s", ErrNoChain, hint))
			continue
		}
		l, err := r.step(ctx, ec, hint)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if r.anchor(hint) != nil {
			return []link{l}, nil
		}
		if depth+1 >= maxDepth {
			errs = append(errs, fmt.Errorf("%w: more than %d superiors above the leaf", ErrNoChain, maxDepth))
			continue
		}
		seen[hint] = true
		rest, err := r.walk(ctx, l.sup, depth+1, seen)
		delete(seen, hint)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		return append([]link{l}, rest...), nil
	}
	return nil, errors.Join(errs...)
}

// step verifies one link: the superior's configuration (signed with the configured keys
// when it is an anchor), its subordinate statement about ec (signed with the superior's
// keys), and ec itself signed with a key that statement lists.
func (r *Resolver) step(ctx context.Context, ec *Statement, hint string) (link, error) {
	sup, err := r.configuration(ctx, hint)
	if err != nil {
		return link{}, err
	}
	if a := r.anchor(hint); a != nil {
		if err := sup.VerifyWith(a.JWKS); err != nil {
			return link{}, fmt.Errorf("trust anchor %s: %w", hint, err)
		}
	}
	endpoint := sup.MetadataString(EntityFederated, "federation_fetch_endpoint")
	if endpoint == "" {
		return link{}, fmt.Errorf("%w: %s publishes no federation_fetch_endpoint", ErrMalformed, hint)
	}
	u, err := fetchURL(endpoint, ec.Subject)
	if err != nil {
		return link{}, err
	}
	raw, err := fetchStatement(ctx, r.client(), u)
	if err != nil {
		return link{}, err
	}
	ss, err := ParseStatement(raw, r.now(), r.skew())
	if err != nil {
		return link{}, err
	}
	if ss.Issuer != hint || ss.Subject != ec.Subject {
		return link{}, fmt.Errorf("%w: %s answered a statement by %s about %s for %s", ErrMalformed, hint, ss.Issuer, ss.Subject, ec.Subject)
	}
	if err := ss.VerifyWith(sup.JWKS); err != nil {
		return link{}, err
	}
	if err := ec.VerifyWith(ss.JWKS); err != nil {
		return link{}, fmt.Errorf("%s's own configuration against %s's statement: %w", ec.Subject, hint, err)
	}
	return link{sub: ss, sup: sup}, nil
}

// assemble checks the constraints, applies the metadata policies and the trust marks, and
// builds the Chain.
func (r *Resolver) assemble(leaf *Statement, links []link, entityType string, required []string) (*Chain, error) {
	c := &Chain{Subject: leaf.Subject, Path: []string{leaf.Subject}, Statements: []string{leaf.Raw}, Expires: leaf.Expires,
		Resolved: r.now().Unix()}
	policies := make([]Policy, 0, len(links))
	for i, l := range links {
		if mpl := l.sub.Constraints; mpl != nil && mpl.MaxPathLength != nil && i > *mpl.MaxPathLength {
			return nil, fmt.Errorf("%w: %s allows %d intermediates below it, the chain has %d", ErrNoChain, l.sub.Issuer, *mpl.MaxPathLength, i)
		}
		c.Path = append(c.Path, l.sup.Subject)
		c.Statements = append(c.Statements, l.sub.Raw)
		c.Expires = min(c.Expires, l.sub.Expires, l.sup.Expires)
		policies = append(policies, l.sub.MetadataPolicy)
	}
	top := links[len(links)-1].sup
	c.Anchor = top.Subject
	c.Statements = append(c.Statements, top.Raw)
	slices.Reverse(policies) // the anchor's first
	merged, err := MergePolicies(policies...)
	if err != nil {
		return nil, err
	}
	md := leaf.Metadata[entityType]
	if over := links[0].sub.Metadata[entityType]; over != nil { // the superior's own values win
		md = maps(md, over)
	}
	if md, err = ApplyPolicy(merged[entityType], md); err != nil {
		return nil, fmt.Errorf("%s: %w", leaf.Subject, err)
	}
	c.Metadata = md
	c.TrustMarks = r.trustMarks(leaf, links, top)
	for _, want := range required {
		if !slices.Contains(c.TrustMarks, want) {
			return nil, fmt.Errorf("%w: %s has no valid trust mark %s", ErrTrustMark, leaf.Subject, want)
		}
	}
	return c, nil
}

func maps(base, over map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		out[k] = v
	}
	return out
}

func hasAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}
