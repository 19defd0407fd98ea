package x509auth

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/inps/sportello/config"
	"github.com/inps/sportello/internal/loa"
)

// SectionConfig is the part of a cie or cns provider section both card types share.
//
//	trust_anchors: [ca.pem, /etc/sportello/cie-anchors/]   # PEM files or directories (required)
//	intermediates: [sub-ca.pem]
//	policies: ["1.3.76.47.4"]                              # accepted certificate policy OIDs
//	acr: https://www.spid.gov.it/SpidL3                    # level reached (default SpidL3)
//	revocation: {crl: true, ocsp: true, on_unreachable: fail, fetch_timeout: 5s, ...}
type SectionConfig struct {
	TrustAnchors  []string         `yaml:"trust_anchors"`
	Intermediates []string         `yaml:"intermediates"`
	Policies      []string         `yaml:"policies"`
	ACR           string           `yaml:"acr"`
	Revocation    RevocationConfig `yaml:"revocation"`
}

// RevocationConfig is the revocation subsection; see Revocation for the meaning of each key.
// crl and ocsp default to true; turning both off is allowed only in dev mode.
type RevocationConfig struct {
	CRL              *bool             `yaml:"crl"`
	OCSP             *bool             `yaml:"ocsp"`
	OCSPResponder    string            `yaml:"ocsp_responder"`
	RequireOCSPNonce bool              `yaml:"require_ocsp_nonce"`
	OnUnreachable    string            `yaml:"on_unreachable"`
	MaxCRLSize       int64             `yaml:"max_crl_size"`
	FetchTimeout     time.Duration     `yaml:"fetch_timeout"`
	URLRewrite       map[string]string `yaml:"url_rewrite"`
}

// Resolve makes the section's file paths relative to the configuration (see config.Resolver)
// and fills the defaults: acr SpidL3, crl and ocsp on.
func (c *SectionConfig) Resolve(r config.Resolver) {
	for i, p := range c.TrustAnchors {
		c.TrustAnchors[i] = r.Path(p)
	}
	for i, p := range c.Intermediates {
		c.Intermediates[i] = r.Path(p)
	}
	if c.ACR == "" {
		c.ACR = loa.SpidL3
	}
	on := true
	if c.Revocation.CRL == nil {
		c.Revocation.CRL = &on
	}
	if c.Revocation.OCSP == nil {
		c.Revocation.OCSP = &on
	}
}

// Validate checks a resolved section, loading its certificate files, and reports every error
// with its path under path (for example "providers.cie").
func (c *SectionConfig) Validate(path string, dev bool) []error {
	var errs []error
	fail := func(p, format string, args ...any) {
		errs = append(errs, &config.FieldError{Path: path + "." + p, Msg: fmt.Sprintf(format, args...)})
	}
	if len(c.TrustAnchors) == 0 {
		fail("trust_anchors", "at least one trust anchor (PEM file or directory) is required")
	}
	for i, p := range c.TrustAnchors {
		if _, err := LoadCertificates([]string{p}); err != nil {
			fail(fmt.Sprintf("trust_anchors[%d]", i), "%v", err)
		}
	}
	for i, p := range c.Intermediates {
		if _, err := LoadCertificates([]string{p}); err != nil {
			fail(fmt.Sprintf("intermediates[%d]", i), "%v", err)
		}
	}
	if len(c.Policies) == 0 {
		fail("policies", "at least one certificate policy OID is required")
	}
	for i, s := range c.Policies {
		if _, err := x509ParseOID(s); err != nil {
			fail(fmt.Sprintf("policies[%d]", i), "%q is not an OID", s)
		}
	}
	if loa.LevelOf(c.ACR) == 0 {
		fail("acr", "%q: want %s, %s or %s", c.ACR, loa.SpidL1, loa.SpidL2, loa.SpidL3)
	}
	r := c.Revocation
	if r.CRL != nil && r.OCSP != nil && !*r.CRL && !*r.OCSP && !dev {
		fail("revocation", "both crl and ocsp are off: allowed only in dev mode")
	}
	switch r.OnUnreachable {
	case "", OnUnreachableFail, OnUnreachableAllow:
	default:
		fail("revocation.on_unreachable", "%q: want fail or allow", r.OnUnreachable)
	}
	if r.MaxCRLSize < 0 {
		fail("revocation.max_crl_size", "must not be negative")
	}
	if r.FetchTimeout < 0 {
		fail("revocation.fetch_timeout", "must not be negative")
	}
	if r.OCSPResponder != "" && !httpURL(r.OCSPResponder) {
		fail("revocation.ocsp_responder", "%q is not an http(s) URL", r.OCSPResponder)
	}
	for from, to := range r.URLRewrite {
		if !httpURL(from) || !httpURL(to) {
			fail("revocation.url_rewrite", "%q -> %q: both must be http(s) URLs", from, to)
		}
	}
	return errs
}

// Policy builds the validator policy of a resolved, valid section; policies are the accepted
// OIDs (the provider adds its defaults and equivalents).
func (c *SectionConfig) Policy(policies []string) (Policy, error) {
	anchors, err := LoadCertificates(c.TrustAnchors)
	if err != nil {
		return Policy{}, err
	}
	inter, err := LoadCertificates(c.Intermediates)
	if err != nil {
		return Policy{}, err
	}
	r := c.Revocation
	return Policy{
		Anchors:          anchors,
		Intermediates:    inter,
		RequiredPolicies: policies,
		Revocation: Revocation{
			CRL:              r.CRL == nil || *r.CRL,
			OCSP:             r.OCSP == nil || *r.OCSP,
			OCSPResponder:    r.OCSPResponder,
			RequireOCSPNonce: r.RequireOCSPNonce,
			OnUnreachable:    r.OnUnreachable,
			MaxCRLSize:       r.MaxCRLSize,
			FetchTimeout:     r.FetchTimeout,
			URLRewrite:       r.URLRewrite,
		},
	}, nil
}

func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && !strings.ContainsAny(s, " \t\n")
}

// Section returns the shared section a card provider's configuration embeds.
func (c *SectionConfig) Section() *SectionConfig { return c }

// CardSection is a card provider's configuration: a struct embedding SectionConfig.
type CardSection interface {
	Section() *SectionConfig
}

// DecodeCardSection decodes a card provider's section into c strictly, resolves its file
// paths, defaults its policies to defaultPolicy and validates it; extra, when set, adds the
// card's own checks. Errors carry paths under path.
func DecodeCardSection(node *yaml.Node, path string, r config.Resolver, dev bool, c CardSection, defaultPolicy string, extra func() []error) []error {
	if errs := config.DecodeSection(node, path, c); len(errs) > 0 {
		return errs
	}
	sec := c.Section()
	sec.Resolve(r)
	if len(sec.Policies) == 0 {
		sec.Policies = []string{defaultPolicy}
	}
	errs := sec.Validate(path, dev)
	if extra != nil {
		errs = append(errs, extra()...)
	}
	return errs
}
