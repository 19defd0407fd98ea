package spid

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

const validSection = `
type: spid
entity_id: https://login.inps.example/spid/metadata
key_file: sp.key
cert_file: sp.crt
organization:
  names: {it: Istituto Nazionale della Previdenza Sociale, en: National Social Security Institute}
  display_names: {it: INPS, en: INPS}
  urls: {it: "https://www.inps.it", en: "https://www.inps.it/en"}
contact: {email: spid@inps.example.it, phone: "+390659051"}
ipa_code: inps
idps:
  - metadata_url: https://idp.example/metadata
  - metadata_file: /etc/sportello/idp.xml
    binding: post
clock_skew: 30s
`

func node(t *testing.T, src string) *yaml.Node {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Content[0]
}

func TestValidSectionDecodesWithDefaults(t *testing.T) {
	cfg, errs := DecodeConfig(node(t, validSection), false)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if cfg.ClockSkew.Seconds() != 30 || cfg.MinLevel != 2 || cfg.Comparison != "minimum" ||
		cfg.IdPs[0].Binding != "redirect" || cfg.IdPs[1].Binding != "post" || cfg.Profile != "public" ||
		len(cfg.AttributeServices) != 1 || cfg.acsIndex() != 0 || cfg.minACR() == "" {
		t.Fatalf("%+v", cfg)
	}
}

// TestConfigRules: each row breaks one rule and expects an error at that path.
func TestConfigRules(t *testing.T) {
	rows := []struct {
		rule string
		edit func(s string) string
		dev  bool
		path string
	}{
		{"unknown keys are refused", func(s string) string { return s + "colour: blue\n" }, false, "providers.spid.colour"},
		{"metadata_url must be https outside dev", func(s string) string { return strings.Replace(s, "https://idp.example", "http://idp.example", 1) }, false, "providers.spid.idps[0].metadata_url"},
		{"entity_id must be https outside dev", func(s string) string { return strings.Replace(s, "https://login", "http://login", 1) }, false, "providers.spid.entity_id"},
		{"an idp needs metadata_file or metadata_url", func(s string) string {
			return strings.Replace(s, "  - metadata_url: https://idp.example/metadata\n", "  - binding: redirect\n", 1)
		}, false, "providers.spid.idps[0].metadata_url"},
		{"binding is redirect or post", func(s string) string { return strings.Replace(s, "binding: post", "binding: artifact", 1) }, false, "providers.spid.idps[1].binding"},
		{"a public SP needs an IPA code", func(s string) string { return strings.Replace(s, "ipa_code: inps\n", "", 1) }, false, "providers.spid.ipa_code"},
		{"a private SP needs a VAT number or fiscal code", func(s string) string {
			return strings.Replace(s, "ipa_code: inps\n", "profile: private\nbilling_email: b@x.it\n", 1)
		}, false, "providers.spid.vat_number"},
		{"a private SP needs a billing contact", func(s string) string {
			return strings.Replace(s, "ipa_code: inps\n", "profile: private\nvat_number: IT12345678901\n", 1)
		}, false, "providers.spid.billing_email"},
		{"the phone is +39 without spaces", func(s string) string { return strings.Replace(s, `"+390659051"`, `"06 5905 1"`, 1) }, false, "providers.spid.contact.phone"},
		{"an e-mail contact is required", func(s string) string { return strings.Replace(s, "email: spid@inps.example.it, ", "", 1) }, false, "providers.spid.contact.email"},
		{"organization names in Italian", func(s string) string {
			return strings.Replace(s, "names: {it: Istituto Nazionale della Previdenza Sociale, en:", "names: {de: Institut, en:", 1)
		}, false, "providers.spid.organization.names.it"},
		{"organization uses the same languages everywhere", func(s string) string {
			return strings.Replace(s, "display_names: {it: INPS, en: INPS}", "display_names: {it: INPS}", 1)
		}, false, "providers.spid.organization.display_names.en"},
		{"requested attributes are SPID names", func(s string) string {
			return s + "attribute_consuming_services: [{index: 0, names: {it: Servizi}, attributes: [name, shoeSize]}]\n"
		}, false, "providers.spid.attribute_consuming_services[0].attributes[1]"},
		{"requested attributes are not repeated", func(s string) string {
			return s + "attribute_consuming_services: [{index: 0, names: {it: Servizi}, attributes: [name, name]}]\n"
		}, false, "providers.spid.attribute_consuming_services[0].attributes[1]"},
		{"the asked attribute service exists", func(s string) string { return s + "attribute_consuming_service_index: 3\n" }, false, "providers.spid.attribute_consuming_service_index"},
		{"comparison is minimum or exact", func(s string) string { return s + "comparison: better\n" }, false, "providers.spid.comparison"},
		{"min_level is 1..3", func(s string) string { return s + "min_level: 4\n" }, false, "providers.spid.min_level"},
		{"clock skew at most 5m", func(s string) string { return strings.Replace(s, "clock_skew: 30s", "clock_skew: 1h", 1) }, false, "providers.spid.clock_skew"},
		{"durations are Go durations", func(s string) string { return strings.Replace(s, "clock_skew: 30s", "clock_skew: soon", 1) }, false, "providers.spid.clock_skew"},
		{"a short name is a lower-case token", func(s string) string {
			return strings.Replace(s, "binding: post", "binding: post\n    short_name: Poste ID", 1)
		}, false, "providers.spid.idps[1].short_name"},
		{"a short name never shadows a credential's own idp= value", func(s string) string {
			return strings.Replace(s, "binding: post", "binding: post\n    short_name: cie", 1)
		}, false, "providers.spid.idps[1].short_name"},
		{"short names are unique", func(s string) string {
			s = strings.Replace(s, "metadata_url: https://idp.example/metadata", "metadata_url: https://idp.example/metadata\n    short_name: demo", 1)
			return strings.Replace(s, "binding: post", "binding: post\n    short_name: demo", 1)
		}, false, "providers.spid.idps[1].short_name"},
		{"key and certificate are required", func(s string) string { return strings.Replace(s, "key_file: sp.key\n", "", 1) }, false, "providers.spid.key_file"},
	}
	for _, row := range rows {
		t.Run(row.rule, func(t *testing.T) {
			_, errs := DecodeConfig(node(t, row.edit(validSection)), row.dev)
			for _, err := range errs {
				if strings.HasPrefix(err.Error(), row.path+":") {
					return
				}
			}
			t.Fatalf("no error at %s: %v", row.path, errs)
		})
	}
}

func TestHTTPURLsAllowedInDevMode(t *testing.T) {
	src := strings.ReplaceAll(validSection, "https://idp.example", "http://127.0.0.1:8080")
	if _, errs := DecodeConfig(node(t, src), true); len(errs) > 0 {
		t.Fatal(errs)
	}
}

func TestDevConfigIsValid(t *testing.T) {
	if errs := DevConfig("http://127.0.0.1:8080", "../../testdata/spid").Validate("providers.spid", true); len(errs) > 0 {
		t.Fatal(errs)
	}
}
