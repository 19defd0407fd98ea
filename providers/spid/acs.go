package spid

import (
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
	cf, err := res.TINITFiscalNumber("spid")
	if err != nil {
		return nil, err
	}
	birth, err := res.DateOfBirth("spid")
	if err != nil {
		return nil, err
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
		Session:      res.Session(idp),
		Birthdate:    birth,
		Attributes:   res.Attributes,
	}
	if err := id.Validate(); err != nil {
		return nil, reject("identity", "%v", err)
	}
	return id, nil
}
