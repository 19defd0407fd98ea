package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// validYAML is a small valid production configuration (relative paths in testdata/example).
const validYAML = `
issuer: https://login.example.it
listen: {http: "0.0.0.0:8080"}
keys: {dir: keys, crypto_key: "env:SPORTELLO_CRYPTO_KEY"}
subject: {key: "file:secrets/subject_key"}
clients:
  - id: rp
    secret: env:SPORTELLO_TEST_CLIENT_SECRET
    redirect_uris: [https://rp.example.it/cb]
    scopes: [openid]
`

// TestHostileInput: whatever the file holds, every mistake is reported at its path and
// nothing is silently ignored.
func TestHostileInput(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"unknown key at the top level is refused", validYAML + "isuer: x\n", []string{"isuer"}},
		{"unknown nested key is refused", strings.Replace(validYAML, `{http: "0.0.0.0:8080"}`, `{http: "0.0.0.0:8080", htp: x}`, 1), []string{"listen.htp"}},
		{"unknown key in a client is refused", strings.Replace(validYAML, "    scopes: [openid]", "    scopes: [openid]\n    scope: [email]", 1), []string{"clients[0].scope"}},
		{"unknown key deep in the store is refused", validYAML + "store: {redis: {url2: x}}\n", []string{"store.redis.url2"}},
		{"a key defined twice is refused", validYAML + "issuer: https://other.example.it\n", []string{"issuer"}},
		{"a mapping where a string goes is refused", strings.Replace(validYAML, "issuer: https://login.example.it", "issuer: {a: b}", 1), []string{"issuer"}},
		{"a scalar where a list goes is refused", strings.Replace(validYAML, "scopes: [openid]", "scopes: openid", 1), []string{"clients[0].scopes"}},
		{"a mapping where the client list goes is refused", "issuer: https://login.example.it\nclients: {rp: {}}\n", []string{"clients", "keys.dir", "keys.crypto_key", "listen.http", "subject.key"}},
		{"a client's credential that is no provider id is refused", strings.Replace(validYAML, "    scopes: [openid]", "    scopes: [openid]\n    credentials: [spid, \"Bad Id\"]", 1), []string{"clients[0].credentials[1]"}},
		{"a client's credential listed twice is refused", strings.Replace(validYAML, "    scopes: [openid]", "    scopes: [openid]\n    credentials: [cieid, cieid]", 1), []string{"clients[0].credentials[1]"}},
		{"a word where a boolean goes is refused", strings.Replace(validYAML, "  - id: rp", "  - id: rp\n    public: maybe", 1), []string{"clients[0].public"}},
		{"a duration without unit is refused", validYAML + "tokens: {access_ttl: 300}\n", []string{"tokens.access_ttl"}},
		{"a malformed duration is refused", validYAML + "tokens: {refresh_ttl: 8 hours}\n", []string{"tokens.refresh_ttl"}},
		{"a list where a duration goes is refused", validYAML + "listen2: 1\ntokens: {code_ttl: [1]}\n", []string{"listen2", "tokens.code_ttl"}},
		{"a literal secret outside dev is refused", strings.Replace(validYAML, "env:SPORTELLO_TEST_CLIENT_SECRET", "hunter2-hunter2-hunter2", 1), []string{"clients[0].secret"}},
		{"a missing secret file is refused", strings.Replace(validYAML, "file:secrets/subject_key", "file:secrets/nope", 1), []string{"subject.key"}},
		{"a file reference without a path is refused", strings.Replace(validYAML, "file:secrets/subject_key", "file:", 1), []string{"subject.key"}},
		{"a directory as secret file is refused", strings.Replace(validYAML, "file:secrets/subject_key", "file:secrets", 1), []string{"subject.key"}},
		{"an unset environment variable is refused", strings.Replace(validYAML, "env:SPORTELLO_CRYPTO_KEY", "env:SPORTELLO_NOT_SET", 1), []string{"keys.crypto_key"}},
		{"a malformed environment reference is refused", strings.Replace(validYAML, "env:SPORTELLO_CRYPTO_KEY", "env:1-bad", 1), []string{"keys.crypto_key"}},
		{"a mapping as secret is refused", strings.Replace(validYAML, `"file:secrets/subject_key"`, `{file: x}`, 1), []string{"subject.key"}},
		{"a provider section must be a mapping", validYAML + "providers: {spid: spid}\n", []string{"providers.spid"}},
		{"a provider type must be a scalar", validYAML + "providers: {spid: {type: [spid]}}\n", []string{"providers.spid.type"}},
		{"provider enabled must be a boolean", validYAML + "providers: {spid: {type: spid, enabled: perhaps}}\n", []string{"providers.spid.enabled"}},
		{"odd map keys are quoted in paths", validYAML + "providers: {\"a.b\": {type: spid}}\n", []string{`providers["a.b"]`}},
		{"a second document is refused", validYAML + "---\nissuer: x\n", []string{""}},
		{"an empty file is refused", "", []string{""}},
		{"a null document is refused", "~\n", []string{""}},
		{"invalid YAML is refused", "issuer: [\n", []string{""}},
		{"a list as the document is refused", "- a\n- b\n", []string{"", "clients", "issuer", "keys.crypto_key", "keys.dir", "listen.http", "subject.key"}},
		{"a non-string key is refused", validYAML + "? [a]\n: b\n", []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml), testOptions(t, nil))
			wantOnly(t, err, tt.want...)
		})
	}
}

func TestValidYAMLParses(t *testing.T) {
	if _, err := Parse([]byte(validYAML), testOptions(t, nil)); err != nil {
		t.Fatal(err)
	}
}

func TestErrorsCarryLines(t *testing.T) {
	_, err := Parse([]byte(validYAML+"bogus: 1\n"), testOptions(t, nil))
	if err == nil || !strings.Contains(err.Error(), "bogus: unknown key (line 11, column 1)") {
		t.Fatalf("got %v", err)
	}
	y := strings.Replace(validYAML, "https://rp.example.it/cb", "https://rp.example.it/cb#f", 1)
	_, err = Parse([]byte(y), testOptions(t, nil))
	if want := "clients[0].redirect_uris[0]: must not have a fragment (line 9, column 21)"; err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
}

// TestEveryErrorIsLocated: check-config points every mistake into the file, those of values
// the file leaves out and those found by a provider's own validation included.
func TestEveryErrorIsLocated(t *testing.T) {
	const doc = `issuer: https://login.example.it
listen:
  http: 0.0.0.0:8080
  mtls: 127.0.0.1:8443
  mtls_url: https://cert.example.it
  tls_cert: tls/mtls.crt
keys: {dir: keys, crypto_key: "env:SPORTELLO_CRYPTO_KEY"}
subject:
  key: "file:secrets/subject_key"
clients:
  - id: rp
    redirect_uris: [https://rp.example.it/cb]
    scopes: [openid]
providers:
  spid:
    type: spid
    idps:
      - name: a
`
	opts := testOptions(t, nil)
	opts.ProviderTypes = map[string]ProviderValidator{"spid": func(id string, p *Provider, dev bool) []error {
		// A rule of the provider's own, at a path the file writes.
		return []error{&FieldError{Path: "providers.spid.idps[0].metadata_url", Msg: "required"}}
	}}
	_, err := Parse([]byte(doc), opts)
	ve, ok := errors.AsType[*ValidationError](err)
	if !ok {
		t.Fatalf("want a *ValidationError, got %v", err)
	}
	want := map[string]string{
		// The missing half of a pair: at its section.
		"listen.tls_key": "listen.tls_key: listen.tls_cert and listen.tls_key go together (line 2, column 1)",
		// A required key the client leaves out: at the client.
		"clients[0].secret": "clients[0].secret: required for a confidential client: a secret reference (file:/path or env:NAME) (line 11, column 5)",
		// Inside a provider section: at the list item that lacks the key.
		"providers.spid.idps[0].metadata_url": "providers.spid.idps[0].metadata_url: required (line 18, column 9)",
	}
	for _, e := range ve.Errors {
		fe, ok := e.(*FieldError)
		if !ok || fe.Line == 0 {
			t.Errorf("unlocated error %v", e)
			continue
		}
		if w, ok := want[fe.Path]; ok {
			if fe.Error() != w {
				t.Errorf("got  %s\nwant %s", fe.Error(), w)
			}
			delete(want, fe.Path)
		}
	}
	for p := range want {
		t.Errorf("no error at %s in\n%v", p, err)
	}

	// A required top-level key: at the document's first key. Syntax errors at their line.
	for _, tt := range []struct{ yaml, want string }{
		{"listen: {http: \"0.0.0.0:8080\"}\n", "issuer: required: the public URL of the OpenID Connect issuer (line 1, column 1)"},
		{"issuer: x\nlisten:\n  http: [\n", "(document): not valid YAML: did not find expected node content (line 3)"},
		{"", "(document): the configuration is empty (line 1)"},
		{validYAML + "---\nissuer: y\n", "(document): want exactly one YAML document (line 11, column 1)"},
	} {
		_, err := Parse([]byte(tt.yaml), testOptions(t, nil))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q:\ngot  %v\nwant %s", tt.yaml, err, tt.want)
		}
	}
}

func TestAnchorsAndMergeKeys(t *testing.T) {
	y := validYAML + `  - &base
    id: one
    public: true
    redirect_uris: [https://one.example.it/cb]
    scopes: [openid]
  - <<: *base
    id: two
`
	cfg, err := Parse([]byte(y), testOptions(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Clients[2]; got.ID != "two" || !got.Public || got.RedirectURIs[0] != "https://one.example.it/cb" {
		t.Errorf("merged client = %+v", got)
	}
}

func TestAliasBombIsBounded(t *testing.T) {
	// Each level refers ten times to the one before: 10^12 nodes once expanded.
	var b strings.Builder
	b.WriteString("issuer: &l0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i <= 12; i++ {
		ref := strings.Repeat(fmt.Sprintf("*l%d, ", i-1), 10)
		fmt.Fprintf(&b, "k%d: &l%d [%s]\n", i, i, strings.TrimSuffix(ref, ", "))
	}
	b.WriteString("clients: *l12\n")
	start := time.Now()
	_, err := Parse([]byte(b.String()), testOptions(t, nil))
	if err == nil {
		t.Fatal("want an error")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}

// TestEnvironmentOverrides: deploy-time values come from SPORTELLO_* variables, after the file.
func TestEnvironmentOverrides(t *testing.T) {
	env := map[string]string{
		"SPORTELLO_ISSUER":     "https://other.example.it",
		"SPORTELLO_HTTP_ADDR":  "127.0.0.1:9999",
		"SPORTELLO_MTLS_ADDR":  "cert.example.it:8443",
		"SPORTELLO_REDIS_URL":  "redis://redis:6379/2",
		"SPORTELLO_KEYS_DIR":   exampleDir(t),
		"SPORTELLO_AUDIT_FILE": filepath.Join(exampleDir(t), "audit", "x.jsonl"),
	}
	y := validYAML + "listen2: {}\n"
	y = strings.Replace(y, "listen2: {}\n", "store: {type: memory, redis: {addrs: [\"a:1\"], master_name: m}}\n", 1)
	y = strings.Replace(y, `{http: "0.0.0.0:8080"}`, `{http: "0.0.0.0:8080", tls_cert: tls/mtls.crt, tls_key: tls/mtls.key}`, 1)
	cfg, err := Parse([]byte(y), testOptions(t, env))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct{ name, got, want string }{
		{"issuer", cfg.Issuer, env["SPORTELLO_ISSUER"]},
		{"listen.http", cfg.Listen.HTTP, env["SPORTELLO_HTTP_ADDR"]},
		{"listen.mtls", cfg.Listen.MTLS, env["SPORTELLO_MTLS_ADDR"]},
		{"listen.mtls_url", cfg.Listen.MTLSURL, "https://cert.example.it:8443"},
		{"store.type", cfg.Store.Type, "redis"},
		{"store.redis.url", cfg.Store.Redis.URL, env["SPORTELLO_REDIS_URL"]},
		{"store.redis.master_name", cfg.Store.Redis.MasterName, ""},
		{"keys.dir", cfg.Keys.Dir, env["SPORTELLO_KEYS_DIR"]},
		{"audit.file", cfg.Audit.File, env["SPORTELLO_AUDIT_FILE"]},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if len(cfg.EnvOverrides) != 6 {
		t.Errorf("EnvOverrides = %v", cfg.EnvOverrides)
	}

	t.Run("SPORTELLO_STORE has the last word", func(t *testing.T) {
		cfg, err := Parse([]byte(validYAML), testOptions(t, map[string]string{"SPORTELLO_REDIS_URL": "redis://r:6379", "SPORTELLO_STORE": "memory"}))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Store.Type != "memory" {
			t.Errorf("store.type = %q", cfg.Store.Type)
		}
	})
	t.Run("errors name the variable", func(t *testing.T) {
		_, err := Parse([]byte(validYAML), testOptions(t, map[string]string{"SPORTELLO_HTTP_ADDR": "nope"}))
		if err == nil || !strings.Contains(err.Error(), "listen.http: want host:port, for example 127.0.0.1:8080 (set by SPORTELLO_HTTP_ADDR)") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("relative paths of the file start from its directory", func(t *testing.T) {
		cfg, err := Parse([]byte(validYAML), testOptions(t, nil))
		if err != nil {
			t.Fatal(err)
		}
		if want := filepath.Join(exampleDir(t), "keys"); cfg.Keys.Dir != want {
			t.Errorf("keys.dir = %q, want %q", cfg.Keys.Dir, want)
		}
	})
}

// TestDefaults: every value left out gets the documented default.
func TestDefaults(t *testing.T) {
	y := validYAML + `  - id: spa
    public: true
    redirect_uris: [https://spa.example.it/cb]
    scopes: [openid]
  - id: rs
    secret: env:SPORTELLO_TEST_CLIENT_SECRET
    grant_types: [client_credentials]
    scopes: [openid]
    signing_alg: RS256
`
	cfg, err := Parse([]byte(y), testOptions(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	durations := []struct {
		name      string
		got, want time.Duration
	}{
		{"tokens.access_ttl", cfg.Tokens.AccessTTL, 5 * time.Minute},
		{"tokens.id_ttl", cfg.Tokens.IDTTL, 5 * time.Minute},
		{"tokens.refresh_ttl", cfg.Tokens.RefreshTTL, 8 * time.Hour},
		{"tokens.code_ttl", cfg.Tokens.CodeTTL, 60 * time.Second},
		{"tokens.login_ttl", cfg.Tokens.LoginTTL, 15 * time.Minute},
		{"tokens.session_idle", cfg.Tokens.SessionIdle, 30 * time.Minute},
		{"listen.shutdown_timeout", cfg.Listen.ShutdownTimeout, 15 * time.Second},
		{"keys.retired_grace", cfg.Keys.RetiredGrace, 8 * time.Hour},
	}
	for _, d := range durations {
		if d.got != d.want {
			t.Errorf("%s = %v, want %v", d.name, d.got, d.want)
		}
	}
	if cfg.Tokens.ReuseGrace() != 30*time.Second {
		t.Errorf("refresh reuse grace %v, want 30s by default", cfg.Tokens.ReuseGrace())
	}
	strict, err := Parse([]byte(y+"tokens: {refresh_reuse_grace: 0s}\n"), testOptions(t, nil))
	if err != nil || strict.Tokens.ReuseGrace() != 0 {
		t.Errorf("an explicit 0s must stay 0 (strict), not become the default: %v %v", err, strict)
	}
	if cfg.Runtime.GCPercent != 400 || cfg.Runtime.MemoryLimitMiB != 1024 || cfg.Listen.Debug != "" {
		t.Errorf("runtime %+v, listen.debug %q: want 400, 1024 and no profiler", cfg.Runtime, cfg.Listen.Debug)
	}
	strs := []struct{ name, got, want string }{
		{"keys.algorithm", cfg.Keys.Algorithm, "ES256"},
		{"store.type", cfg.Store.Type, "memory"},
		{"store.redis.prefix", cfg.Store.Redis.Prefix, "sportello:"},
		{"policy.default_acr", cfg.Policy.DefaultACR, "https://www.spid.gov.it/SpidL2"},
		{"confidential auth_method", cfg.Clients[0].AuthMethod, "client_secret_basic"},
		{"public auth_method", cfg.Clients[1].AuthMethod, "none"},
		{"client signing_alg", cfg.Clients[0].SigningAlg, "ES256"},
		{"explicit client signing_alg", cfg.Clients[2].SigningAlg, "RS256"},
		{"mtls_url without mtls", cfg.Listen.MTLSURL, ""},
	}
	for _, s := range strs {
		if s.got != s.want {
			t.Errorf("%s = %q, want %q", s.name, s.got, s.want)
		}
	}
	if !slices.Equal(cfg.UI.Languages, []string{"it", "en"}) {
		t.Errorf("ui.languages = %v", cfg.UI.Languages)
	}
	if !slices.Equal(cfg.Clients[0].GrantTypes, []string{"authorization_code", "refresh_token"}) {
		t.Errorf("grant_types = %v", cfg.Clients[0].GrantTypes)
	}
	if !slices.Equal(cfg.Clients[2].GrantTypes, []string{"client_credentials"}) {
		t.Errorf("explicit grant_types = %v", cfg.Clients[2].GrantTypes)
	}
	// Defaults are idempotent and keep explicit values.
	before := *cfg
	cfg.ApplyDefaults()
	if cfg.Tokens != before.Tokens || cfg.Keys.Algorithm != before.Keys.Algorithm {
		t.Error("ApplyDefaults is not idempotent")
	}
}

func TestLoadAndCheck(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "keys"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "secrets"), 0o700); err != nil {
		t.Fatal(err)
	}
	// A secret file with a trailing newline, relative to the configuration file.
	if err := os.WriteFile(filepath.Join(dir, "secrets", "subject_key"), []byte(exampleSubject+"\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "sportello.yaml")
	if err := os.WriteFile(path, []byte(validYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := testOptions(t, nil)
	opts.Dir = "/elsewhere" // Load always uses the file's directory
	cfg, err := Load(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Subject.Key.Value != exampleSubject || cfg.Dir != dir {
		t.Errorf("subject key or dir not resolved from the file's directory: dir %q", cfg.Dir)
	}
	if errs := Check(path, opts); errs != nil {
		t.Errorf("Check = %v", errs)
	}

	if err := os.WriteFile(path, []byte(validYAML+"x: 1\ny: 2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	errs := Check(path, opts)
	var buf bytes.Buffer
	FormatErrors(&buf, errs)
	if got, want := buf.String(), "x: unknown key (line 11, column 1)\ny: unknown key (line 12, column 1)\n"; got != want {
		t.Errorf("FormatErrors = %q, want %q", got, want)
	}
	_, err = Load(path, opts)
	if ve, ok := errors.AsType[*ValidationError](err); !ok || len(ve.Errors) != 2 || err.Error() != strings.TrimSpace(buf.String()) {
		t.Errorf("Load error = %v", err)
	}
	if errs := Check(filepath.Join(dir, "missing.yaml"), opts); len(errs) != 1 || !errors.Is(errs[0], os.ErrNotExist) {
		t.Errorf("Check(missing) = %v", errs)
	}
}

// TestExampleIsValid: the shipped example.yaml passes check-config when deployed beside its
// secret files (the fake ones of testdata/example).
func TestExampleIsValid(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(exampleDir(t))); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "sportello.yaml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	var seen []string
	opts := testOptions(t, nil)
	opts.ProviderTypes = map[string]ProviderValidator{}
	for _, typ := range []string{"spid", "cieid", "oidcfed", "cie", "cns", "eidas", "pin"} {
		opts.ProviderTypes[typ] = func(id string, p *Provider, dev bool) []error {
			seen = append(seen, id+":"+p.Type)
			return nil
		}
	}
	if errs := Check(path, opts); errs != nil {
		var buf bytes.Buffer
		FormatErrors(&buf, errs)
		t.Fatalf("example.yaml:\n%s", buf.String())
	}
	slices.Sort(seen)
	if want := []string{"cie:cie", "cieid:cieid", "cns:cns", "eidas:eidas", "oidc:oidcfed", "pin:pin", "spid:spid"}; !slices.Equal(seen, want) {
		t.Errorf("provider sections validated = %v, want %v", seen, want)
	}
	cfg, err := Load(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Providers["pin"].IsEnabled() || cfg.Providers["oidc"].IsEnabled() || !cfg.Providers["cns"].IsEnabled() || !cfg.Providers["spid"].IsEnabled() {
		t.Error("enabled flags not read")
	}
	if cfg.Store.Type != "redis" || cfg.Clients[2].AuthMethod != AuthPrivateKeyJWT {
		t.Errorf("example not read as written: %+v", cfg.Store)
	}
}
