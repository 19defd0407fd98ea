package oidcfed

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/inps/sportello/config"
)

func decodeYAML(t *testing.T, dir, text string, dev bool) (*Config, []error) {
	t.Helper()
	var p config.Provider
	if err := yaml.Unmarshal([]byte(text), &p); err != nil {
		t.Fatal(err)
	}
	p.Resolver = config.Resolver{Dir: dir}
	return Decode("oidc", &p, dev)
}

func TestConfigDecode(t *testing.T) {
	dir := t.TempDir()
	jwks, _ := json.Marshal(pubSet(key(t, 0)))
	if err := os.WriteFile(filepath.Join(dir, "ta.jwks.json"), jwks, 0o600); err != nil {
		t.Fatal(err)
	}
	good := `type: oidcfed
authority_hints: [https://ta.example.it]
trust_anchors: [{entity_id: https://ta.example.it, jwks_file: ta.jwks.json}]
openid_providers: [{entity_id: https://op.example.it, profile: spid}]
keys_dir: keys
contacts: [ops@example.it]
`
	c, errs := decodeYAML(t, dir, good, false)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if len(c.anchors) != 1 || c.KeysDir != filepath.Join(dir, "keys") || c.MinLevel != 2 || c.generate {
		t.Fatalf("decoded %+v", c)
	}
	cases := []struct{ name, text, want string }{
		{"unknown keys refused", good + "colour: blue\n", "colour"},
		{"at least one trust anchor", strings.Replace(good, "trust_anchors: [{entity_id: https://ta.example.it, jwks_file: ta.jwks.json}]\n", "", 1), "providers.oidc.trust_anchors"},
		{"an anchor's JWKS must be readable", strings.Replace(good, "ta.jwks.json", "missing.json", 1), "providers.oidc.trust_anchors[0].jwks_file"},
		{"entity ids are https outside dev mode", strings.Replace(good, "https://op.example.it", "http://op.example.it", 1), "providers.oidc.openid_providers[0].entity_id"},
		{"profile spid or cie", strings.Replace(good, "profile: spid", "profile: eidas", 1), "providers.oidc.openid_providers[0].profile"},
		{"an OP listed twice", strings.Replace(good, "[{entity_id: https://op.example.it, profile: spid}]", "[{entity_id: https://op.example.it, profile: spid}, {entity_id: https://op.example.it, profile: cie}]", 1), "listed twice"},
		{"keys_dir required", strings.Replace(good, "keys_dir: keys\n", "", 1), "providers.oidc.keys_dir"},
		{"contacts required", strings.Replace(good, "contacts: [ops@example.it]\n", "", 1), "providers.oidc.contacts"},
		{"min_level 1 to 3", good + "min_level: 4\n", "providers.oidc.min_level"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, errs := decodeYAML(t, dir, c.text, false)
			var all []string
			for _, e := range errs {
				all = append(all, e.Error())
			}
			if !strings.Contains(strings.Join(all, "\n"), c.want) {
				t.Fatalf("errors %v, want one naming %q", all, c.want)
			}
		})
	}
}
