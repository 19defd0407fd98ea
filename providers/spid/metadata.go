package spid

import (
	"time"

	"github.com/beevik/etree"

	"github.com/inps/sportello/providers/saml"
)

// BuildMetadata renders the SP metadata AgID's SPID technical rules ask for and signs it with
// the SP key (the engine's document, with SPID's contacts). The output is deterministic for a
// given configuration, base URL and time (golden-testable).
func BuildMetadata(cfg *Config, baseURL string, now time.Time) ([]byte, error) {
	sp := spec(cfg)
	ec, err := sp.Resolve(baseURL)
	if err != nil {
		return nil, err
	}
	return saml.BuildMetadata(&sp.Profile, &ec, now)
}

// Contacts are the contacts of a SPID-shaped SP metadata (AgID's rules): also the eIDAS
// node's, which the SPID federation knows as one of its IdPs (providers/eidas).
type Contacts struct {
	// Profile is "public" or "private".
	Profile                        string
	IPACode, VATNumber, FiscalCode string
	Email, Phone                   string
	BillingEmail                   string
}

// Write writes AgID's ContactPerson contactType="other" with the spid: extensions: a public
// SP's IPACode and empty spid:Public, or a private SP's VATNumber or FiscalCode, empty
// spid:Private and its billing contact.
func (c Contacts) Write(ed *etree.Element) {
	cp := ed.CreateElement("md:ContactPerson")
	cp.CreateAttr("contactType", "other")
	ext := cp.CreateElement("md:Extensions")
	if c.Profile == "public" {
		ext.CreateElement("spid:IPACode").SetText(c.IPACode)
		ext.CreateElement("spid:Public")
	} else {
		if c.VATNumber != "" {
			ext.CreateElement("spid:VATNumber").SetText(c.VATNumber)
		} else {
			ext.CreateElement("spid:FiscalCode").SetText(c.FiscalCode)
		}
		ext.CreateElement("spid:Private")
	}
	cp.CreateElement("md:EmailAddress").SetText(c.Email)
	if c.Phone != "" {
		cp.CreateElement("md:TelephoneNumber").SetText(c.Phone)
	}
	if c.Profile == "private" {
		bc := ed.CreateElement("md:ContactPerson")
		bc.CreateAttr("contactType", "billing")
		bc.CreateElement("md:EmailAddress").SetText(c.BillingEmail)
	}
}

// writeContacts writes cfg's SPID contacts.
func writeContacts(ed *etree.Element, cfg *Config) {
	Contacts{Profile: cfg.Profile, IPACode: cfg.IPACode, VATNumber: cfg.VATNumber, FiscalCode: cfg.FiscalCode,
		Email: cfg.Contact.Email, Phone: cfg.Contact.Phone, BillingEmail: cfg.BillingEmail}.Write(ed)
}
