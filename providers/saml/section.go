package saml

import (
	"fmt"
	"os"
	"time"

	"github.com/inps/sportello/config"
	"github.com/inps/sportello/internal/loa"
)

// SPSection is the part every SAML profile's configuration section has (SPID, CIE ID,
// eIDAS), embedded inline in each profile's Config so that its keys, defaults and checks are
// written once.
type SPSection struct {
	// EntityID of the SP (default <base URL>/<profile>/metadata: each profile an entity of
	// its own).
	EntityID string `yaml:"entity_id"`
	// KeyFile and CertFile hold the SP signing key and certificate (PEM, RSA >= 2048).
	KeyFile  string `yaml:"key_file"`
	CertFile string `yaml:"cert_file"`
	// ACSURL and SLOURL default to <base URL>/<profile>/acs and <base URL>/<profile>/slo.
	ACSURL string `yaml:"acs_url"`
	SLOURL string `yaml:"slo_url"`
	// IdPs are the identity providers' metadata sources.
	IdPs []IdPConfig `yaml:"idps"`
	// MetadataRefresh is how often the IdP metadata is reloaded (default 24h).
	MetadataRefresh time.Duration `yaml:"metadata_refresh"`
	// ClockSkew tolerated on IssueInstant and validity windows (default 60s).
	ClockSkew time.Duration `yaml:"clock_skew"`
	// Comparison is the default RequestedAuthnContext comparison: minimum (default) or exact.
	Comparison string `yaml:"comparison"`
	// MinLevel is the lowest level ever asked (default 2: INPS accepts L2 and above).
	MinLevel int `yaml:"min_level"`
	// RequestTTL bounds the time between AuthnRequest and Response (default 15m).
	RequestTTL time.Duration `yaml:"request_ttl"`
	// MetadataValidity is the validUntil horizon of the SP metadata (default 30 days).
	MetadataValidity time.Duration `yaml:"metadata_validity"`
}

// EngineConfig is the engine's configuration of the section: the endpoints as configured
// (ProfileSpec.Resolve derives the missing ones), the metadata sources and the time limits.
// The profile adds its Organization and AttributeConsumingServices.
func (f *SPSection) EngineConfig() Config {
	return Config{EntityID: f.EntityID, ACSURL: f.ACSURL, SLOURL: f.SLOURL, IdPs: f.IdPs,
		MetadataRefresh: f.MetadataRefresh, ClockSkew: f.ClockSkew, RequestTTL: f.RequestTTL,
		MetadataValidity: f.MetadataValidity}
}

// Resolve makes the key, certificate and metadata file paths relative to the configuration
// file's directory (resolve) and reports, under path, every one named that cannot be read.
func (f *SPSection) Resolve(path string, resolve func(string) string) []error {
	var errs []error
	check := func(at, file string) {
		if _, err := os.Stat(file); file != "" && err != nil {
			errs = append(errs, &config.FieldError{Path: at, Msg: "cannot read " + file})
		}
	}
	for _, kf := range []struct {
		v  *string
		at string
	}{{&f.KeyFile, ".key_file"}, {&f.CertFile, ".cert_file"}} {
		if *kf.v != "" {
			*kf.v = resolve(*kf.v)
		}
		check(path+kf.at, *kf.v)
	}
	for i := range f.IdPs {
		idp := &f.IdPs[i]
		at := fmt.Sprintf("%s.idps[%d]", path, i)
		if idp.MetadataFile != "" {
			idp.MetadataFile = resolve(idp.MetadataFile)
			check(at+".metadata_file", idp.MetadataFile)
		}
		if idp.MetadataCertFile != "" {
			idp.MetadataCertFile = resolve(idp.MetadataCertFile)
			check(at+".metadata_cert_file", idp.MetadataCertFile)
		}
	}
	return errs
}

// Defaults fills what is not set: the HTTP-Redirect binding for every metadata source,
// metadata refreshed every 24h, 60s of clock skew, Comparison minimum, level 2 at least
// (INPS asks L2 and above unless configured otherwise), 15 minutes to answer a request,
// metadata valid 30 days.
func (f *SPSection) Defaults() {
	for i := range f.IdPs {
		if f.IdPs[i].Binding == "" {
			f.IdPs[i].Binding = "redirect"
		}
	}
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{{&f.MetadataRefresh, 24 * time.Hour}, {&f.ClockSkew, 60 * time.Second}, {&f.RequestTTL, 15 * time.Minute},
		{&f.MetadataValidity, 30 * 24 * time.Hour}} {
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if f.Comparison == "" {
		f.Comparison = loa.Minimum
	}
	if f.MinLevel == 0 {
		f.MinLevel = 2
	}
}

// CheckSP checks the SP's own part: the entity ID and endpoints (absolute https URLs when
// set, http in dev mode) and the key and certificate (required).
func (f *SPSection) CheckSP(ck *Checks) {
	ck.URL(".entity_id", f.EntityID, false)
	ck.URL(".acs_url", f.ACSURL, false)
	ck.URL(".slo_url", f.SLOURL, false)
	if f.KeyFile == "" {
		ck.Add(".key_file", "required")
	}
	if f.CertFile == "" {
		ck.Add(".cert_file", "required")
	}
}

// CheckIdPs checks the identity providers' part: the metadata sources (no short name in
// reserved; one source at most when only names the profile's one IdP, "the CIE ID server"),
// the time limits, the comparison and the minimum level.
func (f *SPSection) CheckIdPs(ck *Checks, reserved map[string]bool, only string) {
	ck.Sources(f.IdPs, reserved)
	if only != "" && len(f.IdPs) > 1 {
		ck.Add(".idps", "%s is one identity provider: one metadata source", only)
	}
	ck.Timing(f.MetadataRefresh, f.ClockSkew, f.RequestTTL)
	if f.Comparison != loa.Minimum && f.Comparison != loa.Exact {
		ck.Add(".comparison", "must be minimum or exact")
	}
	if f.MinLevel < 1 || f.MinLevel > 3 {
		ck.Add(".min_level", "must be 1, 2 or 3")
	}
}
