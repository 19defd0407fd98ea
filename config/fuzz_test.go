package config

import (
	"errors"
	"strings"
	"testing"
)

// FuzzConfig: whatever the bytes, Parse never panics, and a failure is a *ValidationError
// made of located errors.
func FuzzConfig(f *testing.F) {
	f.Add([]byte(validYAML))
	f.Add(DevYAML)
	f.Add([]byte("providers: {spid: {type: spid, idps: [{metadata_url: x}], clock_skew: 5m}}\n"))
	f.Add([]byte(validYAML + "store: {type: redis, redis: {url: 'unix:///run/redis.sock?db=1', wait_replicas: 2, wait_timeout: 2s, require_aof: warn}}\nstartup: {on_not_ready: refuse}\n"))
	f.Add([]byte(validYAML + "store: {type: redis, redis: {addrs: [s1:26379], master_name: m, wait_replicas: -1, require_aof: maybe}}\n"))
	// Values left out, a public client with a secret, the mTLS listener without its
	// key, syntax errors past the first line, a second document.
	f.Add([]byte(validYAML + "  - {id: spa, public: true, secret: \"\", redirect_uris: [https://s.example.it/cb], scopes: [openid]}\n"))
	f.Add([]byte(strings.Replace(validYAML, `listen: {http: "0.0.0.0:8080"}`, "listen: {http: \"0.0.0.0:8080\", mtls: \"127.0.0.1:8443\", mtls_url: \"https://c.example.it\", tls_cert: tls/mtls.crt, tls_key: tls/mtls.crt}", 1)))
	f.Add([]byte("issuer: x\nlisten:\n  http: [\n"))
	f.Add([]byte(validYAML + "---\nissuer: y\n"))
	f.Add([]byte("providers: {spid: {type: spid, idps: [{name: a}, *x]}}\n"))
	type section struct {
		IdPs []struct {
			MetadataURL string `yaml:"metadata_url"`
		} `yaml:"idps"`
		ClockSkew string `yaml:"clock_skew"`
		Key       Secret `yaml:"key"`
	}
	decodeSection := func(id string, p *Provider, dev bool) []error {
		var s section
		errs := p.Decode(id, &s)
		if err := p.Resolver.Secret(&s.Key, "providers."+id+".key"); err != nil {
			errs = append(errs, err)
		}
		return errs
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		opts := testOptions(t, nil)
		opts.ProviderTypes = map[string]ProviderValidator{"spid": decodeSection, "pin": permissive}
		cfg, err := Parse(data, opts)
		if err == nil {
			if cfg == nil {
				t.Fatal("nil config without error")
			}
			if errs := cfg.Validate(); errs != nil {
				t.Fatalf("a parsed config does not validate: %v", errs)
			}
			return
		}
		ve, ok := errors.AsType[*ValidationError](err)
		if !ok || len(ve.Errors) == 0 {
			t.Fatalf("error %T %v", err, err)
		}
		for _, e := range ve.Errors {
			if fe, ok := e.(*FieldError); !ok || (fe.Line == 0 && fe.SetBy == "") {
				t.Fatalf("unlocated error %T %v", e, e)
			}
		}
		_ = err.Error()
	})
}
