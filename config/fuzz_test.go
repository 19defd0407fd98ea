package config

import (
	"errors"
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
			if _, ok := e.(*FieldError); !ok {
				t.Fatalf("unlocated error %T %v", e, e)
			}
		}
		_ = err.Error()
	})
}
