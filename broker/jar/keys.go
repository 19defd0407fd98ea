package jar

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Defaults of KeysOptions.
const (
	DefaultCacheTTL   = 5 * time.Minute
	DefaultMinRefresh = 10 * time.Second
	DefaultTimeout    = 5 * time.Second
	maxJWKS           = 256 << 10
)

// KeysOptions configure Keys.
type KeysOptions struct {
	// HTTPClient fetches the documents (default: a client with a DefaultTimeout timeout).
	// Redirects are never followed, whatever the client says.
	HTTPClient *http.Client
	// CacheTTL is how long a fetched set is used (default 5 minutes).
	CacheTTL time.Duration
	// MinRefresh is the shortest time between two fetches of one URI (default 10 s), so a
	// flood of request objects naming unknown keys does not become a flood of fetches.
	MinRefresh time.Duration
	// AllowHTTP accepts http:// URIs (dev mode only).
	AllowHTTP bool
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Keys fetches and caches clients' jwks_uri documents. It is safe for concurrent use.
type Keys struct {
	o    KeysOptions
	hc   http.Client
	mu   sync.Mutex
	sets map[string]*cached
}

type cached struct {
	mu      sync.Mutex // serialises fetches of one URI
	set     *jose.JSONWebKeySet
	fetched time.Time
}

// NewKeys returns an empty cache.
func NewKeys(o KeysOptions) *Keys {
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: DefaultTimeout}
	}
	if o.CacheTTL <= 0 {
		o.CacheTTL = DefaultCacheTTL
	}
	if o.MinRefresh <= 0 {
		o.MinRefresh = DefaultMinRefresh
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	hc := *o.HTTPClient
	if hc.Timeout <= 0 {
		hc.Timeout = DefaultTimeout
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	k := &Keys{o: o, sets: map[string]*cached{}}
	k.hc = hc
	return k
}

// Get returns the key set at uri: the cached one while younger than CacheTTL, unless again
// asks for a new fetch (a kid the cached set lacks), which happens at most once per
// MinRefresh. When a fetch fails, a cached set is served.
func (k *Keys) Get(ctx context.Context, uri string, again bool) (*jose.JSONWebKeySet, error) {
	k.mu.Lock()
	c := k.sets[uri]
	if c == nil {
		c = &cached{}
		k.sets[uri] = c
	}
	k.mu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	age := k.o.Now().Sub(c.fetched)
	if c.set != nil && (age < k.o.MinRefresh || (!again && age < k.o.CacheTTL)) {
		return c.set, nil
	}
	set, err := k.fetch(ctx, uri)
	if err != nil {
		if c.set != nil {
			return c.set, nil
		}
		return nil, err
	}
	c.set, c.fetched = set, k.o.Now()
	return set, nil
}

func (k *Keys) fetch(ctx context.Context, uri string) (*jose.JSONWebKeySet, error) {
	u, err := url.Parse(uri)
	if err != nil || u.Host == "" || (u.Scheme != "https" && !(k.o.AllowHTTP && u.Scheme == "http")) {
		return nil, fmt.Errorf("jwks_uri %q is not an https URL", uri)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := k.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("jwks_uri: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("jwks_uri: %s", resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKS+1))
	if err != nil {
		return nil, fmt.Errorf("jwks_uri: %w", err)
	}
	if len(b) > maxJWKS {
		return nil, errors.New("jwks_uri: document too large")
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(b, &set); err != nil {
		return nil, fmt.Errorf("jwks_uri: %w", err)
	}
	return &set, nil
}
