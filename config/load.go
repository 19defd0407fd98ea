package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ProviderValidator decodes and validates the section of provider id (see Provider.Decode);
// dev tells whether dev mode is on. Its errors should be *FieldError with full paths
// ("providers.<id>...."); other errors are reported at "providers.<id>". cmd derives one per
// provider type from its list of providers.Type (their Decode) for Options.ProviderTypes.
type ProviderValidator func(id string, p *Provider, dev bool) []error

// Options tune Load, Parse, Check and DevConfig.
type Options struct {
	// ProviderTypes maps a provider type (spid, cie, cns, pin) to the function that validates
	// its sections. A section whose type is not here is an error.
	ProviderTypes map[string]ProviderValidator
	// Getenv reads environment variables, for the SPORTELLO_* overrides and env: secrets
	// (os.Getenv when nil).
	Getenv func(string) string
	// Dir is the directory relative paths start from, for Parse (Load uses the file's
	// directory; DevConfig the data directory).
	Dir string
	// Rand is the random source of DevConfig's generated secrets (crypto/rand when nil).
	Rand io.Reader
}

func (o Options) getenv(name string) string {
	if o.Getenv == nil {
		return os.Getenv(name)
	}
	return o.Getenv(name)
}

// ValidationError lists every error of a configuration, sorted by path.
type ValidationError struct {
	// Errors are mostly *FieldError.
	Errors []error
}

// Error prints one error per line, "path: message".
func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Errors))
	for i, err := range e.Errors {
		lines[i] = err.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap gives the individual errors to errors.Is and errors.As.
func (e *ValidationError) Unwrap() []error { return e.Errors }

// maxConfigFile bounds the size of a configuration file.
const maxConfigFile = 4 << 20

// Load reads, decodes, completes and validates the configuration file at path. Relative paths
// in the file (file: secrets, keys.dir, listen.tls_cert/tls_key, clients[].jwks_file,
// audit.file) are relative to the file's directory. A configuration with errors gives a
// *ValidationError listing them all.
func Load(path string, opts Options) (*Config, error) {
	data, err := readSmallFile(path, maxConfigFile)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	opts.Dir = filepath.Dir(abs)
	cfg, err := Parse(data, opts)
	if cfg != nil {
		cfg.Path = abs
	}
	return cfg, err
}

// Parse is Load on bytes; relative paths start from opts.Dir.
func Parse(data []byte, opts Options) (*Config, error) {
	return parse(data, opts, nil)
}

// Check loads the file at path and returns every error found, nil when the configuration is
// valid. It backs "sportello check-config FILE".
func Check(path string, opts Options) []error {
	_, err := Load(path, opts)
	if err == nil {
		return nil
	}
	if ve, ok := errors.AsType[*ValidationError](err); ok {
		return ve.Errors
	}
	return []error{err}
}

// FormatErrors writes one error per line ("path: message").
func FormatErrors(w io.Writer, errs []error) {
	for _, err := range errs {
		var ve *ValidationError
		if errors.As(err, &ve) {
			FormatErrors(w, ve.Errors)
			continue
		}
		fmt.Fprintln(w, err.Error())
	}
}

// parse runs the pipeline; adjust, when given, runs after the environment overrides (DevConfig's
// command-line values win over the environment).
func parse(data []byte, opts Options, adjust func(*Config)) (*Config, error) {
	doc, err := parseDocument(data)
	if err != nil {
		return nil, &ValidationError{Errors: []error{err}}
	}
	cfg := &Config{opts: opts, Dir: opts.Dir}
	errs, at := decodeStrict(doc, cfg)
	cfg.at = at
	r := Resolver{Dir: opts.Dir, Dev: cfg.Dev, Getenv: opts.getenv}
	cfg.resolvePaths(r)
	cfg.applyEnv(opts.getenv)
	if adjust != nil {
		adjust(cfg)
	}
	errs = append(errs, cfg.resolveSecrets(r)...)
	for id, p := range cfg.Providers {
		p.Resolver = r
		cfg.Providers[id] = p
	}
	cfg.ApplyDefaults()
	// A value that could not be decoded or resolved is zero; its "required" would be noise.
	bad := pathsOf(errs)
	for _, err := range cfg.Validate() {
		var fe *FieldError
		if !errors.As(err, &fe) || !under(fe.Path, bad) {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, &ValidationError{Errors: sortErrors(cfg.locate(errs))}
	}
	return cfg, nil
}

// parseDocument parses exactly one YAML document.
func parseDocument(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &FieldError{Msg: "the configuration is empty", Line: 1}
		}
		return nil, syntaxError(cleanYAMLError(err))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		e := &FieldError{Msg: "want exactly one YAML document", Line: max(extra.Line, 1), Column: extra.Column}
		if err != nil {
			// The second document does not even parse: it is the first problem all the same.
			e = syntaxError(cleanYAMLError(err))
			e.Msg = "want exactly one YAML document; the next one is " + e.Msg
		}
		return nil, e
	}
	if len(doc.Content) == 0 || isNull(doc.Content[0]) {
		return nil, &FieldError{Msg: "the configuration is empty", Line: max(doc.Line, 1)}
	}
	return &doc, nil
}

// resolvePaths makes the file's relative paths relative to its directory. Values set later by
// environment variables are used as given.
func (c *Config) resolvePaths(r Resolver) {
	c.Keys.Dir = r.Path(c.Keys.Dir)
	c.Listen.TLSCert = r.Path(c.Listen.TLSCert)
	c.Listen.TLSKey = r.Path(c.Listen.TLSKey)
	c.Audit.File = r.Path(c.Audit.File)
	c.Audit.SigningKey = r.Path(c.Audit.SigningKey)
	c.Notify.SpoolDir = r.Path(c.Notify.SpoolDir)
	for i := range c.Clients {
		c.Clients[i].JWKSFile = r.Path(c.Clients[i].JWKSFile)
		c.Clients[i].TLSClientAuthCAFile = r.Path(c.Clients[i].TLSClientAuthCAFile)
		c.Clients[i].TLSClientCertificateFile = r.Path(c.Clients[i].TLSClientCertificateFile)
	}
}

func (c *Config) resolveSecrets(r Resolver) []error {
	var errs []error
	add := func(s *Secret, path string) {
		if err := r.Secret(s, path); err != nil {
			errs = append(errs, err)
		}
	}
	add(&c.Keys.CryptoKey, "keys.crypto_key")
	add(&c.Subject.Key, "subject.key")
	add(&c.Store.Redis.Password, "store.redis.password")
	add(&c.Notify.SMTP.Password, "notify.smtp.password")
	for i := range c.Clients {
		// A public client's secret is refused whatever it refers to (validatePublic): the
		// reference itself is not worth resolving, nor its failure worth reporting instead.
		if !c.Clients[i].Public {
			add(&c.Clients[i].Secret, fmt.Sprintf("clients[%d].secret", i))
		}
	}
	return errs
}

// envOverride is one deploy-time value that an environment variable may set.
type envOverride struct {
	name  string
	paths []string
	set   func(c *Config, v string)
}

// envOverrides are applied in this order, after the file and before validation. An empty
// variable overrides nothing. SPORTELLO_REDIS_URL selects the Redis store and replaces any
// addrs/master_name of the file; SPORTELLO_STORE, applied after it, has the last word on
// the store type.
var envOverrides = []envOverride{
	{"SPORTELLO_ISSUER", []string{"issuer"}, func(c *Config, v string) { c.Issuer = v }},
	{"SPORTELLO_HTTP_ADDR", []string{"listen.http"}, func(c *Config, v string) { c.Listen.HTTP = v }},
	{"SPORTELLO_MTLS_ADDR", []string{"listen.mtls"}, func(c *Config, v string) { c.Listen.MTLS = v }},
	{"SPORTELLO_DEBUG_ADDR", []string{"listen.debug"}, func(c *Config, v string) { c.Listen.Debug = v }},
	{"SPORTELLO_OTLP_ENDPOINT", []string{"tracing.otlp_endpoint"}, func(c *Config, v string) { c.Tracing.OTLPEndpoint = v }},
	{"SPORTELLO_REDIS_URL", []string{"store.redis.url", "store.type"}, func(c *Config, v string) {
		c.Store.Type = "redis"
		c.Store.Redis.URL = v
		c.Store.Redis.Addrs = nil
		c.Store.Redis.MasterName = ""
	}},
	{"SPORTELLO_STORE", []string{"store.type"}, func(c *Config, v string) { c.Store.Type = v }},
	{"SPORTELLO_KEYS_DIR", []string{"keys.dir"}, func(c *Config, v string) { c.Keys.Dir = v }},
	{"SPORTELLO_AUDIT_FILE", []string{"audit.file"}, func(c *Config, v string) { c.Audit.File = v }},
}

// EnvVars lists the environment variables that override values of the file.
func EnvVars() []string {
	out := make([]string, len(envOverrides))
	for i, o := range envOverrides {
		out[i] = o.name
	}
	return out
}

func (c *Config) applyEnv(getenv func(string) string) {
	for _, o := range envOverrides {
		v := getenv(o.name)
		if v == "" {
			continue
		}
		o.set(c, v)
		c.EnvOverrides = append(c.EnvOverrides, o.name)
		if c.envPaths == nil {
			c.envPaths = map[string]string{}
		}
		for _, p := range o.paths {
			c.envPaths[p] = o.name
		}
	}
}

func pathsOf(errs []error) []string {
	var out []string
	for _, err := range errs {
		var fe *FieldError
		if errors.As(err, &fe) {
			out = append(out, fe.Path)
		}
	}
	return out
}

// under reports whether path is one of roots or inside one of them.
func under(path string, roots []string) bool {
	for _, r := range roots {
		if path == r || strings.HasPrefix(path, r+".") || strings.HasPrefix(path, r+"[") {
			return true
		}
	}
	return false
}

// sortErrors sorts by path (errors without a path first) and drops exact duplicates.
func sortErrors(errs []error) []error {
	key := func(err error) string {
		var fe *FieldError
		if errors.As(err, &fe) {
			return fe.Path
		}
		return ""
	}
	slices.SortStableFunc(errs, func(a, b error) int { return strings.Compare(key(a), key(b)) })
	return slices.CompactFunc(errs, func(a, b error) bool { return a.Error() == b.Error() })
}
