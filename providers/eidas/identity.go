package eidas

import (
	"context"
	"fmt"
	"strings"

	"github.com/inps/sportello/internal/fiscalcode"
	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/saml"
)

// Linker finds the INPS record an eIDAS identity is linked to: the fiscal code INPS gave the
// person, or "" when none. An error is a lookup that failed (the login is then "temporarily
// unavailable", never taken as unlinked).
type Linker interface {
	FiscalNumberFor(ctx context.Context, personIdentifier string) (string, error)
}

// StaticLinks is a Linker over a fixed map (the configuration's links and links_file).
type StaticLinks map[string]string

// FiscalNumberFor returns the fiscal code linked to personIdentifier.
func (s StaticLinks) FiscalNumberFor(_ context.Context, personIdentifier string) (string, error) {
	return s[strings.ToUpper(personIdentifier)], nil
}

// amrFor is the RFC 8176 values an eIDAS level implies: low one factor ("pwd"), substantial
// two ("mfa"), high two with a hardware-protected key ("hwk", "mfa"). The foreign scheme's own
// methods are not told to the node's SPs.
func amrFor(level int) []string {
	switch level {
	case 1:
		return []string{"pwd"}
	case 2:
		return []string{"mfa"}
	default:
		return []string{"hwk", "mfa"}
	}
}

// identityFrom maps a validated assertion of the eIDAS node: spidCode is the eIDAS
// PersonIdentifier ("DE/IT/0123456789ABCDEF": nationality of the identifier, Italy as the
// receiving country, the identifier), and name, familyName and dateOfBirth are mandatory (the
// eIDAS minimum data set). There is usually no codice fiscale: fiscal_number is set only when
// the Linker names the person's INPS record, and then the sub is that record's; otherwise the
// sub is derived from the PersonIdentifier (providers.Identity.PersonIdentifier).
func (p *Provider) identityFrom(ctx context.Context, a *saml.Assertion, idp *saml.IdP) (*providers.Identity, error) {
	pid := a.Attributes["spidCode"]
	m := personIDRe.FindStringSubmatch(pid)
	switch {
	case pid == "":
		return nil, reject("attributes.person_identifier", "no spidCode (the eIDAS PersonIdentifier)")
	case m == nil:
		return nil, reject("attributes.person_identifier", "%q is not an eIDAS PersonIdentifier", pid)
	case m[2] != "IT":
		return nil, reject("attributes.person_identifier", "%q was issued for %s, not Italy", pid, m[2])
	}
	for _, name := range []string{"name", "familyName", "dateOfBirth"} {
		if a.Attributes[name] == "" {
			return nil, reject("attributes.minimum_data_set", "no %s", name)
		}
	}
	d, err := a.DateOfBirth("eidas")
	if err != nil {
		return nil, err
	}
	cf, err := p.linker.FiscalNumberFor(ctx, pid)
	if err != nil {
		return nil, fmt.Errorf("eidas: INPS link of %s: %w: %w", m[1], providers.ErrUnavailable, err)
	}
	if cf != "" {
		if cf, err = fiscalcode.Parse(cf); err != nil {
			return nil, fmt.Errorf("eidas: INPS link: %w", err)
		}
	}
	id := &providers.Identity{
		FiscalNumber:     cf,
		PersonIdentifier: pid,
		EIDASCountry:     m[1],
		GivenName:        a.Attributes["name"],
		FamilyName:       a.Attributes["familyName"],
		Birthdate:        d,
		Method:           providers.MethodEIDAS,
		ACR:              loa.ACRForLevel(a.Level),
		AMR:              amrFor(a.Level),
		AuthTime:         a.AuthnInstant.UTC(),
		// The node's entityID with the NameID and SessionIndex: what a logout names, ours
		// (Logout) or the node's (the broker finds its session by the three).
		Session:    a.Session(idp.EntityID),
		Attributes: a.Attributes,
	}
	if err := id.Validate(); err != nil {
		return nil, reject("identity", "%v", err)
	}
	return id, nil
}

// reject is a refusal by an eIDAS rule on a validated assertion.
func reject(rule, format string, a ...any) error { return saml.Rejectf("eidas", rule, format, a...) }
