package cieid

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/inps/sportello/config"
	"github.com/inps/sportello/providers/saml"
)

// The CIE ID server's metadata, production and pre-production (the CIE ID technical manual,
// "Federazione", "Metadata IdP").
const (
	ProductionMetadataURL    = "https://idserver.servizicie.interno.gov.it/idp/shibboleth?Metadata"
	PreproductionMetadataURL = "https://preproduzione.idserver.servizicie.interno.gov.it/idp/shibboleth?Metadata"
)

// Config is the cieid provider section (providers.<id> with type: cieid).
type Config struct {
	// SPSection: entity_id, key_file, cert_file, acs_url, slo_url, idps, metadata_refresh,
	// clock_skew, comparison, min_level, request_ttl, metadata_validity.
	saml.SPSection `yaml:",inline"`
	// Organization names, display names and URLs per language (it mandatory); the
	// administrative contact's Company is the Italian OrganizationName.
	Organization Organization `yaml:"organization"`
	// Contact is the administrative ContactPerson's e-mail and telephone.
	Contact Contact `yaml:"contact"`
	// Profile is "public" (default: cie:Public, IPACode required) or "private" (cie:Private,
	// VATNumber or FiscalCode, and at least one NACE2Code).
	Profile     string   `yaml:"profile"`
	IPACode     string   `yaml:"ipa_code"`
	IPACategory string   `yaml:"ipa_category"`
	VATNumber   string   `yaml:"vat_number"`
	FiscalCode  string   `yaml:"fiscal_code"`
	NACE2Codes  []string `yaml:"nace2_codes"`
	// Municipality is the ISTAT (Belfiore) code of the registered office, mandatory; Province
	// its two-letter code, Country its ISO 3166-1 alpha-2 code.
	Municipality string `yaml:"municipality"`
	Province     string `yaml:"province"`
	Country      string `yaml:"country"`
	// ServiceName names the one AttributeConsumingService (default "Servizi online INPS").
	ServiceName string `yaml:"service_name"`
	// Environment picks the CIE ID server's metadata when IdPs is empty: production (default)
	// or preproduction.
	Environment string `yaml:"environment"`
}

// Organization is the md:Organization of the SP metadata; maps are keyed by language.
type Organization = saml.Organization

// IdPConfig is the CIE ID server's metadata source.
type IdPConfig = saml.IdPConfig

// Contact is the administrative ContactPerson's e-mail and telephone.
type Contact struct {
	Email string `yaml:"email"`
	Phone string `yaml:"phone"`
}

// Attributes are the only attributes the CIE ID server releases: the eIDAS minimum data set
// (the CIE ID technical manual, "Attribute Consuming Service").
var Attributes = []string{"name", "familyName", "dateOfBirth", "fiscalNumber"}

var (
	ipaRe          = regexp.MustCompile(`^[A-Za-z0-9_]{1,20}$`)
	ipaCategoryRe  = regexp.MustCompile(`^[A-Z][0-9]{1,3}$`)
	vatRe          = regexp.MustCompile(`^[A-Z]{2}[0-9A-Z]{2,13}$`)
	legalFiscalRe  = regexp.MustCompile(`^[0-9]{11}$|^[A-Z0-9]{16}$`)
	naceRe         = regexp.MustCompile(`^[0-9]{2}(\.[0-9]{1,2}){0,2}$`)
	municipalityRe = regexp.MustCompile(`^[A-Z][0-9]{3}$`)
	provinceRe     = regexp.MustCompile(`^[A-Z]{2}$`)
	countryRe      = regexp.MustCompile(`^[A-Z]{2}$`)
)

// FromProvider decodes and validates the section of provider id (unknown keys refused, every
// problem with its path), resolving relative file paths against the configuration file's
// directory and checking that the files it names can be read.
func FromProvider(id string, p *config.Provider, dev bool) (*Config, []error) {
	path := "providers." + id
	cfg := &Config{}
	if errs := config.DecodeSection(&p.Node, path, cfg); len(errs) > 0 {
		return nil, errs
	}
	cfg.applyDefaults()
	if errs := cfg.Validate(path, dev); len(errs) > 0 {
		return nil, errs
	}
	if errs := cfg.SPSection.Resolve(path, p.Resolver.Path); len(errs) > 0 {
		return nil, errs
	}
	return cfg, nil
}

func (c *Config) applyDefaults() {
	if c.Profile == "" {
		c.Profile = "public"
	}
	if c.Environment == "" {
		c.Environment = "production"
	}
	if len(c.IdPs) == 0 {
		switch c.Environment {
		case "production":
			c.IdPs = []IdPConfig{{MetadataURL: ProductionMetadataURL}}
		case "preproduction":
			c.IdPs = []IdPConfig{{MetadataURL: PreproductionMetadataURL}}
		}
	}
	if c.ServiceName == "" {
		c.ServiceName = "Servizi online INPS"
	}
	c.SPSection.Defaults()
}

// Validate checks the section (the CIE ID technical manual's metadata rules); dev allows
// http:// URLs.
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
	case "private":
		if c.IPACode != "" || c.IPACategory != "" {
			add(".ipa_code", "not allowed for a private SP")
		}
		if c.VATNumber == "" && c.FiscalCode == "" {
			add(".vat_number", "a private SP needs vat_number or fiscal_code")
		}
		if len(c.NACE2Codes) == 0 {
			add(".nace2_codes", "a private SP needs at least one NACE2 (ATECO) code")
		}
	default:
		add(".profile", "must be public or private")
	}
	if c.IPACategory != "" && !ipaCategoryRe.MatchString(c.IPACategory) {
		add(".ipa_category", "not an IPA category (L6, L37...)")
	}
	if c.VATNumber != "" && !vatRe.MatchString(c.VATNumber) {
		add(".vat_number", "a VAT number with its country prefix, no spaces (IT12345678901)")
	}
	if c.FiscalCode != "" && !legalFiscalRe.MatchString(c.FiscalCode) {
		add(".fiscal_code", "not a fiscal code")
	}
	for i, n := range c.NACE2Codes {
		if !naceRe.MatchString(n) {
			add(fmt.Sprintf(".nace2_codes[%d]", i), "not a NACE2 code (12.34.56)")
		}
	}
	if !municipalityRe.MatchString(c.Municipality) {
		add(".municipality", "required: the ISTAT (Belfiore) code of the registered office, upper case (H501)")
	}
	if c.Province != "" && !provinceRe.MatchString(c.Province) {
		add(".province", "two upper-case letters (RM)")
	}
	if c.Country != "" && !countryRe.MatchString(c.Country) {
		add(".country", "an ISO 3166-1 alpha-2 code (IT)")
	}
	if strings.TrimSpace(c.ServiceName) == "" {
		add(".service_name", "required")
	}
	if c.Environment != "production" && c.Environment != "preproduction" {
		add(".environment", "must be production or preproduction")
	}
	c.SPSection.CheckIdPs(ck, nil, "the CIE ID server")
	return ck.Errs
}

// DevConfig is the dev-mode section: the committed dev SP key (testdataDir is the repository's
// testdata/spid), the dev CIE ID server of baseURL loaded from its metadata URL, public SP
// profile with IPA code "inps" in Rome (H501).
func DevConfig(baseURL, testdataDir string) *Config {
	base := strings.TrimRight(baseURL, "/")
	c := &Config{
		SPSection: saml.SPSection{
			KeyFile: testdataDir + "/sp-dev.key", CertFile: testdataDir + "/sp-dev.crt",
			IdPs:            []IdPConfig{{MetadataURL: base + "/dev/cieid/metadata", Binding: "redirect"}},
			MetadataRefresh: time.Hour,
		},
		Organization: Organization{
			Names:        map[string]string{"it": "Istituto Nazionale della Previdenza Sociale", "en": "National Social Security Institute"},
			DisplayNames: map[string]string{"it": "INPS (sviluppo)", "en": "INPS (development)"},
			URLs:         map[string]string{"it": "https://www.inps.it", "en": "https://www.inps.it"},
		},
		Contact:      Contact{Email: "cie@inps.example.it", Phone: "+390659051"},
		IPACode:      "inps",
		Municipality: "H501",
		Province:     "RM",
		Country:      "IT",
	}
	c.applyDefaults()
	return c
}
