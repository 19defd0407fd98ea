package cieid

import (
	"github.com/beevik/etree"

	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/saml"
	"github.com/inps/sportello/providers/saml/samlx"
)

// errorCodes are the CIE ID server's error codes in a non-success StatusMessage ("ErrorCode
// nr22"), the user anomalies of the CIE ID technical manual ("Codici di errore", "Anomalie
// utente"); each has the catalogue key "cieid.<code>". The others (binding, request and
// system anomalies) are the SP's or the server's faults: "cieid.idp_error", a denial.
var errorCodes = []saml.ErrorCode{
	{Code: "nr21", Err: providers.ErrLoginExpired}, // timeout during the authentication
	{Code: "nr22", Err: providers.ErrDenied},       // consent denied
	{Code: "nr23", Err: providers.ErrDenied},       // card expired or revoked
	{Code: "nr25", Err: providers.ErrCancelled},    // the person cancelled
}

// profile is CIE ID on the SAML engine, per the Ministry of the Interior's CIE ID technical
// manual (italia/cie-eid-saml-docs):
//   - levels: the SpidL1..SpidL3 classes ("Richiesta di autenticazione SAML",
//     RequestedAuthnContext), the level the server asserts (L3 card on a reader or NFC, L2
//     the CieID app);
//   - the Response's Issuer carries no Format ("Interoperabilità con SPID": "l'attributo
//     Format dell'elemento <samlp:Issuer> non è presente"), so one is refused; the
//     Assertion's may be absent or entity (the manual's two examples differ);
//   - ForceAuthn="true" always ("ForceAuthn è sempre valorizzato con true");
//   - Comparison exact or minimum only;
//   - attributes: the eIDAS minimum data set only ("Attribute Consuming Service");
//   - the metadata's ContactPerson "administrative" with the cie: extensions and Company
//     ("Informazioni di censimento e contatto").
func profile(cfg *Config) saml.Profile {
	return saml.Profile{
		Name:               "cieid",
		LevelURIs:          []string{loa.SpidL1, loa.SpidL2, loa.SpidL3},
		ResponseIssuer:     saml.IssuerFormatAbsent,
		AssertionIssuer:    saml.IssuerFormatOptional,
		ForceAuthnFrom:     1,
		Comparisons:        []string{loa.Minimum, loa.Exact},
		Attributes:         Attributes,
		ErrorCodes:         errorCodes,
		MetadataNamespaces: []saml.Namespace{{Prefix: "cie", URI: samlx.NSCIE}},
		WriteContacts:      func(ed *etree.Element) { writeContacts(ed, cfg) },
	}
}

// writeContacts writes the one ContactPerson contactType="administrative" of an SP that
// presents itself (the CIE ID technical manual, "Informazioni di censimento e contatto"):
// md:Extensions in the cie: namespace — cie:Public or cie:Private, IPACode (public),
// IPACategory, VATNumber, FiscalCode, NACE2Code (one each), Municipality (mandatory),
// Province, Country — then Company, exactly the Italian OrganizationName, EmailAddress and
// TelephoneNumber.
func writeContacts(ed *etree.Element, cfg *Config) {
	cp := ed.CreateElement("md:ContactPerson")
	cp.CreateAttr("contactType", "administrative")
	ext := cp.CreateElement("md:Extensions")
	text := func(tag, v string) {
		if v != "" {
			ext.CreateElement("cie:" + tag).SetText(v)
		}
	}
	if cfg.Profile == "public" {
		ext.CreateElement("cie:Public")
	} else {
		ext.CreateElement("cie:Private")
	}
	text("IPACode", cfg.IPACode)
	text("IPACategory", cfg.IPACategory)
	text("VATNumber", cfg.VATNumber)
	text("FiscalCode", cfg.FiscalCode)
	for _, n := range cfg.NACE2Codes {
		text("NACE2Code", n)
	}
	text("Municipality", cfg.Municipality)
	text("Province", cfg.Province)
	text("Country", cfg.Country)
	cp.CreateElement("md:Company").SetText(cfg.Organization.Names["it"])
	cp.CreateElement("md:EmailAddress").SetText(cfg.Contact.Email)
	if cfg.Contact.Phone != "" {
		cp.CreateElement("md:TelephoneNumber").SetText(cfg.Contact.Phone)
	}
}
