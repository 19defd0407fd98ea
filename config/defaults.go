package config

import (
	"net"
	"time"

	"github.com/inps/sportello/internal/loa"
)

// Defaults of the values the file may leave out.
const (
	DefaultAccessTTL   = 5 * time.Minute
	DefaultIDTTL       = 5 * time.Minute
	DefaultRefreshTTL  = 8 * time.Hour
	DefaultCodeTTL     = 60 * time.Second
	DefaultLoginTTL    = 15 * time.Minute
	DefaultSessionIdle = 30 * time.Minute
	DefaultSessionMax  = 12 * time.Hour
	// DefaultPARTTL is par.ttl when absent (the expires_in of a pushed request).
	DefaultPARTTL = 60 * time.Second
	// DefaultRefreshReuseGrace is tokens.refresh_reuse_grace when absent.
	DefaultRefreshReuseGrace = 30 * time.Second
	DefaultShutdownTimeout   = 15 * time.Second
	// DefaultGCPercent and DefaultMemoryLimitMiB tune the garbage collector (see Runtime).
	DefaultGCPercent      = 400
	DefaultMemoryLimitMiB = 1024
	// DefaultSampleRatio is tracing.sample_ratio when absent.
	DefaultSampleRatio = 0.1
	DefaultAlgorithm   = "ES256"
	DefaultStore       = "memory"
	DefaultRedisPrefix = "sportello:"
	// DefaultWaitReplicas is store.redis.wait_replicas when absent with Sentinel or Cluster.
	DefaultWaitReplicas = 1
	// DefaultWaitTimeout is store.redis.wait_timeout when absent.
	DefaultWaitTimeout = time.Second
	DefaultACR         = loa.SpidL2
)

// Grant types a client may be allowed.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
	GrantTokenExchange     = "urn:ietf:params:oauth:grant-type:token-exchange"
)

// Client authentication methods at the token endpoint.
const (
	AuthSecretBasic   = "client_secret_basic"
	AuthSecretPost    = "client_secret_post"
	AuthPrivateKeyJWT = "private_key_jwt"
	AuthNone          = "none"
	// AuthTLSClient is PKI mutual-TLS client authentication (RFC 8705 §2.1): a certificate
	// that chains to the client's CAs and carries its one registered subject attribute.
	AuthTLSClient = "tls_client_auth"
	// AuthSelfSignedTLSClient is self-signed certificate mutual-TLS client authentication
	// (RFC 8705 §2.2): the certificate is one the client registered.
	AuthSelfSignedTLSClient = "self_signed_tls_client_auth"
)

// DefaultLanguages are the page languages when ui.languages is empty; the first is the default.
var DefaultLanguages = []string{"it", "en"}

// ApplyDefaults fills every value the file left empty. It is idempotent; Load calls it before
// Validate.
func (c *Config) ApplyDefaults() {
	t := &c.Tokens
	setDuration(&t.AccessTTL, DefaultAccessTTL)
	setDuration(&t.IDTTL, DefaultIDTTL)
	setDuration(&t.RefreshTTL, DefaultRefreshTTL)
	setDuration(&t.CodeTTL, DefaultCodeTTL)
	setDuration(&t.LoginTTL, DefaultLoginTTL)
	setDuration(&t.SessionIdle, DefaultSessionIdle)
	setDuration(&t.SessionMax, DefaultSessionMax)
	setDuration(&c.PAR.TTL, DefaultPARTTL)
	setDuration(&c.Console.IdleTimeout, DefaultConsoleIdle)
	setDuration(&c.Console.MaxAge, DefaultConsoleMaxAge)
	setDuration(&c.Listen.ShutdownTimeout, DefaultShutdownTimeout)
	setString(&c.Tracing.ServiceName, "sportello")
	if c.Runtime.GCPercent == 0 {
		c.Runtime.GCPercent = DefaultGCPercent
	}
	if c.Runtime.MemoryLimitMiB == 0 {
		c.Runtime.MemoryLimitMiB = DefaultMemoryLimitMiB
	}
	setDuration(&c.Keys.RetiredGrace, max(t.AccessTTL, t.IDTTL, t.RefreshTTL))
	setString(&c.Keys.Algorithm, DefaultAlgorithm)
	setString(&c.Store.Type, DefaultStore)
	setString(&c.Store.Redis.Prefix, DefaultRedisPrefix)
	setDuration(&c.Store.Redis.WaitTimeout, DefaultWaitTimeout)
	if c.Dev {
		// Dev mode runs on whatever Redis is at hand: say it, do not refuse it.
		setString(&c.Store.Redis.RequireAOF, RequireAOFWarn)
	}
	setString(&c.Store.Redis.RequireAOF, RequireAOFRefuse)
	setString(&c.Startup.OnNotReady, OnNotReadyWait)
	setString(&c.Policy.DefaultACR, DefaultACR)
	if len(c.UI.Languages) == 0 {
		c.UI.Languages = append([]string(nil), DefaultLanguages...)
	}
	if c.Listen.MTLS != "" && c.Listen.MTLSURL == "" {
		if host, _, err := net.SplitHostPort(c.Listen.MTLS); err == nil && host != "" && !net.ParseIP(host).IsUnspecified() {
			c.Listen.MTLSURL = "https://" + c.Listen.MTLS
		}
	}
	for i := range c.Clients {
		cl := &c.Clients[i]
		if cl.Profile == ProfileFAPI2 {
			cl.applyFAPI2Defaults()
		}
		if cl.AuthMethod == "" {
			cl.AuthMethod = AuthSecretBasic
			if cl.Public {
				cl.AuthMethod = AuthNone
			}
		}
		setString(&cl.SigningAlg, c.Keys.Algorithm)
		if len(cl.GrantTypes) == 0 {
			cl.GrantTypes = []string{GrantAuthorizationCode, GrantRefreshToken}
		}
	}
}

func setDuration(d *time.Duration, def time.Duration) {
	if *d == 0 {
		*d = def
	}
}

func setString(s *string, def string) {
	if *s == "" {
		*s = def
	}
}
