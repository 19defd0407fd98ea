package oidcfed

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/inps/sportello/config"
	"github.com/inps/sportello/internal/store"
)

// Profiles of OpenID Provider.
const (
	ProfileSPID = "spid"
	ProfileCIE  = "cie"
)

// Config is the oidcfed provider section (providers.<id> with type: oidcfed).
type Config struct {
	// EntityID is the broker's entity identifier, also its client_id (default: the issuer);
	// its entity configuration is at EntityID/.well-known/openid-federation.
	EntityID string `yaml:"entity_id"`
	// AuthorityHints are the broker's superiors (the trust anchor, or an intermediate).
	AuthorityHints []string `yaml:"authority_hints"`
	// TrustAnchors are the anchors chains must reach, with their keys known out of band.
	TrustAnchors []AnchorConfig `yaml:"trust_anchors"`
	// OpenIDProviders are the SPID and CIE OPs offered (each only while its chain is valid).
	OpenIDProviders []OPConfig `yaml:"openid_providers"`
	// KeysDir holds the federation and RP key set (oidcfed-keys.json).
	KeysDir string `yaml:"keys_dir"`
	// TrustMarks are the trust marks issued to the broker, published in its configuration.
	TrustMarks []TrustMarkConfig `yaml:"trust_marks"`
	// Contacts, OrganizationName, HomepageURI, PolicyURI, LogoURI describe the broker in its
	// metadata.
	Contacts         []string `yaml:"contacts"`
	OrganizationName string   `yaml:"organization_name"`
	HomepageURI      string   `yaml:"homepage_uri"`
	PolicyURI        string   `yaml:"policy_uri"`
	LogoURI          string   `yaml:"logo_uri"`
	// StatementLifetime is the exp horizon of the broker's entity configuration (default 24h).
	StatementLifetime time.Duration `yaml:"statement_lifetime"`
	// ChainRefresh is how long before exp a chain is resolved again (default 1h).
	ChainRefresh time.Duration `yaml:"chain_refresh"`
	// ClockSkew tolerated on iat and exp (default 60s).
	ClockSkew time.Duration `yaml:"clock_skew"`
	// MinLevel is the lowest SPID level ever asked (default 2).
	MinLevel int `yaml:"min_level"`
	// RequestTTL bounds the time between the authorization request and the callback (15m).
	RequestTTL time.Duration `yaml:"request_ttl"`

	// anchors are the trust anchors with their keys (from the files, or set by dev mode).
	anchors []Anchor
	// keys, when set (dev federation, tests), replaces the key directory.
	keys KeySource
	// generate lets the key directory be created (dev mode).
	generate bool
	// id is the provider id of the section (Decode), which names its key set in the Store.
	id string
}

// AnchorConfig is one trust anchor.
type AnchorConfig struct {
	EntityID string `yaml:"entity_id"`
	// JWKSFile holds the anchor's federation JWKS (JSON), obtained out of band.
	JWKSFile string `yaml:"jwks_file"`
}

// OPConfig is one OpenID Provider.
type OPConfig struct {
	EntityID string `yaml:"entity_id"`
	// Profile is spid or cie: where the attributes are, GET or POST at userinfo, iss in the
	// authorization response.
	Profile string `yaml:"profile"`
	// Name is shown in the chooser (default: the OP's organization_name, else its entity id).
	Name string `yaml:"name"`
	// TrustMarks are the trust mark types the OP must hold.
	TrustMarks []string `yaml:"trust_marks"`
}

// TrustMarkConfig is a trust mark issued to the broker.
type TrustMarkConfig struct {
	Type string `yaml:"type"`
	// File holds the trust mark JWT.
	File string `yaml:"file"`
	jwt  string
}

// WithAnchor adds an anchor whose keys are known in memory (the dev federation).
func (c *Config) WithAnchor(entityID string, jwks *jose.JSONWebKeySet) {
	c.anchors = append(c.anchors, Anchor{EntityID: entityID, JWKS: jwks})
}

// WithKeys replaces the key directory by src.
func (c *Config) WithKeys(src KeySource) { c.keys = src }

// KeepKeysInStore makes the section's key set the one in st sealed with cryptoKey, as serve
// keeps it with the Redis store (`sportello federation keys` then initialises and rotates it
// there). The section must come from Decode, which names it.
func (c *Config) KeepKeysInStore(st store.Store, cryptoKey []byte) {
	c.keys = &StoreKeySource{Store: st, CryptoKey: cryptoKey, Key: StoreKeyPrefix + c.id}
}

// WithTrustMark adds a trust mark issued to the broker, as a JWT.
func (c *Config) WithTrustMark(typ, jwt string) {
	c.TrustMarks = append(c.TrustMarks, TrustMarkConfig{Type: typ, jwt: jwt})
}

// Decode strictly decodes and validates the section of provider id, reading the anchors'
// JWKS and the trust marks.
func Decode(id string, p *config.Provider, dev bool) (*Config, []error) {
	c := &Config{}
	if errs := p.Decode(id, c); len(errs) > 0 {
		return nil, errs
	}
	path := "providers." + id
	var errs []error
	bad := func(at, format string, args ...any) {
		errs = append(errs, &config.FieldError{Path: path + at, Line: p.Node.Line, Column: p.Node.Column, Msg: fmt.Sprintf(format, args...)})
	}
	c.ApplyDefaults()
	c.generate, c.id = dev, id
	if c.EntityID != "" {
		if err := checkID(c.EntityID, dev); err != nil {
			bad(".entity_id", "%v", err)
		}
	}
	for i, h := range c.AuthorityHints {
		if err := checkID(h, dev); err != nil {
			bad(fmt.Sprintf(".authority_hints[%d]", i), "%v", err)
		}
	}
	if len(c.TrustAnchors) == 0 && !dev {
		bad(".trust_anchors", "at least one trust anchor is required")
	}
	for i, a := range c.TrustAnchors {
		at := fmt.Sprintf(".trust_anchors[%d]", i)
		if err := checkID(a.EntityID, dev); err != nil {
			bad(at+".entity_id", "%v", err)
		}
		file := p.Resolver.Path(a.JWKSFile)
		set, err := readJWKS(file)
		if err != nil {
			bad(at+".jwks_file", "%v", err)
			continue
		}
		c.anchors = append(c.anchors, Anchor{EntityID: a.EntityID, JWKS: set})
	}
	seen := map[string]bool{}
	for i, op := range c.OpenIDProviders {
		at := fmt.Sprintf(".openid_providers[%d]", i)
		if err := checkID(op.EntityID, dev); err != nil {
			bad(at+".entity_id", "%v", err)
		}
		if seen[op.EntityID] {
			bad(at+".entity_id", "%s is listed twice", op.EntityID)
		}
		seen[op.EntityID] = true
		if op.Profile != ProfileSPID && op.Profile != ProfileCIE {
			bad(at+".profile", "want spid or cie, got %q", op.Profile)
		}
	}
	if c.KeysDir == "" && !dev {
		bad(".keys_dir", "the directory of the federation keys is required")
	}
	c.KeysDir = p.Resolver.Path(c.KeysDir)
	for i := range c.TrustMarks {
		at := fmt.Sprintf(".trust_marks[%d]", i)
		if c.TrustMarks[i].Type == "" {
			bad(at+".type", "the trust mark type is required")
		}
		data, err := os.ReadFile(p.Resolver.Path(c.TrustMarks[i].File)) // #nosec G304 -- a configured file
		if err != nil {
			bad(at+".file", "%v", err)
			continue
		}
		c.TrustMarks[i].jwt = string(data)
	}
	if c.MinLevel < 1 || c.MinLevel > 3 {
		bad(".min_level", "want 1, 2 or 3, got %d", c.MinLevel)
	}
	if len(c.Contacts) == 0 && !dev {
		bad(".contacts", "at least one contact e-mail is required (metadata contacts)")
	}
	return c, errs
}

// ApplyDefaults sets the defaults of unset durations and levels.
func (c *Config) ApplyDefaults() {
	if c.StatementLifetime == 0 {
		c.StatementLifetime = 24 * time.Hour
	}
	if c.ChainRefresh == 0 {
		c.ChainRefresh = time.Hour
	}
	if c.ClockSkew == 0 {
		c.ClockSkew = time.Minute
	}
	if c.MinLevel == 0 {
		c.MinLevel = 2
	}
	if c.RequestTTL == 0 {
		c.RequestTTL = 15 * time.Minute
	}
}

// checkID refuses an entity identifier that is not https (http only in dev mode).
func checkID(id string, dev bool) error {
	if err := checkEntityID(id); err != nil {
		return err
	}
	if u, _ := url.Parse(id); u.Scheme != "https" && !dev {
		return fmt.Errorf("entity identifier %q must be https", id)
	}
	return nil
}

func readJWKS(file string) (*jose.JSONWebKeySet, error) {
	data, err := os.ReadFile(file) // #nosec G304 -- a configured file
	if err != nil {
		return nil, err
	}
	set := &jose.JSONWebKeySet{}
	if err := json.Unmarshal(data, set); err != nil {
		return nil, fmt.Errorf("%s: not a JWKS: %w", file, err)
	}
	if len(set.Keys) == 0 || slices.ContainsFunc(set.Keys, func(k jose.JSONWebKey) bool { return k.KeyID == "" || !k.IsPublic() }) {
		return nil, fmt.Errorf("%s: want public keys, each with a kid", file)
	}
	return set, nil
}
