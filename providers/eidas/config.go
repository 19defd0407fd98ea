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
	"github.com/inps/sportello/internal/loa"
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
	// EntityID of the SP (default <base URL>/eidas/metadata).
	EntityID string `yaml:"entity_id"`
	// KeyFile and CertFile hold the SP signing key and certificate (the SPID SP's may serve).
	KeyFile  string `yaml:"key_file"`
	CertFile string `yaml:"cert_file"`
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
	// ACSURL and SLOURL default to <base URL>/eidas/acs and <base URL>/eidas/slo.
	ACSURL string `yaml:"acs_url"`
	SLOURL string `yaml:"slo_url"`
	// IdPs is the eIDAS node's metadata source (AgID publishes it with the certificate its
	// signature verifies with: metadata_cert_file).
	IdPs []saml.IdPConfig `yaml:"idps"`
	// Links names the INPS records of eIDAS identities: PersonIdentifier → fiscal code.
	// LinksFile is a YAML file of the same map (read at start). A linked person gets the
	// fiscal_number and the sub of that record.
	Links     map[string]string `yaml:"links"`
	LinksFile string            `yaml:"links_file"`
	// Countries are the countries the node offers a login for (ISO 3166-1 alpha-2, upper
	// case): the values eidas_country may take on /authorize. Default: the other member
	// states of the EU and the EEA (DefaultCountries).
	Countries []string `yaml:"countries"`
	// MetadataRefresh, ClockSkew, Comparison, MinLevel, RequestTTL, MetadataValidity as for
	// SPID; MinLevel 2 (eIDAS substantial) by default, so "low" is refused unless set to 1.
	MetadataRefresh  time.Duration `yaml:"metadata_refresh"`
	ClockSkew        time.Duration `yaml:"clock_skew"`
	Comparison       string        `yaml:"comparison"`
	MinLevel         int           `yaml:"min_level"`
	RequestTTL       time.Duration `yaml:"request_ttl"`
	MetadataValidity time.Duration `yaml:"metadata_validity"`
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
	cfg.KeyFile, cfg.CertFile = resolve(cfg.KeyFile), resolve(cfg.CertFile)
	for i := range cfg.IdPs {
		if cfg.IdPs[i].MetadataFile != "" {
			cfg.IdPs[i].MetadataFile = resolve(cfg.IdPs[i].MetadataFile)
		}
		if cfg.IdPs[i].MetadataCertFile != "" {
			cfg.IdPs[i].MetadataCertFile = resolve(cfg.IdPs[i].MetadataCertFile)
		}
	}
	var errs []error
	if cfg.LinksFile != "" {
		cfg.LinksFile = resolve(cfg.LinksFile)
		if err := cfg.readLinks(); err != nil {
			errs = append(errs, &config.FieldError{Path: path + ".links_file", Msg: err.Error()})
		}
	}
	cfg.applyDefaults()
	errs = append(errs, cfg.Validate(path, dev)...)
	for at, file := range map[string]string{".key_file": cfg.KeyFile, ".cert_file": cfg.CertFile} {
		if _, err := os.Stat(file); file != "" && err != nil {
			errs = append(errs, &config.FieldError{Path: path + at, Msg: "cannot read " + file})
		}
	}
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
	for i := range c.IdPs {
		if c.IdPs[i].Binding == "" {
			c.IdPs[i].Binding = "redirect"
		}
	}
	if len(c.Countries) == 0 {
		c.Countries = slices.Clone(DefaultCountries)
	}
	if c.MetadataRefresh == 0 {
		c.MetadataRefresh = 24 * time.Hour
	}
	if c.ClockSkew == 0 {
		c.ClockSkew = 60 * time.Second
	}
	if c.Comparison == "" {
		c.Comparison = loa.Minimum
	}
	if c.MinLevel == 0 {
		c.MinLevel = 2
	}
	if c.RequestTTL == 0 {
		c.RequestTTL = 15 * time.Minute
	}
	if c.MetadataValidity == 0 {
		c.MetadataValidity = 30 * 24 * time.Hour
	}
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
	ck.URL(".entity_id", c.EntityID, false)
	ck.URL(".acs_url", c.ACSURL, false)
	ck.URL(".slo_url", c.SLOURL, false)
	if c.KeyFile == "" {
		add(".key_file", "required")
	}
	if c.CertFile == "" {
		add(".cert_file", "required")
	}
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
	ck.Sources(c.IdPs, nil)
	if len(c.IdPs) > 1 {
		add(".idps", "the eIDAS node is one identity provider: one metadata source")
	}
	ck.Timing(c.MetadataRefresh, c.ClockSkew, c.RequestTTL)
	if c.Comparison != loa.Minimum && c.Comparison != loa.Exact {
		add(".comparison", "must be minimum or exact")
	}
	if c.MinLevel < 1 || c.MinLevel > 3 {
		add(".min_level", "must be 1, 2 or 3")
	}
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
		KeyFile:  testdataDir + "/sp-dev.key",
		CertFile: testdataDir + "/sp-dev.crt",
		Organization: saml.Organization{
			Names:        map[string]string{"it": "Istituto Nazionale della Previdenza Sociale", "en": "National Social Security Institute"},
			DisplayNames: map[string]string{"it": "INPS (sviluppo)", "en": "INPS (development)"},
			URLs:         map[string]string{"it": "https://www.inps.it", "en": "https://www.inps.it"},
		},
		Contact: spid.Contact{Email: "eidas@inps.example.it", Phone: "+390659051"},
		IPACode: "inps",
		IdPs:    []saml.IdPConfig{{MetadataURL: base + "/dev/eidas/metadata", Binding: "redirect"}},
		Links:   map[string]string{"ES/IT/X1234567T": "FRRGNN55T50Z600A"},
		// The dev eIDAS node's countries (devidp.NewDevEIDAS): eidas_country takes these only.
		Countries:       []string{"DE", "ES"},
		MetadataRefresh: time.Hour,
	}
	c.applyDefaults()
	return c
}
