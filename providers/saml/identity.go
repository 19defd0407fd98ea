package saml

import (
	"strings"
	"time"

	"github.com/inps/sportello/internal/fiscalcode"
)

// The helpers below read what the SPID-shaped profiles' identities share from a validated
// Assertion; a refusal is a RejectError of profile's rule (Rejectf), as the profile's own.

// TINITFiscalNumber is the codice fiscale of the fiscalNumber attribute as SPID and CIE ID
// send it ("TINIT-" and the code, AgID's rules), its check letter verified; refused under
// attributes.fiscal_number when missing, without the prefix or not a fiscal code.
func (a *Assertion) TINITFiscalNumber(profile string) (string, error) {
	fn, ok := a.Attributes["fiscalNumber"]
	if !ok {
		return "", Rejectf(profile, "attributes.fiscal_number", "no fiscalNumber attribute")
	}
	cf, found := strings.CutPrefix(fn, "TINIT-")
	if !found {
		return "", Rejectf(profile, "attributes.fiscal_number", "%q lacks the TINIT- prefix", fn)
	}
	cf, err := fiscalcode.Parse(cf)
	if err != nil {
		return "", Rejectf(profile, "attributes.fiscal_number", "%v", err)
	}
	return cf, nil
}

// DateOfBirth is the dateOfBirth attribute, an xs:date (YYYY-MM-DD), "" when absent; a value
// that is no date is refused under attributes.date_of_birth.
func (a *Assertion) DateOfBirth(profile string) (string, error) {
	d := a.Attributes["dateOfBirth"]
	if d == "" {
		return "", nil
	}
	if _, err := time.Parse("2006-01-02", d); err != nil {
		return "", Rejectf(profile, "attributes.date_of_birth", "%q is not an xs:date", d)
	}
	return d, nil
}

// Session is what a logout of the assertion's session names (providers.Identity.Session):
// the IdP's entityID, the NameID with its NameQualifier, the SessionIndex. The broker finds
// its session of an IdP-initiated logout by idp, name_id and session_index.
func (a *Assertion) Session(idp string) map[string]string {
	return map[string]string{"name_id": a.NameID, "name_qualifier": a.NameQualifier,
		"session_index": a.SessionIndex, "idp": idp}
}
