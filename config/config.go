package config

import (
	"errors"
	"net/url"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is the whole configuration.
type Config struct {
	// Issuer is the OIDC issuer URL (https in production; http only in dev mode).
	Issuer string `yaml:"issuer"`
	// Dev marks dev mode: insecure settings are allowed, with a warning.
	Dev bool `yaml:"dev"`
	// Listen holds the listener addresses.
	Listen Listen `yaml:"listen"`
	// Keys configures token signing keys.
	Keys Keys `yaml:"keys"`
	// Subject configures the keyed hash that turns a fiscal code into the sub claim.
	Subject Subject `yaml:"subject"`
	// Tokens holds lifetimes.
	Tokens Tokens `yaml:"tokens"`
	// PAR configures pushed authorization requests (RFC 9126).
	PAR PAR `yaml:"par"`
	// Store selects memory or redis.
	Store Store `yaml:"store"`
	// Clients are the relying parties and service clients.
	Clients []Client `yaml:"clients"`
	// Policy holds the level-of-assurance policy.
	Policy Policy `yaml:"policy"`
	// UI configures the pages.
	UI UI `yaml:"ui"`
	// Audit configures the audit trail.
	Audit Audit `yaml:"audit"`
	// RateLimits configures request limits.
	RateLimits RateLimits `yaml:"rate_limits"`
	// Notify configures e-mail, SMS and post delivery.
	Notify Notify `yaml:"notify"`
	// Runtime tunes the Go runtime's garbage collector.
	Runtime Runtime `yaml:"runtime"`
	// Tracing exports OpenTelemetry traces over OTLP/HTTP (off unless an endpoint is set).
	Tracing Tracing `yaml:"tracing"`
	// Startup says what serve does when a start-up check fails.
	Startup Startup `yaml:"startup"`
	// Console configures the security team's HTML console (its operators).
	Console Console `yaml:"console"`
	// Providers maps a provider id (used in URLs and in idp= hints) to its section. Each
	// section has a "type" (spid, cie, cns, pin) and the keys that provider's package defines;
	// the provider validates its own section.
	Providers map[string]Provider `yaml:"providers"`

	// Dir is the directory relative paths were resolved against (the configuration file's
	// directory for Load).
	Dir string `yaml:"-"`
	// Path is the file Load read ("" for a configuration parsed or built in memory): serve
	// reads it again on SIGHUP.
	Path string `yaml:"-"`
	// EnvOverrides lists the SPORTELLO_* variables that overrode values of the file, for the
	// start-up log.
	EnvOverrides []string `yaml:"-"`

	// opts are the Options the configuration was parsed with (provider validators).
	opts Options
	// envPaths maps a path to the variable that set it, to explain validation errors.
	envPaths map[string]string
	// at maps a path to where the file writes it, to locate validation errors.
	at map[string]position
	// devTLS tells that the mTLS listener's server certificate comes from outside the
	// configuration ("sportello dev" brings the dev PKI's).
	devTLS bool
}

// Tracing configures OpenTelemetry tracing: a span per HTTP request and per Redis command,
// exported over OTLP/HTTP (protobuf) to a collector. W3C traceparent headers are honoured, so a
// relying party's trace continues through the broker.
type Tracing struct {
	// OTLPEndpoint is the collector's base URL, for example http://otel-collector:4318 (the
	// exporter posts to <endpoint>/v1/traces). Empty (the default) disables tracing.
	OTLPEndpoint string `yaml:"otlp_endpoint"`
	// SampleRatio is the share of new traces recorded, 0..1 (default 0.1); a request whose
	// traceparent says "sampled" is always recorded.
	SampleRatio *float64 `yaml:"sample_ratio"`
	// ServiceName is the service.name resource attribute (default "sportello").
	ServiceName string `yaml:"service_name"`
}

// Ratio is SampleRatio with its default applied.
func (t Tracing) Ratio() float64 { return orDefault(t.SampleRatio, DefaultSampleRatio) }

// orDefault is *p, or d when the file left the value out (nil), so that an explicit zero
// stays zero.
func orDefault[T any](p *T, d T) T {
	if p == nil {
		return d
	}
	return *p
}

// Runtime tunes the Go garbage collector. The broker's live heap is small (a few MiB) and it
// allocates quickly under load, so with Go's default (GOGC=100) it collects ~75 times a
// second at 7,000 token requests/s; a higher percentage halves or quarters that (profiled: +40 %
// client_credentials throughput), and the memory limit keeps the total bounded anyway.
// The GOGC and GOMEMLIMIT environment variables, when set, win over these values.
type Runtime struct {
	// GCPercent is the heap growth that triggers a collection, as GOGC (default 400;
	// -1 turns the proportional trigger off, leaving only the memory limit).
	GCPercent int `yaml:"gc_percent"`
	// MemoryLimitMiB is the soft memory limit, as GOMEMLIMIT (default 1024). Keep it above
	// the PIN hashing budget (providers.<pin>.hash_memory_budget_mib) plus 256 MiB.
	MemoryLimitMiB int `yaml:"memory_limit_mib"`
}

// Listen holds listener addresses.
type Listen struct {
	// HTTP is the main listener (pages, OIDC endpoints), for example "127.0.0.1:8080".
	HTTP string `yaml:"http"`
	// MTLS is the mutual-TLS listener for CIE/CNS ("" disables it).
	MTLS string `yaml:"mtls"`
	// MTLSURL is the public base URL of the mTLS listener (default https://<MTLS>).
	MTLSURL string `yaml:"mtls_url"`
	// TLSCert and TLSKey are the server certificate of the mTLS listener (PEM files).
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// ShutdownTimeout bounds graceful shutdown.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// ClientCertHeader is the header carrying the client certificate (URL-encoded PEM, like
	// nginx's $ssl_client_escaped_cert) when a reverse proxy terminates TLS. Empty: disabled.
	ClientCertHeader string `yaml:"client_cert_header"`
	// TrustedProxies lists the addresses or CIDR prefixes allowed to set ClientCertHeader.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// Debug is the Go profiler's listener (net/http/pprof under /debug/pprof/), loopback
	// addresses only; "" (the default) disables it.
	Debug string `yaml:"debug"`
}

// Keys configures signing keys.
type Keys struct {
	// Dir holds the key files: <alg>-active.pem, <alg>-next.pem and <alg>-retired-<unix>.pem
	// for es256 and rs256 (PKCS#8 EC P-256 or RSA). In dev mode missing keys are generated
	// there on first start; elsewhere "sportello keys init" creates them (on Redis it imports
	// them into the store).
	Dir string `yaml:"dir"`
	// Algorithm is the default signing algorithm: ES256 (default) or RS256.
	Algorithm string `yaml:"algorithm"`
	// CryptoKey is the 32-byte key that encrypts opaque codes and tokens; every replica must
	// share it. A secret reference (file: or env:).
	CryptoKey Secret `yaml:"crypto_key"`
	// RetiredGrace is how long a retired key stays in the JWKS (default: the longest token
	// lifetime).
	RetiredGrace time.Duration `yaml:"retired_grace"`
}

// Subject configures sub derivation.
type Subject struct {
	// Key is the HMAC key of the keyed hash of the fiscal code (secret reference).
	Key Secret `yaml:"key"`
}

// Tokens holds lifetimes.
type Tokens struct {
	AccessTTL   time.Duration `yaml:"access_ttl"`   // default 5m
	IDTTL       time.Duration `yaml:"id_ttl"`       // default 5m
	RefreshTTL  time.Duration `yaml:"refresh_ttl"`  // default 8h (absolute lifetime of a family)
	CodeTTL     time.Duration `yaml:"code_ttl"`     // default 60s
	LoginTTL    time.Duration `yaml:"login_ttl"`    // pending login, default 15m
	SessionIdle time.Duration `yaml:"session_idle"` // broker SSO session idle timeout, default 30m
	SessionMax  time.Duration `yaml:"session_max"`  // absolute SSO session lifetime, default 12h
	// RefreshReuseGrace is how long after a rotation the client that rotated may present the
	// old refresh token again and get a new successor instead of a revoked family, provided
	// the successor it was given has not been used: a retry after a lost answer (a network
	// cut, a Redis failover) is not an attack. Default 30s; 0 is strict; at most 2m.
	RefreshReuseGrace *time.Duration `yaml:"refresh_reuse_grace"`
	// AccessAudience is the aud of access tokens that name no other resource (RFC 9068 §3): the
	// identifier downstream services verify. Default "<issuer>/api"; never a relying party's
	// client id, so an access token can never pass for its ID token (RFC 9068 §5).
	AccessAudience string `yaml:"access_audience"`
}

// PAR configures pushed authorization requests (RFC 9126): a client posts its authorization
// request to /oauth/par with its client authentication and sends only client_id and the
// request_uri it gets back to /authorize.
type PAR struct {
	// Required makes every client push its authorization requests (FAPI 2.0); otherwise only
	// the clients with require_pushed_authorization_requests must.
	Required bool `yaml:"required"`
	// TTL is how long a pushed request may be used, its expires_in (default 60s; whole
	// seconds, 1s to 10m).
	TTL time.Duration `yaml:"ttl"`
}

// AccessAudience is tokens.access_audience with its default applied.
func (c *Config) AccessAudience() string {
	if c.Tokens.AccessAudience != "" {
		return c.Tokens.AccessAudience
	}
	return strings.TrimRight(c.Issuer, "/") + "/api"
}

// ReuseGrace is RefreshReuseGrace with its default applied.
func (t Tokens) ReuseGrace() time.Duration {
	return orDefault(t.RefreshReuseGrace, DefaultRefreshReuseGrace)
}

// Store selects the store.
type Store struct {
	// Type is "memory" or "redis".
	Type  string `yaml:"type"`
	Redis Redis  `yaml:"redis"`
}

// Redis configures the Redis store.
type Redis struct {
	// URL is a redis:// or rediss:// URL for a single server (env SPORTELLO_REDIS_URL).
	URL string `yaml:"url"`
	// Addrs lists cluster nodes or sentinels.
	Addrs []string `yaml:"addrs"`
	// MasterName selects Sentinel mode.
	MasterName string `yaml:"master_name"`
	Password   Secret `yaml:"password"`
	// Prefix namespaces every key (default "sportello:").
	Prefix string `yaml:"prefix"`
	// WaitReplicas is how many replicas must acknowledge a write (Redis WAIT) before the
	// broker answers for it: PIN records, lockouts, delegations, refresh rotations, codes and
	// sessions, so that a primary lost in a failover takes no acknowledged write with it.
	// Absent: 1 with Sentinel or Cluster, 0 (no WAIT) for one server. See Replicas.
	WaitReplicas *int `yaml:"wait_replicas"`
	// WaitTimeout bounds each WAIT (default 1s, at most 10s); a write that too few replicas
	// acknowledged in time is answered 503 temporarily_unavailable.
	WaitTimeout time.Duration `yaml:"wait_timeout"`
	// RequireAOF says what serve does when the Redis primary does not append to an AOF (RDB
	// snapshots only: a restart loses the writes since the last snapshot, PIN records and
	// delegations included) or will not say: refuse (the default outside dev mode: serve
	// does not start, /readyz answers 503), warn (start, log it, /readyz reports it) or off.
	RequireAOF string `yaml:"require_aof"`
}

// Values of store.redis.require_aof.
const (
	RequireAOFRefuse = "refuse"
	RequireAOFWarn   = "warn"
	RequireAOFOff    = "off"
)

// Redis topologies, as Topology names them.
const (
	TopologyServer   = "server"
	TopologySentinel = "sentinel"
	TopologyCluster  = "cluster"
)

// Topology tells one server, Sentinel or Cluster apart, from addrs and master_name or from the
// URL's master_name and addr parameters (as the store reads them).
func (r Redis) Topology() string {
	switch {
	case r.MasterName != "":
		return TopologySentinel
	case len(r.Addrs) > 1:
		return TopologyCluster
	case r.URL != "":
		if u, err := url.Parse(r.URL); err == nil {
			q := u.Query()
			if q.Has("master_name") {
				return TopologySentinel
			}
			if q.Has("addr") {
				return TopologyCluster
			}
		}
	}
	return TopologyServer
}

// Replicas is WaitReplicas with its default: 1 with Sentinel or Cluster (a failover promotes
// a replica, which must hold every acknowledged write), 0 for one server.
func (r Redis) Replicas() int {
	def := 0
	if r.Topology() != TopologyServer {
		def = DefaultWaitReplicas
	}
	return orDefault(r.WaitReplicas, def)
}

// Startup says what serve does when a start-up check fails.
type Startup struct {
	// OnNotReady is wait (the default: serve listens, /readyz answers 503 and names the
	// failing check until it passes, and the check is retried) or refuse (serve exits with
	// an error). The checks: the SPID identity providers' metadata (no IdP loaded) and the
	// replicas' acknowledgement of a durable write (store.redis.wait_replicas).
	OnNotReady string `yaml:"on_not_ready"`
}

// Values of startup.on_not_ready.
const (
	OnNotReadyWait   = "wait"
	OnNotReadyRefuse = "refuse"
)

// Client is a relying party or a service client.
type Client struct {
	ID string `yaml:"id"`
	// Secret is a secret reference; absent for public clients and private_key_jwt clients.
	Secret Secret `yaml:"secret"`
	// Public marks a public client (no secret; PKCE S256 required).
	Public bool `yaml:"public"`
	// AuthMethod: client_secret_basic (default for confidential), client_secret_post,
	// private_key_jwt, tls_client_auth, self_signed_tls_client_auth (RFC 8705, over the
	// mutual-TLS listener only), none (public).
	AuthMethod string `yaml:"auth_method"`
	// TLSClientAuthCAFile holds the CA certificates (PEM) a tls_client_auth client's
	// certificate must chain to; required with tls_client_auth.
	TLSClientAuthCAFile string `yaml:"tls_client_auth_ca_file"`
	// The one subject attribute a tls_client_auth client's certificate must carry (RFC 8705
	// §2.1.2): exactly one of them is set. TLSClientAuthSubjectDN is the subject DN in its
	// RFC 4514 string form (as crypto/x509 writes it: most significant RDN last, e.g.
	// "CN=portale,O=INPS,C=IT"); the SAN values are a dNSName, a uniformResourceIdentifier, an
	// rfc822Name or an iPAddress of the certificate's subjectAltName.
	TLSClientAuthSubjectDN string `yaml:"tls_client_auth_subject_dn"`
	TLSClientAuthSANDNS    string `yaml:"tls_client_auth_san_dns"`
	TLSClientAuthSANURI    string `yaml:"tls_client_auth_san_uri"`
	TLSClientAuthSANEmail  string `yaml:"tls_client_auth_san_email"`
	TLSClientAuthSANIP     string `yaml:"tls_client_auth_san_ip"`
	// TLSClientCertificateFile pins the certificates (PEM) of a self_signed_tls_client_auth
	// client; its jwks_file keys with x5c register certificates too (RFC 8705 §2.2).
	TLSClientCertificateFile string `yaml:"tls_client_certificate_file"`
	// TLSClientCertificateBoundAccessTokens binds the client's access tokens (and a public
	// client's refresh tokens) to the certificate it presented at the token endpoint on the
	// mutual-TLS listener (RFC 8705 §3): cnf.x5t#S256.
	// Absent: false, or true with profile fapi2. CertBound reads it.
	TLSClientCertificateBoundAccessTokens *bool `yaml:"tls_client_certificate_bound_access_tokens"`
	// JWKSFile holds the client's public keys (a JWKS JSON file): those of its client
	// assertions (private_key_jwt, required then) and of its request objects (RFC 9101).
	JWKSFile string `yaml:"jwks_file"`
	// JWKSURI is where the client publishes the keys of its request objects (https; http in
	// dev mode), fetched and cached; an alternative to jwks_file, never beside it.
	JWKSURI string `yaml:"jwks_uri"`
	// RequireSignedRequestObject makes /authorize and /oauth/par accept this client's
	// authorization requests only inside a signed request object (RFC 9101 §10.5).
	RequireSignedRequestObject bool `yaml:"require_signed_request_object"`

	RedirectURIs           []string `yaml:"redirect_uris"`
	PostLogoutRedirectURIs []string `yaml:"post_logout_redirect_uris"`
	// BackchannelLogoutURI is where the broker POSTs a logout token when an SSO session in
	// which the client got tokens ends (OpenID Connect Back-Channel Logout 1.0 §2.2): https,
	// http only in dev mode on a loopback host, no fragment.
	BackchannelLogoutURI string `yaml:"backchannel_logout_uri"`
	// BackchannelLogoutSessionRequired says the client needs the sid claim in its logout
	// tokens (§2.2); the broker's logout tokens always carry it, and its ID tokens too.
	BackchannelLogoutSessionRequired bool `yaml:"backchannel_logout_session_required"`
	// Scopes the client may ask for.
	Scopes []string `yaml:"scopes"`
	// GrantTypes allowed: authorization_code, refresh_token, client_credentials,
	// urn:ietf:params:oauth:grant-type:token-exchange.
	GrantTypes []string `yaml:"grant_types"`
	// SigningAlg for this client's tokens: ES256 (default) or RS256.
	SigningAlg string `yaml:"signing_alg"`
	// MinACR is the lowest level this client accepts (SpidL1..SpidL3).
	MinACR string `yaml:"min_acr"`
	// Introspect allows the client to call the introspection endpoint.
	Introspect bool `yaml:"introspect"`
	// IntrospectClients are the clients whose tokens it may introspect, besides its own and
	// those naming it in aud; a token of any other client introspects as inactive.
	IntrospectClients []string `yaml:"introspect_clients"`
	// Audiences this client may ask for in token exchange.
	ExchangeAudiences []string `yaml:"exchange_audiences"`
	// ExchangeSubjectClients are the clients whose users' access tokens this client may
	// exchange (besides tokens issued to itself); none listed, none accepted.
	ExchangeSubjectClients []string `yaml:"exchange_subject_clients"`
	// Profile applies a security profile: "fapi2" (FAPI 2.0 Security Profile §5: pushed
	// authorization requests, PKCE S256, certificate-bound tokens, private_key_jwt or mutual-TLS
	// client authentication, ES256/PS256 signatures), filling its defaults and refusing what
	// it forbids.
	Profile string `yaml:"profile"`
	// RequirePushedAuthorizationRequests makes /authorize accept this client's requests only
	// through a request_uri from /oauth/par (RFC 9126 §6).
	RequirePushedAuthorizationRequests bool `yaml:"require_pushed_authorization_requests"`
	// DPoPBoundAccessTokens makes the token endpoint refuse this client's requests that come
	// without a DPoP proof (RFC 9449 §5.2): its access tokens are always DPoP-bound.
	DPoPBoundAccessTokens bool `yaml:"dpop_bound_access_tokens"`
	// Name is the operators' label of the client (logs, audit).
	Name string `yaml:"name"`
	// DisplayName is the service's name as citizens know it, shown on the chooser ("Stai
	// accedendo a: ..."): one text, or one per language ({it: ..., en: ...}).
	DisplayName Text `yaml:"display_name"`
	// Credentials, when set, are the only providers (by id) this client's logins may use:
	// the chooser shows no other, and idp= or a link to another is refused. Empty: every
	// enabled provider (a provider is switched off for all with its enabled: false).
	Credentials []string `yaml:"credentials"`
}

// Policy is the level-of-assurance policy.
type Policy struct {
	// DefaultACR is asked when the relying party asks nothing (default SpidL2).
	DefaultACR string `yaml:"default_acr"`
}

// UI configures the pages.
type UI struct {
	// Languages offered; the first is the default (default [it, en]).
	Languages []string `yaml:"languages"`
}

// Audit configures the audit trail: hash-chained JSON lines with signed checkpoints.
type Audit struct {
	// File is the JSON-lines file of the audit trail ("" = standard error, dev mode only).
	File string `yaml:"file"`
	// SigningKey is the Ed25519 private key (PEM file, "sportello audit keygen") that signs
	// the periodic checkpoints; without it checkpoints are unsigned (dev mode generates one).
	SigningKey string `yaml:"signing_key"`
	// MaxBytes rotates the file past this size (default 256 MiB); files also rotate daily.
	MaxBytes int64 `yaml:"max_bytes"`
	// RetentionMonths deletes rotated files older than this (default 24: AgID's SPID traces).
	RetentionMonths int `yaml:"retention_months"`
}

// Notify configures how messages reach people: e-mail and PEC through an SMTP relay; SMS and
// post handed to the external gateway / print service through a spool directory.
type Notify struct {
	SMTP SMTP `yaml:"smtp"`
	// SpoolDir receives SMS and letters as JSON files (mode 0600) for the SMS gateway and the
	// print-and-post service. Required when a PIN provider is configured outside dev mode.
	SpoolDir string `yaml:"spool_dir"`
}

// SMTP is the e-mail relay.
type SMTP struct {
	// Addr is host:port of the relay ("" disables e-mail).
	Addr string `yaml:"addr"`
	// From is the sender, for example "INPS <noreply@inps.example>".
	From     string `yaml:"from"`
	Username string `yaml:"username"`
	Password Secret `yaml:"password"`
	// RequireTLS refuses relays that do not offer STARTTLS (default true outside dev mode).
	RequireTLS *bool `yaml:"require_tls"`
}

// RateLimits configures the cluster-wide request limits on the token, login and PIN
// endpoints (per client and per source address, counted in the store).
type RateLimits struct {
	// Disabled switches them off (dev mode does, so the load harness measures the broker).
	Disabled bool `yaml:"disabled"`
}

// Provider is one provider section: its type plus the raw node the provider decodes itself.
type Provider struct {
	// Type selects the provider package (spid, cie, cns, pin).
	Type string `yaml:"type"`
	// Enabled switches the provider off when false; absent means enabled.
	Enabled *bool `yaml:"enabled"`
	// Node is the whole mapping of the section, type and enabled included; decode it with
	// Decode or DecodeSection, which ignore those two keys.
	Node yaml.Node `yaml:"-"`
	// Resolver resolves the section's secrets and relative paths like Load does.
	Resolver Resolver `yaml:"-" json:"-"`
}

// IsEnabled reports whether the provider is on (enabled absent or true).
func (p Provider) IsEnabled() bool { return p.Enabled == nil || *p.Enabled }

// Decode strictly decodes the section of provider id into out, with paths such as
// "providers.<id>.idps[1].metadata_url"; see DecodeSection.
func (p *Provider) Decode(id string, out any) []error {
	return DecodeSection(&p.Node, join("providers", id), out)
}

// UnmarshalYAML reads type and enabled and keeps the whole mapping node.
func (p *Provider) UnmarshalYAML(node *yaml.Node) error {
	return errors.Join(p.decode(node, "")...)
}

func (p *Provider) decode(node *yaml.Node, path string) []error {
	*p = Provider{}
	if node.Kind != yaml.MappingNode {
		return []error{fieldErr(path, node, "want a mapping with a type, got %s", kindName(node))}
	}
	p.Node = *node
	var errs []error
	for i := 0; i+1 < len(node.Content); i += 2 {
		k, v := node.Content[i], node.Content[i+1]
		for v.Kind == yaml.AliasNode && v.Alias != nil {
			v = v.Alias
		}
		switch k.Value {
		case "type":
			if v.Kind != yaml.ScalarNode || isNull(v) {
				errs = append(errs, fieldErr(join(path, "type"), v, "want a provider type such as spid"))
				continue
			}
			p.Type = v.Value
		case "enabled":
			var b bool
			if v.Kind != yaml.ScalarNode || v.Decode(&b) != nil {
				errs = append(errs, fieldErr(join(path, "enabled"), v, "want true or false"))
				continue
			}
			p.Enabled = &b
		}
	}
	return errs
}
