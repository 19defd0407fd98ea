package saml

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/inps/sportello/config"
)

// Checks collects the problems of one SAML provider section, each a *config.FieldError under
// Path: the checks every profile's configuration shares (URLs, the Organization, the contact,
// the metadata sources, the time limits), so that SPID, CIE ID and eIDAS say the same thing
// the same way.
type Checks struct {
	// Path is the section's path ("providers.spid").
	Path string
	// Dev allows http:// URLs.
	Dev  bool
	Errs []error
}

// Add records a problem at Path+sub.
func (c *Checks) Add(sub, format string, a ...any) {
	c.Errs = append(c.Errs, &config.FieldError{Path: c.Path + sub, Msg: fmt.Sprintf(format, a...)})
}

// URL checks an absolute https URL (http in dev mode); empty is a problem only when required.
func (c *Checks) URL(sub, u string, required bool) {
	if u == "" {
		if required {
			c.Add(sub, "required")
		}
		return
	}
	pu, err := url.Parse(u)
	switch {
	case err != nil || pu.Host == "":
		c.Add(sub, "not an absolute URL")
	case pu.Scheme == "https":
	case pu.Scheme == "http" && c.Dev:
	default:
		c.Add(sub, "must be https (http only in dev mode)")
	}
}

// Organization checks md:Organization: an Italian name, and the same languages for the
// names, display names and URLs (AgID's SPID rules and the CIE ID manual alike).
func (c *Checks) Organization(o Organization) {
	if o.Names["it"] == "" {
		c.Add(".organization.names.it", "required")
	}
	for lang := range o.Names {
		if o.DisplayNames[lang] == "" {
			c.Add(".organization.display_names."+lang, "required (same languages as names)")
		}
		if o.URLs[lang] == "" {
			c.Add(".organization.urls."+lang, "required (same languages as names)")
		}
	}
	for lang := range o.DisplayNames {
		if o.Names[lang] == "" {
			c.Add(".organization.names."+lang, "required (same languages as display_names)")
		}
	}
	for lang, u := range o.URLs {
		if o.Names[lang] == "" {
			c.Add(".organization.names."+lang, "required (same languages as urls)")
		}
		c.URL(".organization.urls."+lang, u, true)
	}
}

var phoneRe = regexp.MustCompile(`^\+39[0-9]{6,12}$`)

// Contact checks a contact's e-mail (required) and telephone (international prefix, no
// spaces) at sub.
func (c *Checks) Contact(sub, email, phone string) {
	if email == "" || !strings.Contains(email, "@") {
		c.Add(sub+".email", "a valid e-mail address is required")
	}
	if phone != "" && !phoneRe.MatchString(phone) {
		c.Add(sub+".phone", "must be +39 followed by digits, no spaces")
	}
}

var shortRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

// Sources checks the identity providers' metadata sources at ".idps": at least one, each a
// file or a URL, a known binding, short names well formed, unique and not one of reserved.
func (c *Checks) Sources(idps []IdPConfig, reserved map[string]bool) {
	if len(idps) == 0 {
		c.Add(".idps", "at least one identity provider")
	}
	shortNames := map[string]bool{}
	for i, idp := range idps {
		p := fmt.Sprintf(".idps[%d]", i)
		switch {
		case idp.MetadataFile == "" && idp.MetadataURL == "":
			c.Add(p+".metadata_url", "metadata_file or metadata_url is required")
		case idp.MetadataFile != "" && idp.MetadataURL != "":
			c.Add(p+".metadata_url", "give metadata_file or metadata_url, not both")
		}
		c.URL(p+".metadata_url", idp.MetadataURL, false)
		c.URL(p+".logo_url", idp.LogoURL, false)
		if idp.Binding != "redirect" && idp.Binding != "post" {
			c.Add(p+".binding", "must be redirect or post")
		}
		switch {
		case idp.ShortName == "":
		case !shortRe.MatchString(idp.ShortName):
			c.Add(p+".short_name", "1 to 32 lower-case letters, digits, - or _, starting with a letter or digit")
		case reserved[idp.ShortName]:
			c.Add(p+".short_name", "%q selects another credential on /authorize", idp.ShortName)
		case shortNames[idp.ShortName]:
			c.Add(p+".short_name", "duplicate %q", idp.ShortName)
		}
		shortNames[idp.ShortName] = true
	}
}

// Timing checks the time limits every profile has: the metadata refresh (at least 1m), the
// clock skew (0 to 5m) and the request TTL (1m to 1h).
func (c *Checks) Timing(refresh, skew, requestTTL time.Duration) {
	if refresh < time.Minute {
		c.Add(".metadata_refresh", "at least 1m")
	}
	if skew < 0 || skew > 5*time.Minute {
		c.Add(".clock_skew", "between 0 and 5m")
	}
	if requestTTL < time.Minute || requestTTL > time.Hour {
		c.Add(".request_ttl", "between 1m and 1h")
	}
}
