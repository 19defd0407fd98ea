package config

import (
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

type idpSection struct {
	MetadataURL string `yaml:"metadata_url"`
	Name        string `yaml:"name"`
}

type common struct {
	ClockSkew time.Duration `yaml:"clock_skew"`
}

type sectionUnderTest struct {
	common    `yaml:",inline"`
	EntityID  string            `yaml:"entity_id"`
	IdPs      []idpSection      `yaml:"idps"`
	MinLevel  int               `yaml:"min_level"`
	Names     map[string]string `yaml:"names"`
	Key       Secret            `yaml:"key"`
	Refresh   *time.Duration    `yaml:"refresh"`
	Unchecked yaml.Node         `yaml:"extra"`
	Ignored   string            `yaml:"-"`
}

func sectionNode(t *testing.T, src string) *yaml.Node {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Content[0]
}

// TestDecodeSection: provider sections are decoded strictly, type and enabled ignored, with
// full paths in every error.
func TestDecodeSection(t *testing.T) {
	t.Run("a valid section decodes", func(t *testing.T) {
		var s sectionUnderTest
		errs := DecodeSection(sectionNode(t, `
type: spid
enabled: false
entity_id: https://sp.example.it
clock_skew: 90s
idps: [{metadata_url: https://idp.example.it/md, name: IdP}]
min_level: 2
names: {it: Nome}
key: env:SP_KEY
refresh: 24h
extra: {anything: [1, 2]}
`), "providers.spid", &s)
		if errs != nil {
			t.Fatal(errs)
		}
		if s.EntityID != "https://sp.example.it" || s.ClockSkew != 90*time.Second || s.IdPs[0].Name != "IdP" ||
			s.MinLevel != 2 || s.Names["it"] != "Nome" || s.Key.Ref != "env:SP_KEY" || *s.Refresh != 24*time.Hour ||
			s.Unchecked.Kind != yaml.MappingNode {
			t.Errorf("decoded %+v", s)
		}
		r := Resolver{Getenv: func(string) string { return "sp-key" }}
		if err := r.Secret(&s.Key, "providers.spid.key"); err != nil || s.Key.Value != "sp-key" {
			t.Errorf("resolve = %q %v", s.Key.Value, err)
		}
	})
	tests := []struct {
		name, src string
		want      []string
	}{
		{"an unknown key is refused with its path", "idps: [{metadata_url: a}, {metadata_ur: b}]", []string{"providers.spid.idps[1].metadata_ur"}},
		{"an inlined struct's keys are known", "clock_skew: 5m\nclockskew: 1s", []string{"providers.spid.clockskew"}},
		{"a wrong type is refused with its path", "min_level: two", []string{"providers.spid.min_level"}},
		{"a bad duration is refused with its path", "refresh: 1 day", []string{"providers.spid.refresh"}},
		{"a map value is located by key", "names: {it: [a]}", []string{"providers.spid.names.it"}},
		{"a yaml:\"-\" field is not a key", "ignored: x", []string{"providers.spid.ignored"}},
		{"type and enabled are ignored only at the top", "idps: [{type: x}]", []string{"providers.spid.idps[0].type"}},
		{"a scalar section is refused", "spid", []string{"providers.spid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s sectionUnderTest
			wantOnly(t, &ValidationError{Errors: DecodeSection(sectionNode(t, tt.src), "providers.spid", &s)}, tt.want...)
		})
	}
	t.Run("a nil pointer is an error, not a panic", func(t *testing.T) {
		if errs := DecodeSection(sectionNode(t, "a: b"), "p", (*sectionUnderTest)(nil)); len(errs) != 1 {
			t.Errorf("errs = %v", errs)
		}
	})
	t.Run("alias expansion is bounded", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("a: &l0 [[x, x, x, x, x, x, x, x, x, x]]\n")
		for i := 1; i <= 9; i++ {
			b.WriteString("b" + string(rune('0'+i)) + ": &l" + string(rune('0'+i)) + " [")
			b.WriteString(strings.TrimSuffix(strings.Repeat("*l"+string(rune('0'+i-1))+", ", 10), ", "))
			b.WriteString("]\n")
		}
		b.WriteString("deep: *l9\n")
		var s struct {
			Deep [][][][][][][][][][][]string `yaml:"deep"`
		}
		start := time.Now()
		errs := DecodeSection(sectionNode(t, b.String()), "p", &s)
		if len(errs) == 0 || time.Since(start) > 5*time.Second {
			t.Errorf("errs %d after %v", len(errs), time.Since(start))
		}
	})
}

func TestProviderDecodeUsesItsPath(t *testing.T) {
	cfg, err := Parse([]byte(validYAML+"providers: {spid: {type: spid, entity_id: x, bogus: 1}}\n"), testOptions(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.Providers["spid"]
	var s sectionUnderTest
	wantOnly(t, &ValidationError{Errors: p.Decode("spid", &s)}, "providers.spid.bogus")
	if s.EntityID != "x" || p.Resolver.Dir != exampleDir(t) {
		t.Errorf("section %+v, resolver dir %q", s, p.Resolver.Dir)
	}
}
