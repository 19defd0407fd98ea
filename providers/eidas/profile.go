package eidas

import (
	"github.com/beevik/etree"

	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/providers/saml"
	"github.com/inps/sportello/providers/saml/samlx"
	"github.com/inps/sportello/providers/spid"
)

// The eIDAS levels of assurance (eIDAS implementing regulation 2015/1502), as an eIDAS node
// names them in an AuthnContextClassRef.
const (
	LoALow         = "http://eidas.europa.eu/LoA/low"
	LoASubstantial = "http://eidas.europa.eu/LoA/substantial"
	LoAHigh        = "http://eidas.europa.eu/LoA/high"
)

// profile is eIDAS through FICEP on the SAML engine. AgID connects an SP to the Italian eIDAS
// node "with the same rules and steps as SPID" (AgID/eidas-italian-node, "Connessione
// all'ambiente di Quality Assurance": the node is an IdP of the SPID federation), so it is
// SPID's profile — levels, Issuer formats, ForceAuthn from L2, comparisons, attribute names,
// error codes, the spid: contacts — with the eIDAS levels of assurance accepted in a Response
// for the SPID level they equal (low L1, substantial L2, high L3), as the SPID rules map them.
func profile(cfg *Config) saml.Profile {
	return saml.Profile{
		Name:               "eidas",
		LevelURIs:          []string{loa.SpidL1, loa.SpidL2, loa.SpidL3},
		LevelAliases:       map[string]int{LoALow: 1, LoASubstantial: 2, LoAHigh: 3},
		ResponseIssuer:     saml.IssuerFormatOptional,
		AssertionIssuer:    saml.IssuerFormatRequired,
		ForceAuthnFrom:     2,
		Comparisons:        []string{loa.Minimum, loa.Exact},
		Attributes:         spid.SPIDAttributes,
		ErrorCodes:         spid.ErrorCodes(),
		MetadataNamespaces: []saml.Namespace{{Prefix: "spid", URI: samlx.NSSPID}},
		WriteContacts: func(ed *etree.Element) {
			spid.Contacts{Profile: cfg.Profile, IPACode: cfg.IPACode, VATNumber: cfg.VATNumber, FiscalCode: cfg.FiscalCode,
				Email: cfg.Contact.Email, Phone: cfg.Contact.Phone, BillingEmail: cfg.BillingEmail}.Write(ed)
		},
	}
}
