package spid

import (
	"github.com/beevik/etree"

	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/saml"
	"github.com/inps/sportello/providers/saml/samlx"
)

// spidErrorCodes are AgID's error codes in a non-success StatusMessage ("ErrorCode nr19");
// each has the catalogue key "spid.<code>".
var spidErrorCodes = []string{"nr19", "nr20", "nr21", "nr22", "nr23", "nr25", "nr30"}

// errorCauses is what an error code means to the broker; every other code is a denial.
var errorCauses = map[string]error{
	"nr19": providers.ErrDenied,          // repeated wrong credentials
	"nr20": providers.ErrLevelNotReached, // no credentials of the level asked
	"nr21": providers.ErrLoginExpired,    // timeout
	"nr22": providers.ErrDenied,          // consent denied
	"nr23": providers.ErrDenied,          // credentials suspended or revoked
	"nr25": providers.ErrCancelled,       // the person cancelled
}

// profile is SPID on the SAML engine, per AgID's technical rules: the SpidL1-3 classes (the
// old urn:oasis form is not one of them), the Response Issuer's Format absent or entity and
// the Assertion's mandatory, ForceAuthn from L2, Comparison minimum or exact, the SPID
// attribute names and error codes, and the metadata's ContactPerson "other" with the spid:
// extensions of cfg.
func profile(cfg *Config) saml.Profile {
	return saml.Profile{
		Name:               "spid",
		LevelURIs:          []string{loa.SpidL1, loa.SpidL2, loa.SpidL3},
		ResponseIssuer:     saml.IssuerFormatOptional,
		AssertionIssuer:    saml.IssuerFormatRequired,
		ForceAuthnFrom:     2,
		Comparisons:        []string{"minimum", "exact"},
		Attributes:         SPIDAttributes,
		ErrorCodes:         ErrorCodes(),
		MetadataNamespaces: []saml.Namespace{{Prefix: "spid", URI: samlx.NSSPID}},
		WriteContacts:      func(ed *etree.Element) { writeContacts(ed, cfg) },
	}
}

// ErrorCodes are AgID's error codes and what each means to the broker (also the eIDAS node's,
// a SPID-shaped IdP).
func ErrorCodes() []saml.ErrorCode {
	codes := make([]saml.ErrorCode, 0, len(spidErrorCodes))
	for _, nr := range spidErrorCodes {
		cause := errorCauses[nr]
		if cause == nil {
			cause = providers.ErrDenied
		}
		codes = append(codes, saml.ErrorCode{Code: nr, Err: cause})
	}
	return codes
}
