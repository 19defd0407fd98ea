package config

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/inps/sportello/internal/loa"
)

// Languages the pages are translated into.
var knownLanguages = []string{"it", "en"}

// validator collects FieldErrors.
type validator struct{ errs []error }

func (v *validator) add(path, format string, args ...any) {
	v.errs = append(v.errs, &FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
}

// Validate checks the whole configuration (after ApplyDefaults) and returns every error as a
// *FieldError, sorted by path. Provider sections are checked by the ProviderValidator of their
// type from the Options the configuration was parsed with; a Config built by hand has none,
// so any provider section is then an error.
func (c *Config) Validate() []error {
	v := &validator{}
	c.validateIssuer(v)
	c.validateListen(v)
	c.validateRuntime(v)
	c.validateTracing(v)
	c.validateKeys(v)
	c.validateTokens(v)
	c.validateStore(v)
	c.validateStartup(v)
	c.validateClients(v)
	c.validateConsole(v)
	if loa.LevelOf(c.Policy.DefaultACR) == 0 {
		v.add("policy.default_acr", "want one of %s", strings.Join(acrs, ", "))
	}
	seen := map[string]bool{}
	for i, l := range c.UI.Languages {
		p := fmt.Sprintf("ui.languages[%d]", i)
		switch {
		case !slices.Contains(knownLanguages, l):
			v.add(p, "unknown language %q: want one of %s", l, strings.Join(knownLanguages, ", "))
		case seen[l]:
			v.add(p, "language %q listed twice", l)
		}
		seen[l] = true
	}
	if c.Notify.SMTP.Addr != "" {
		if _, _, err := net.SplitHostPort(c.Notify.SMTP.Addr); err != nil {
			v.add("notify.smtp.addr", "want host:port: %v", err)
		}
		if c.Notify.SMTP.From == "" {
			v.add("notify.smtp.from", "required with notify.smtp.addr")
		}
	}
	if !c.Dev && c.Notify.SpoolDir == "" {
		for id, p := range c.Providers {
			if p.Type == "pin" && p.IsEnabled() {
				v.add("notify.spool_dir", "required outside dev mode: providers.%s sends PIN halves by SMS and post", id)
				break
			}
		}
	}
	if c.Audit.SigningKey != "" {
		if _, err := os.Stat(c.Audit.SigningKey); err != nil {
			v.add("audit.signing_key", "cannot read the checkpoint signing key: %v", err)
		}
	}
	if c.Audit.MaxBytes < 0 || c.Audit.RetentionMonths < 0 {
		v.add("audit", "max_bytes and retention_months must not be negative")
	}
	if c.Audit.File != "" {
		if st, err := os.Stat(filepath.Dir(c.Audit.File)); err != nil || !st.IsDir() {
			v.add("audit.file", "directory %s does not exist", filepath.Dir(c.Audit.File))
		}
	}
	c.validateProviders(v)
	return sortErrors(c.locate(v.errs))
}

var acrs = loa.All()

func (c *Config) validateIssuer(v *validator) {
	if c.Issuer == "" {
		v.add("issuer", "required: the public URL of the OpenID Connect issuer")
		return
	}
	u, err := url.Parse(c.Issuer)
	switch {
	case err != nil || !u.IsAbs() || u.Host == "":
		v.add("issuer", "want an absolute URL such as https://login.example.it")
	case u.Scheme != "https" && !(c.Dev && u.Scheme == "http"):
		v.add("issuer", "want an https URL (http only in dev mode)")
	case u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(c.Issuer, "?") || strings.Contains(c.Issuer, "#"):
		v.add("issuer", "must not carry user information, a query or a fragment")
	case strings.HasSuffix(u.Path, "/"):
		v.add("issuer", "must not end with /")
	}
}

func validAddr(addr string) bool {
	_, port, err := net.SplitHostPort(addr)
	return err == nil && port != ""
}

// loopbackAddr reports whether s is host:port with a loopback IP or localhost.
func loopbackAddr(s string) bool {
	host, port, err := net.SplitHostPort(s)
	if err != nil || port == "" {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (c *Config) validateTracing(v *validator) {
	t := c.Tracing
	if t.OTLPEndpoint != "" {
		if u, err := url.Parse(t.OTLPEndpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
			v.add("tracing.otlp_endpoint", "want the collector's http(s) base URL, for example http://otel-collector:4318")
		}
	}
	if r := t.Ratio(); r < 0 || r > 1 {
		v.add("tracing.sample_ratio", "want 0..1")
	}
}

func (c *Config) validateRuntime(v *validator) {
	if r := c.Runtime; r.GCPercent < -1 || r.GCPercent > 10000 {
		v.add("runtime.gc_percent", "want -1 (off) or 1..10000")
	}
	if r := c.Runtime; r.MemoryLimitMiB < 64 || r.MemoryLimitMiB > 1<<20 {
		v.add("runtime.memory_limit_mib", "want 64..1048576")
	}
}

func (c *Config) validateListen(v *validator) {
	l := c.Listen
	switch {
	case l.HTTP == "":
		v.add("listen.http", "required, for example 127.0.0.1:8080")
	case !validAddr(l.HTTP):
		v.add("listen.http", "want host:port, for example 127.0.0.1:8080")
	}
	if l.MTLS != "" && !validAddr(l.MTLS) {
		v.add("listen.mtls", "want host:port, for example 0.0.0.0:8443")
	}
	if l.Debug != "" && !loopbackAddr(l.Debug) {
		v.add("listen.debug", "want a loopback host:port, for example 127.0.0.1:6060: profiles expose memory contents")
	}
	switch {
	case l.MTLS == "" && l.MTLSURL != "":
		v.add("listen.mtls_url", "set without listen.mtls")
	case l.MTLS != "" && l.MTLSURL == "":
		v.add("listen.mtls_url", "required when listen.mtls has no host name")
	case l.MTLSURL != "":
		if u, err := url.Parse(l.MTLSURL); err != nil || u.Scheme != "https" || u.Host == "" {
			v.add("listen.mtls_url", "want an https URL such as https://cert.login.example.it")
		}
	}
	if (l.TLSCert == "") != (l.TLSKey == "") {
		p := "listen.tls_key"
		if l.TLSCert == "" {
			p = "listen.tls_cert"
		}
		v.add(p, "listen.tls_cert and listen.tls_key go together")
	}
	if l.MTLS != "" && !c.devTLS && l.TLSCert == "" && l.TLSKey == "" {
		// Only "sportello dev" brings a server certificate of its own (the dev PKI); a file
		// with dev: true does not, and the listener would not start.
		v.add("listen.tls_cert", "required when listen.mtls is set: the server certificate of the mTLS listener (with listen.tls_key)")
	}
	readableFiles := 0
	for _, f := range []struct{ path, name string }{{"listen.tls_cert", l.TLSCert}, {"listen.tls_key", l.TLSKey}} {
		if f.name != "" {
			if err := readable(f.name); err != nil {
				v.add(f.path, "%v", err)
			} else {
				readableFiles++
			}
		}
	}
	if readableFiles == 2 {
		if path, msg := checkKeyPair(l.TLSCert, l.TLSKey); msg != "" {
			v.add(path, "%s", msg)
		}
	}
	if l.ShutdownTimeout < 0 {
		v.add("listen.shutdown_timeout", "must not be negative")
	}
}

// maxPEMFile bounds a certificate or key file.
const maxPEMFile = 1 << 20

// checkKeyPair loads the mTLS listener's certificate and key as serve will, and returns the
// path and reason of the first problem, or "" when they make a pair. The reasons never quote
// the files.
func checkKeyPair(certFile, keyFile string) (path, msg string) {
	certPEM, err := readSmallFile(certFile, maxPEMFile)
	if err != nil {
		return "listen.tls_cert", err.Error()
	}
	keyPEM, err := readSmallFile(keyFile, maxPEMFile)
	if err != nil {
		return "listen.tls_key", err.Error()
	}
	if msg := checkCertificatePEM(certPEM); msg != "" {
		return "listen.tls_cert", certFile + " " + msg
	}
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		return "listen.tls_key", fmt.Sprintf("%s is not the private key of listen.tls_cert: %v", keyFile, err)
	}
	return "", ""
}

// checkCertificatePEM tells why data is not a PEM certificate chain, or "".
func checkCertificatePEM(data []byte) string {
	n := 0
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return fmt.Sprintf("holds a certificate that does not parse: %v", err)
		}
		n++
	}
	if n == 0 {
		return "holds no PEM certificate"
	}
	return ""
}

func readable(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("cannot open %s", name)
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", name)
	}
	return nil
}

var signingAlgs = []string{"ES256", "RS256"}

func (c *Config) validateKeys(v *validator) {
	k := c.Keys
	switch {
	case k.Dir == "":
		v.add("keys.dir", "required: the directory of the signing keys")
	case !c.Dev:
		// In dev mode the directory and its keys are created on first start.
		if st, err := os.Stat(k.Dir); err != nil || !st.IsDir() {
			v.add("keys.dir", "directory %s does not exist", k.Dir)
		}
	}
	if !slices.Contains(signingAlgs, k.Algorithm) {
		v.add("keys.algorithm", "want ES256 or RS256")
	}
	validateKey(v, "keys.crypto_key", k.CryptoKey)
	validateKey(v, "subject.key", c.Subject.Key)
	if k.RetiredGrace < 0 {
		v.add("keys.retired_grace", "must not be negative")
	}
}

func validateKey(v *validator, path string, s Secret) {
	if s.Value == "" {
		v.add(path, "required: a secret reference (file:/path or env:NAME) to 32 random bytes")
		return
	}
	if _, err := DecodeKey(s.Value); err != nil {
		v.add(path, "%v", err)
	}
}

func (c *Config) validateTokens(v *validator) {
	t := c.Tokens
	for p, d := range map[string]int64{
		"tokens.access_ttl": int64(t.AccessTTL), "tokens.id_ttl": int64(t.IDTTL),
		"tokens.refresh_ttl": int64(t.RefreshTTL), "tokens.code_ttl": int64(t.CodeTTL),
		"tokens.login_ttl": int64(t.LoginTTL), "tokens.session_idle": int64(t.SessionIdle),
	} {
		if d <= 0 {
			v.add(p, "must be positive")
		}
	}
	if g := t.ReuseGrace(); g < 0 || g > 2*time.Minute {
		v.add("tokens.refresh_reuse_grace", "want 0 (strict) up to 2m")
	}
	if d := c.PAR.TTL; d < time.Second || d > 10*time.Minute || d%time.Second != 0 {
		v.add("par.ttl", "want whole seconds from 1s to 10m")
	}
}

func (c *Config) validateStore(v *validator) {
	s := c.Store
	switch s.Type {
	case "memory":
		return
	case "redis":
	default:
		v.add("store.type", "want memory or redis")
		return
	}
	r := s.Redis
	switch {
	case r.URL == "" && len(r.Addrs) == 0:
		v.add("store.redis", "the redis store needs url or addrs")
	case r.URL != "" && len(r.Addrs) > 0:
		v.add("store.redis", "url and addrs exclude each other")
	}
	if r.URL != "" && !validRedisURL(r.URL) {
		v.add("store.redis.url", "want redis://host:port/db, rediss://host:port/db or unix:///path/to/redis.sock")
	}
	for i, a := range r.Addrs {
		if !validAddr(a) {
			v.add(fmt.Sprintf("store.redis.addrs[%d]", i), "want host:port")
		}
	}
	if r.MasterName != "" && len(r.Addrs) == 0 {
		v.add("store.redis.master_name", "Sentinel mode needs addrs (the sentinels)")
	}
	if r.WaitReplicas != nil && *r.WaitReplicas < 0 {
		v.add("store.redis.wait_replicas", "must not be negative (0: no WAIT)")
	}
	if r.WaitTimeout < 0 || r.WaitTimeout > maxWaitTimeout {
		v.add("store.redis.wait_timeout", "want a duration up to %v", maxWaitTimeout)
	}
	switch r.RequireAOF {
	case RequireAOFRefuse, RequireAOFWarn, RequireAOFOff:
	default:
		v.add("store.redis.require_aof", "want refuse, warn or off")
	}
}

// maxWaitTimeout bounds store.redis.wait_timeout: a request waits that long for replicas.
const maxWaitTimeout = 10 * time.Second

// validRedisURL accepts what the Redis store dials: redis:// or rediss:// with a host, or
// unix:// with an absolute socket path and no host (unix:///run/redis/redis.sock?db=1).
func validRedisURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	switch u.Scheme {
	case "redis", "rediss":
		return u.Host != ""
	case "unix":
		return u.Host == "" && strings.HasPrefix(u.Path, "/") && len(u.Path) > 1
	}
	return false
}

func (c *Config) validateStartup(v *validator) {
	switch c.Startup.OnNotReady {
	case OnNotReadyWait, OnNotReadyRefuse:
	default:
		v.add("startup.on_not_ready", "want wait or refuse")
	}
}

// providerID keeps provider ids usable in URLs and idp= hints.
var providerID = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

func (c *Config) validateProviders(v *validator) {
	for _, id := range slices.Sorted(maps.Keys(c.Providers)) {
		p := c.Providers[id]
		base := join("providers", id)
		if !providerID.MatchString(id) {
			v.add(base, "provider ids are lower-case letters, digits, - and _ (at most 63)")
			continue
		}
		if p.Type == "" {
			v.add(base+".type", "required: one of %s", c.knownTypes())
			continue
		}
		check, ok := c.opts.ProviderTypes[p.Type]
		if !ok || check == nil {
			v.add(base+".type", "unknown provider type %q: want one of %s", p.Type, c.knownTypes())
			continue
		}
		for _, err := range check(id, &p, c.Dev) {
			if fe := (*FieldError)(nil); !errors.As(err, &fe) {
				err = &FieldError{Path: base, Msg: err.Error()}
			}
			v.errs = append(v.errs, err)
		}
	}
}

func (c *Config) knownTypes() string {
	if len(c.opts.ProviderTypes) == 0 {
		return "(no provider types registered)"
	}
	return strings.Join(slices.Sorted(maps.Keys(c.opts.ProviderTypes)), ", ")
}
