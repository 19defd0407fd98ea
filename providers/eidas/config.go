package eidas

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/inps/sportello/config"
	"github.com/inps/sportello/internal/fiscalcode"
	"github.com/inps/sportello/providers/saml"
	"github.com/inps/sportello/providers/spid"
)

// The AttributeConsumingServices of an SP towards the eIDAS node, as AgID gives them (the
// Italian eIDAS node's SP documentation, AgID/eidas-italian-node "attribute-consuming-service"):
// index 99 the eIDAS natural-person minimum data set, 100 the full one. The node carries the
// eIDAS PersonIdentifier in spidCode.
const (
	MinimumSetIndex  = 99
	ExtendedSetIndex = 100
)

var (
	// MinimumSet is the eIDAS natural-person minimum data set in SPID names.
	MinimumSet = []string{"dateOfBirth", "familyName", "name", "spidCode"}
	// ExtendedSet is the full set: the minimum one, address, gender and placeOfBirth.
	ExtendedSet = []string{"address", "dateOfBirth", "familyName", "gender", "name", "placeOfBirth", "spidCode"}
)

// Config is the eidas provider section (providers.<id> with type: eidas).
type Config struct {
	// SPSection: entity_id, key_file, cert_file, acs_url, slo_url, idps, metadata_refresh,
	// clock_skew, comparison, min_level, request_ttl, metadata_validity.
	saml.SPSection `yaml:",inline"`
	// Organization, Contact, Profile, IPACode, VATNumber, FiscalCode, BillingEmail: the
	// SPID-shaped metadata (the eIDAS node is an IdP of the SPID federation).
	Organization saml.Organization `yaml:"organization"`
	Contact      spid.Contact      `yaml:"contact"`
	Profile      string            `yaml:"profile"`
	IPACode      string            `yaml:"ipa_code"`
	VATNumber    string            `yaml:"vat_number"`
	FiscalCode   string            `yaml:"fiscal_code"`
	BillingEmail string            `yaml:"billing_email"`
	// AttributeSet is the data set asked: minimum (index 99, the default) or extended (100).
	AttributeSet string `yaml:"attribute_set"`
	// Links names the INPS records of eIDAS identities: PersonIdentifier → fiscal code.
	// LinksFile is a YAML file of the same map (read at start). A linked person gets the
	// fiscal_number and the sub of that record.
	Links     map[string]string `yaml:"links"`
	LinksFile string            `yaml:"links_file"`
	// Countries are the countries the node offers a login for (ISO 3166-1 alpha-2, upper
	// case): the values eidas_country may take on /authorize. Default: the other member
	// states of the EU and the EEA (DefaultCountries).
	Countries []string `yaml:"countries"`
}

// DefaultCountries are the countries the eIDAS node is taken to offer when countries is not
// configured: the member states of the European Union but Italy, and Iceland, Liechtenstein
// and Norway of the EEA (eIDAS applies there too), by their ISO 3166-1 alpha-2 codes.
var DefaultCountries = []string{"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR",
	"HR", "HU", "IE", "IS", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK"}

var (
	// countryRe is an ISO 3166-1 alpha-2 code as eidas_country takes it: upper case.
	countryRe = regexp.MustCompile(`^[A-Z]{2}$`)
	ipaRe     = regexp.MustCompile(`^[A-Za-z0-9_]{1,20}$`)
	// personIDRe is the eIDAS PersonIdentifier (eIDAS SAML attribute profile): the
	// nationality of the identifier, the country it is sent to, the identifier.
	personIDRe = regexp.MustCompile(`^([A-Z]{2})/([A-Z]{2})/([!-~]{1,256})$`)
)

// FromProvider decodes and validates the section of provider id (unknown keys refused, every
// problem with its path), resolving relative file paths and reading links_file.
func FromProvider(id string, p *config.Provider, dev bool) (*Config, []error) {
	path := "providers." + id
	cfg := &Config{}
	if errs := config.DecodeSection(&p.Node, path, cfg); len(errs) > 0 {
		return nil, errs
	}
	resolve := p.Resolver.Path
	errs := cfg.SPSection.Resolve(path, resolve)
	if cfg.LinksFile != "" {
		cfg.LinksFile = resolve(cfg.LinksFile)
		if err := cfg.readLinks(); err != nil {
			errs = append(errs, &config.FieldError{Path: path + ".links_file", Msg: err.Error()})
		}
	}
	cfg.applyDefaults()
	errs = append(errs, cfg.Validate(path, dev)...)
	if len(errs) > 0 {
		return nil, errs
	}
	return cfg, nil
}

// readLinks merges the links of LinksFile (a YAML map) into Links.
func (c *Config) readLinks() error {
	b, err := os.ReadFile(c.LinksFile)
	if err != nil {
		return fmt.Errorf("cannot read %s", c.LinksFile)
	}
	var m map[string]string
	if err := yaml.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("%s: not a map of PersonIdentifier to fiscal code: %w", c.LinksFile, err)
	}
	if c.Links == nil {
		c.Links = map[string]string{}
	}
	for k, v := range m {
		c.Links[k] = v
	}
	return nil
}

func (c *Config) applyDefaults() {
	if c.Profile == "" {
		c.Profile = "public"
	}
	if c.AttributeSet == "" {
		c.AttributeSet = "minimum"
	}
	if len(c.Countries) == 0 {
		c.Countries = slices.Clone(DefaultCountries)
	}
	c.SPSection.Defaults()
	norm := map[string]string{}
	for k, v := range c.Links {
		norm[strings.ToUpper(strings.TrimSpace(k))] = strings.ToUpper(strings.TrimSpace(v))
	}
	c.Links = norm
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
	case "private":
		if c.VATNumber == "" && c.FiscalCode == "" {
			add(".vat_number", "a private SP needs vat_number or fiscal_code")
		}
		if c.BillingEmail == "" {
			add(".billing_email", "a private SP needs a billing contact")
		}
	default:
		add(".profile", "must be public or private")
	}
	if c.AttributeSet != "minimum" && c.AttributeSet != "extended" {
		add(".attribute_set", "must be minimum (index 99) or extended (index 100)")
	}
	c.SPSection.CheckIdPs(ck, nil, "the eIDAS node")
	for i, cc := range c.Countries {
		switch {
		case !countryRe.MatchString(cc):
			add(".countries", "%q is not an ISO 3166-1 alpha-2 code in upper case (DE)", cc)
		case cc == "IT":
			add(".countries", "IT: a person with an Italian eID logs in with SPID or CIE, not through the eIDAS node")
		case slices.Contains(c.Countries[:i], cc):
			add(".countries", "%s is listed twice", cc)
		}
	}
	for pid, cf := range c.Links {
		if m := personIDRe.FindStringSubmatch(pid); m == nil || m[2] != "IT" {
			add(".links", "%q is not an eIDAS PersonIdentifier sent to Italy (CC/IT/...)", pid)
		}
		if _, err := fiscalcode.Parse(cf); err != nil {
			add(".links", "%q: %v", pid, err)
		}
	}
	return ck.Errs
}

// DevConfig is the dev-mode section: the committed dev SP key (testdataDir is the repository's
// testdata/spid), the dev eIDAS node of baseURL loaded from its metadata URL, public SP with
// IPA code "inps", and the dev INPS link of Giovanna Ferrari's Spanish eID to her PIN record.
func DevConfig(baseURL, testdataDir string) *Config {
	base := strings.TrimRight(baseURL, "/")
	c := &Config{
		SPSection: saml.SPSection{
			KeyFile: testdataDir + "/sp-dev.key", CertFile: testdataDir + "/sp-dev.crt",
			IdPs:            []saml.IdPConfig{{MetadataURL: base + "/dev/eidas/metadata", Binding: "redirect"}},
			MetadataRefresh: time.Hour,
		},
		Organization: saml.Organization{
			Names:        map[string]string{"it": "Istituto Nazionale della Previdenza Sociale", "en": "National Social Security Institute"},
			DisplayNames: map[string]string{"it": "INPS (sviluppo)", "en": "INPS (development)"},
			URLs:         map[string]string{"it": "https://www.inps.it", "en": "https://www.inps.it"},
		},
		Contact: spid.Contact{Email: "eidas@inps.example.it", Phone: "+390659051"},
		IPACode: "inps",
		Links:   map[string]string{"ES/IT/X1234567T": "FRRGNN55T50Z600A"},
		// The dev eIDAS node's countries (devidp.NewDevEIDAS): eidas_country takes these only.
		Countries: []string{"DE", "ES"},
	}
	c.applyDefaults()
	return c
}
