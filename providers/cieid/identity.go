package cieid

import (
	"context"

	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/saml"
)

// ChannelCIEID is the cie_channel of a CIE ID login (the certificate path's is
// "certificate"): the same person, the same sub, either way.
const ChannelCIEID = "cieid"

// amrFor is the RFC 8176 values per level the CIE ID server asserts (the CIE ID technical
// manual, "Protocolli di comunicazione"): L3 is the card itself on a reader or an NFC
// smartphone with its PIN, as on the certificate path ("sc", "pin", "hwk", "mfa"); L2 the
// CieID app or a password with a second factor ("pwd", "mfa"); L1 a password ("pwd").
func amrFor(level int) []string {
	switch level {
	case 1:
		return []string{"pwd"}
	case 2:
		return []string{"pwd", "mfa"}
	default:
		return []string{"sc", "pin", "hwk", "mfa"}
	}
}

// identityFrom maps a validated assertion of the CIE ID server to the broker's Identity:
// fiscalNumber TINIT-<CF> (check letter validated), name, familyName, dateOfBirth (xs:date),
// the level asserted. auth_method is cie, as on the certificate path, so the person gets the
// same sub; cie_channel says which way.
func identityFrom(_ context.Context, a *saml.Assertion, idp *saml.IdP) (*providers.Identity, error) {
	cf, err := a.TINITFiscalNumber("cieid")
	if err != nil {
		return nil, err
	}
	birth, err := a.DateOfBirth("cieid")
	if err != nil {
		return nil, err
	}
	id := &providers.Identity{
		FiscalNumber: cf,
		GivenName:    a.Attributes["name"],
		FamilyName:   a.Attributes["familyName"],
		Method:       providers.MethodCIE,
		CIEChannel:   ChannelCIEID,
		ACR:          loa.ACRForLevel(a.Level),
		AMR:          amrFor(a.Level),
		AuthTime:     a.AuthnInstant.UTC(),
		Session:      a.Session(idp.EntityID),
		Birthdate:    birth,
		Attributes:   a.Attributes,
	}
	if err := id.Validate(); err != nil {
		return nil, reject("identity", "%v", err)
	}
	return id, nil
}

// reject is a refusal by a CIE ID rule on a validated assertion.
func reject(rule, format string, a ...any) error { return saml.Rejectf("cieid", rule, format, a...) }
