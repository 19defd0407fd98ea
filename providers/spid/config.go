package spid

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/inps/sportello/config"
	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/providers/saml"
)

// Config is the spid provider section (providers.<id> with type: spid).
type Config struct {
	// SPSection: entity_id, key_file, cert_file, acs_url, slo_url, idps, metadata_refresh,
	// clock_skew, comparison, min_level, request_ttl, metadata_validity.
	saml.SPSection `yaml:",inline"`
	// Organization names, display names and URLs per language (it mandatory).
	Organization Organization `yaml:"organization"`
	// Contact is the "other" ContactPerson.
	Contact Contact `yaml:"contact"`
	// Profile is "public" (default, needs IPACode) or "private" (needs VATNumber or FiscalCode
	// and a billing contact).
	Profile    string `yaml:"profile"`
	IPACode    string `yaml:"ipa_code"`
	VATNumber  string `yaml:"vat_number"`
	FiscalCode string `yaml:"fiscal_code"`
	// BillingEmail is the billing contact of a private SP.
	BillingEmail string `yaml:"billing_email"`
	// AttributeServices are the AttributeConsumingServices of the metadata.
	AttributeServices []AttributeService `yaml:"attribute_consuming_services"`
	// AttributeServiceIndex is the index asked in AuthnRequests (default: the first service).
	AttributeServiceIndex *int `yaml:"attribute_consuming_service_index"`
	// TraceFile, when set, receives the AgID trace as JSON lines besides the Auditor.
	TraceFile string `yaml:"trace_file"`
}

// Organization is the md:Organization of the SP metadata; maps are keyed by language.
type Organization = saml.Organization

// Contact is the ContactPerson contactType="other".
type Contact struct {
	Email string `yaml:"email"`
	Phone string `yaml:"phone"`
}

// AttributeService is one AttributeConsumingService; its attributes are SPID attribute names.
type AttributeService = saml.AttributeService

// IdPConfig is one identity provider metadata source (a file or a URL: AgID's registry
// publishes every SPID IdP in one document).
type IdPConfig = saml.IdPConfig

// SPIDAttributes are the attribute names of the SPID technical rules.
var SPIDAttributes = []string{
	"spidCode", "name", "familyName", "placeOfBirth", "countyOfBirth", "dateOfBirth", "gender",
	"companyName", "registeredOffice", "fiscalNumber", "ivaCode", "idCard", "mobilePhone", "email",
	"domicileStreetAddress", "domicilePostalCode", "domicileMunicipality", "domicileProvince",
	"domicileNation", "expirationDate", "digitalAddress", "address", "companyFiscalNumber",
}

var (
	ipaRe = regexp.MustCompile(`^[A-Za-z0-9_]{1,20}$`)
	vatRe = regexp.MustCompile(`^IT[0-9]{11}$|^[0-9]{11}$`)
)

// DecodeConfig decodes and validates a spid section, with paths under "providers.spid".
func DecodeConfig(node *yaml.Node, dev bool) (*Config, []error) {
	return DecodeConfigAt(node, "providers.spid", dev)
}

// DecodeConfigAt decodes a spid section strictly (unknown keys refused, through
// config.DecodeSection), applies defaults and validates it, reporting every problem with its
// path.
func DecodeConfigAt(node *yaml.Node, path string, dev bool) (*Config, []error) {
	cfg := &Config{}
	if errs := config.DecodeSection(node, path, cfg); len(errs) > 0 {
		return nil, errs
	}
	cfg.applyDefaults()
	if errs := cfg.Validate(path, dev); len(errs) > 0 {
		return nil, errs
	}
	return cfg, nil
}

// FromProvider decodes the section of provider id like DecodeConfigAt, with relative file
// paths resolved against the configuration file's directory, and checks that the files it
// names can be read.
func FromProvider(id string, p *config.Provider, dev bool) (*Config, []error) {
	path := "providers." + id
	cfg, errs := DecodeConfigAt(&p.Node, path, dev)
	if len(errs) > 0 {
		return nil, errs
	}
	resolve := p.Resolver.Path
	if cfg.TraceFile != "" {
		cfg.TraceFile = resolve(cfg.TraceFile)
	}
	if errs := cfg.SPSection.Resolve(path, resolve); len(errs) > 0 {
		return nil, errs
	}
	return cfg, nil
}

func (c *Config) applyDefaults() {
	if c.Profile == "" {
		c.Profile = "public"
	}
	c.SPSection.Defaults()
	if len(c.AttributeServices) == 0 {
		c.AttributeServices = []AttributeService{{
			Index: 0,
			Names: map[string]string{"it": "Servizi online INPS", "en": "INPS online services"},
			Attributes: []string{"spidCode", "name", "familyName", "fiscalNumber", "dateOfBirth",
				"email", "mobilePhone"},
		}}
	}
}

// Validate checks the section; dev allows http:// URLs.
func (c *Config) Validate(path string, dev bool) []error {
	ck := &saml.Checks{Path: path, Dev: dev}
	add := ck.Add
	c.SPSection.CheckSP(ck)
	ck.Organization(c.Organization)
	ck.Contact(".contact", c.Contact.Email, c.Contact.Phone)
	switch c.Profile {
	case "public":
		if !ipaRe.MatchString(c.IPACode) {
			add(".ipa_code", "required for a public SP (IPA code)")
		}
		if c.VATNumber != "" || c.FiscalCode != "" {
			add(".vat_number", "not allowed for a public SP")
		}
	case "private":
		if c.VATNumber == "" && c.FiscalCode == "" {
			add(".vat_number", "a private SP needs vat_number or fiscal_code")
		}
		if c.VATNumber != "" && !vatRe.MatchString(c.VATNumber) {
			add(".vat_number", "not a VAT number")
		}
		if c.BillingEmail == "" {
			add(".billing_email", "a private SP needs a billing contact")
		}
		if c.IPACode != "" {
			add(".ipa_code", "not allowed for a private SP")
		}
	default:
		add(".profile", "must be public or private")
	}
	known := map[string]bool{}
	for _, a := range SPIDAttributes {
		known[a] = true
	}
	seenIdx := map[int]bool{}
	for i, s := range c.AttributeServices {
		p := fmt.Sprintf(".attribute_consuming_services[%d]", i)
		if s.Index < 0 || seenIdx[s.Index] {
			add(p+".index", "must be a unique non-negative integer")
		}
		seenIdx[s.Index] = true
		if s.Names["it"] == "" {
			add(p+".names.it", "required")
		}
		if len(s.Attributes) == 0 {
			add(p+".attributes", "at least one attribute")
		}
		seen := map[string]bool{}
		for j, a := range s.Attributes {
			if !known[a] {
				add(fmt.Sprintf("%s.attributes[%d]", p, j), "%q is not a SPID attribute", a)
			}
			if seen[a] {
				add(fmt.Sprintf("%s.attributes[%d]", p, j), "duplicate %q", a)
			}
			seen[a] = true
		}
	}
	if c.AttributeServiceIndex != nil && !seenIdx[*c.AttributeServiceIndex] {
		add(".attribute_consuming_service_index", "no attribute consuming service with index %d", *c.AttributeServiceIndex)
	}
	c.SPSection.CheckIdPs(ck, reservedHints, "")
	return ck.Errs
}

// reservedHints are the idp= values the broker gives the credentials themselves (provider ids
// and methods): an IdP short name equal to one would never be reached.
var reservedHints = map[string]bool{"spid": true, "cie": true, "cns": true, "pin": true, "cieid": true, "eidas": true}

// acsIndex returns the AttributeConsumingServiceIndex asked in AuthnRequests.
func (c *Config) acsIndex() int {
	if c.AttributeServiceIndex != nil {
		return *c.AttributeServiceIndex
	}
	return c.AttributeServices[0].Index
}

// minACR is the configured minimum as a SpidLx URI.
func (c *Config) minACR() string { return loa.ACRForLevel(c.MinLevel) }

// DevConfig is the dev-mode section: the committed dev SP key (testdataDir is the repository's
// testdata/spid), the two dev IdPs of baseURL loaded from their metadata URLs (demo on
// HTTP-Redirect, test on HTTP-POST) with their names as short names (idp=demo, idp=test),
// public SP profile with IPA code "inps".
func DevConfig(baseURL, testdataDir string) *Config {
	base := strings.TrimRight(baseURL, "/")
	c := &Config{
		SPSection: saml.SPSection{
			KeyFile: testdataDir + "/sp-dev.key", CertFile: testdataDir + "/sp-dev.crt",
			IdPs: []IdPConfig{
				{MetadataURL: base + "/dev/spid/demo/metadata", Binding: "redirect", ShortName: "demo"},
				{MetadataURL: base + "/dev/spid/test/metadata", Binding: "post", ShortName: "test"},
			},
			MetadataRefresh: time.Hour,
		},
		Organization: Organization{
			Names:        map[string]string{"it": "Istituto Nazionale della Previdenza Sociale", "en": "National Social Security Institute"},
			DisplayNames: map[string]string{"it": "INPS (sviluppo)", "en": "INPS (development)"},
			URLs:         map[string]string{"it": "https://www.inps.it", "en": "https://www.inps.it"},
		},
		Contact: Contact{Email: "spid@inps.example.it", Phone: "+390659051"},
		IPACode: "inps",
	}
	c.applyDefaults()
	return c
}
