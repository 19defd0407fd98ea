package spid

import (
	"strings"
	"time"

	"github.com/inps/sportello/internal/fiscalcode"
	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/saml"
)

// assertionResult is what a valid Response proves.
type assertionResult = saml.Assertion

// amrFor documents the RFC 8176 values per SPID level: L1 password only; L2 password plus a
// second factor (OTP or app), hence "mfa"; L3 adds a hardware-protected key ("hwk").
func amrFor(level int) []string {
	switch level {
	case 1:
		return []string{"pwd"}
	case 2:
		return []string{"pwd", "mfa"}
	default:
		return []string{"pwd", "hwk", "mfa"}
	}
}

// identityFrom maps a validated assertion to the broker's Identity.
func identityFrom(res *assertionResult, idp string) (*providers.Identity, error) {
	fn, ok := res.Attributes["fiscalNumber"]
	if !ok {
		return nil, reject("attributes.fiscal_number", "%v", errNoFiscalNumber)
	}
	cf, found := strings.CutPrefix(fn, "TINIT-")
	if !found {
		return nil, reject("attributes.fiscal_number", "%q lacks the TINIT- prefix", fn)
	}
	cf, err := fiscalcode.Parse(cf)
	if err != nil {
		return nil, reject("attributes.fiscal_number", "%v", err)
	}
	id := &providers.Identity{
		FiscalNumber: cf,
		GivenName:    res.Attributes["name"],
		FamilyName:   res.Attributes["familyName"],
		Email:        res.Attributes["email"],
		PhoneNumber:  res.Attributes["mobilePhone"],
		Method:       providers.MethodSPID,
		ACR:          loa.ACRForLevel(res.Level),
		AMR:          amrFor(res.Level),
		AuthTime:     res.AuthnInstant.UTC(),
		SPIDIdP:      idp,
		Session: map[string]string{
			"name_id": res.NameID, "name_qualifier": res.NameQualifier,
			"session_index": res.SessionIndex, "idp": idp,
		},
		Attributes: res.Attributes,
	}
	if d := res.Attributes["dateOfBirth"]; d != "" {
		if _, err := time.Parse("2006-01-02", d); err != nil {
			return nil, reject("attributes.date_of_birth", "%q is not an xs:date", d)
		}
		id.Birthdate = d
	}
	if err := id.Validate(); err != nil {
		return nil, reject("identity", "%v", err)
	}
	return id, nil
}
