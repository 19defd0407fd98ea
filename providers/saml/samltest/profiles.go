package samltest

import (
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/saml/samlx"
)

// The three profiles' departures from the shared table, side by side: what each ACS refuses
// otherwise, the rows that do not apply to it, and rows of its own. Their own rows derive
// from each profile test's Good response (CIE ID: Mario Rossi's fiscalNumber, the Response's
// Issuer without Format; eIDAS: Anna Schmidt's PersonIdentifier DE/IT/0123456789ABCDEF in
// spidCode, no fiscalNumber).
var (
	// SPID is the reference the table is written from: it departs from no row.
	SPID = Profile{Name: "spid"}

	// CIEID departs rule by rule of the CIE ID technical manual.
	CIEID = Profile{
		Name: "cieid",
		Differences: map[string]Difference{
			// The Assertion's Issuer Format may be absent: the manual's examples show both.
			"assertion Issuer Format missing": {Skip: "the Assertion's Issuer may omit Format (CIE ID manual's examples)"},
			// The CIE ID server defines no nr20: an unknown code is a denial.
			"status nr20 no credentials of the level": {Class: "idp_status", Want: providers.ErrDenied},
		},
		Extra: []Row{
			// "L'attributo Format dell'elemento <samlp:Issuer> non è presente": SPID accepts the
			// entity Format there, CIE ID refuses any.
			{Name: "response Issuer with Format entity", H: Hostile{Params: func(p *samlx.ResponseParams) {
				p.ResponseIssuerWithoutFormat = false
			}}, Class: "response.issuer"},
			// The levels are the SpidL classes: an eIDAS LoA URI is no level of CIE ID.
			{Name: "AuthnContextClassRef an eIDAS level of assurance", H: Hostile{PreSign: func(r, a *etree.Element) {
				a.FindElement("./saml:AuthnStatement/saml:AuthnContext/saml:AuthnContextClassRef").SetText("http://eidas.europa.eu/LoA/high")
			}}, Class: "authn.context"},
		},
	}

	// EIDAS: the node sends no fiscalNumber (those rows do not apply; the PersonIdentifier's
	// do, below).
	EIDAS = Profile{
		Name: "eidas",
		Differences: map[string]Difference{
			"assertion fiscal code changed after signing": {Skip: "no fiscalNumber: see \"spidCode changed after signing\""},
			"fiscalNumber missing":                        {Skip: "no fiscalNumber in the eIDAS data sets"},
			"fiscalNumber without TINIT- prefix":          {Skip: "no fiscalNumber in the eIDAS data sets"},
			"fiscalNumber with a wrong check letter":      {Skip: "no fiscalNumber in the eIDAS data sets"},
			"comment injected in fiscalNumber":            {Skip: "no fiscalNumber: see \"comment injected in spidCode\""},
		},
		Extra: []Row{
			{Name: "spidCode (PersonIdentifier) missing", H: Hostile{Params: DropAttribute("spidCode")}, Class: "attributes.person_identifier"},
			{Name: "spidCode not a PersonIdentifier", H: Hostile{Params: SetAttribute("spidCode", "0123456789ABCDEF")}, Class: "attributes.person_identifier"},
			{Name: "spidCode issued for another receiving country", H: Hostile{Params: SetAttribute("spidCode", "DE/FR/0123456789ABCDEF")}, Class: "attributes.person_identifier"},
			{Name: "name missing (minimum data set)", H: Hostile{Params: DropAttribute("name")}, Class: "attributes.minimum_data_set"},
			{Name: "dateOfBirth missing (minimum data set)", H: Hostile{Params: DropAttribute("dateOfBirth")}, Class: "attributes.minimum_data_set"},
			{Name: "spidCode changed after signing", H: Hostile{PostSign: func(t testing.TB, d *etree.Document) {
				for _, v := range d.Root().FindElements(".//saml:AttributeValue") {
					if v.Text() == "DE/IT/0123456789ABCDEF" {
						v.SetText("ES/IT/X1234567T")
					}
				}
			}}, Class: "assertion.signature.invalid"},
			{Name: "comment injected in spidCode", H: Hostile{Raw: func(s string) string {
				return strings.Replace(s, "DE/IT/0123456789ABCDEF", "DE/IT/0123456789<!---->ABCDEF", 1)
			}}, Class: "xml.comment"},
			{Name: "AuthnContextClassRef an unknown eIDAS level", H: Hostile{PreSign: func(r, a *etree.Element) {
				a.FindElement("./saml:AuthnStatement/saml:AuthnContext/saml:AuthnContextClassRef").SetText("http://eidas.europa.eu/LoA/NotNotified")
			}}, Class: "authn.context"},
		},
	}
)
