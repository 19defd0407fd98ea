package x509auth

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"strings"

	"github.com/inps/sportello/internal/fiscalcode"
)

// Attribute types read from the subject.
var (
	oidCommonName   = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidSerialNumber = asn1.ObjectIdentifier{2, 5, 4, 5}
	oidGivenName    = asn1.ObjectIdentifier{2, 5, 4, 42}
	oidSurname      = asn1.ObjectIdentifier{2, 5, 4, 4}
)

// Holder is the person a certificate names.
type Holder struct {
	// FiscalNumber is the validated codice fiscale, upper case.
	FiscalNumber string
	GivenName    string
	FamilyName   string
}

// HolderOf extracts the holder of cert from its subject. A refusal carries ReasonNoFiscalCode or
// ReasonInvalidFiscalCode.
func HolderOf(cert *x509.Certificate) (*Holder, error) {
	return HolderFromNames(cert.Subject.Names)
}

// HolderFromNames extracts the holder from the subject attributes (pkix.Name.Names, in
// certificate order). The fiscal code is the common name's prefix before the first "/" (CNS:
// "<CF>/<card id>.<hash>", the hash may itself hold "/"), else the serialNumber without a TINIT-
// or IT: prefix, else a common name that is itself 16 characters long; its check letter is
// validated. A subject with two common names or two serial numbers is ambiguous and refused.
func HolderFromNames(names []pkix.AttributeTypeAndValue) (*Holder, error) {
	attrs := map[string][]string{}
	for _, n := range names {
		s, ok := n.Value.(string)
		if !ok {
			continue
		}
		key := n.Type.String()
		attrs[key] = append(attrs[key], s)
	}
	one := func(oid asn1.ObjectIdentifier) (string, error) {
		v := attrs[oid.String()]
		switch len(v) {
		case 0:
			return "", nil
		case 1:
			return strings.TrimSpace(v[0]), nil
		}
		return "", fmt.Errorf("subject has %d attributes %s", len(v), oid)
	}
	cn, err := one(oidCommonName)
	if err != nil {
		return nil, reject(ReasonInvalidFiscalCode, err)
	}
	sn, err := one(oidSerialNumber)
	if err != nil {
		return nil, reject(ReasonInvalidFiscalCode, err)
	}
	candidate, source := "", ""
	switch {
	case strings.Contains(cn, "/"):
		candidate, _, _ = strings.Cut(cn, "/")
		source = "common name"
	case sn != "":
		candidate, source = stripSerialPrefix(sn), "serialNumber"
	case len(cn) == 16:
		candidate, source = cn, "common name"
	default:
		return nil, reject(ReasonNoFiscalCode, errors.New("subject carries no fiscal code"))
	}
	cf, err := fiscalcode.Parse(candidate)
	if err != nil {
		return nil, reject(ReasonInvalidFiscalCode, fmt.Errorf("fiscal code in %s: %w", source, err))
	}
	h := &Holder{FiscalNumber: cf}
	// Names are optional: a duplicate leaves them empty rather than guessing.
	h.GivenName, _ = one(oidGivenName)
	h.FamilyName, _ = one(oidSurname)
	return h, nil
}

// stripSerialPrefix removes the TINIT- (ETSI EN 319 412-1) or IT: prefix of a serialNumber.
func stripSerialPrefix(s string) string {
	for _, p := range []string{"TINIT-", "IT:"} {
		if len(s) >= len(p) && strings.EqualFold(s[:len(p)], p) {
			return s[len(p):]
		}
	}
	return s
}
