package spid

import (
	"time"

	"github.com/beevik/etree"

	"github.com/inps/sportello/providers/saml"
)

// BuildMetadata renders the SP metadata AgID's SPID technical rules ask for and signs it with
// the SP key (the engine's document, with SPID's contacts). The output is deterministic for a
// given configuration and time (golden-testable).
func BuildMetadata(sp *spSettings, now time.Time) ([]byte, error) {
	prof := profile(sp.Cfg)
	cfg := sp.engineConfig()
	return saml.BuildMetadata(&prof, &cfg, now)
}

// writeContacts writes AgID's ContactPerson contactType="other" with the spid: extensions: a
// public SP's IPACode and empty spid:Public, or a private SP's VATNumber or FiscalCode, empty
// spid:Private and its billing contact.
func writeContacts(ed *etree.Element, cfg *Config) {
	cp := ed.CreateElement("md:ContactPerson")
	cp.CreateAttr("contactType", "other")
	ext := cp.CreateElement("md:Extensions")
	if cfg.Profile == "public" {
		ext.CreateElement("spid:IPACode").SetText(cfg.IPACode)
		ext.CreateElement("spid:Public")
	} else {
		if cfg.VATNumber != "" {
			ext.CreateElement("spid:VATNumber").SetText(cfg.VATNumber)
		} else {
			ext.CreateElement("spid:FiscalCode").SetText(cfg.FiscalCode)
		}
		ext.CreateElement("spid:Private")
	}
	cp.CreateElement("md:EmailAddress").SetText(cfg.Contact.Email)
	if cfg.Contact.Phone != "" {
		cp.CreateElement("md:TelephoneNumber").SetText(cfg.Contact.Phone)
	}
	if cfg.Profile == "private" {
		bc := ed.CreateElement("md:ContactPerson")
		bc.CreateAttr("contactType", "billing")
		bc.CreateElement("md:EmailAddress").SetText(cfg.BillingEmail)
	}
}
