package x509auth

import (
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"strings"
)

// keyUsageString names the bits of ku as an operator reads them in a certificate dump, for
// example "digitalSignature|nonRepudiation"; "none" when no bit is set. The names are the
// standard library's, except that contentCommitment is printed with its RFC 5280 and openssl
// name, nonRepudiation, as the card issuers' documents and our own say.
func keyUsageString(ku x509.KeyUsage) string {
	var names []string
	for bit := x509.KeyUsageDigitalSignature; bit <= x509.KeyUsageDecipherOnly; bit <<= 1 {
		switch {
		case ku&bit == 0:
		case bit == x509.KeyUsageContentCommitment:
			names = append(names, "nonRepudiation")
		default:
			names = append(names, bit.String())
		}
	}
	if rest := ku &^ (x509.KeyUsageDecipherOnly<<1 - 1); rest != 0 {
		names = append(names, fmt.Sprintf("unknown(%d)", int(rest)))
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, "|")
}

// extKeyUsageString names the extended key usages of a certificate, those Go does not know by
// OID, for example "emailProtection|1.3.6.1.4.1.311.10.3.12"; "none" when there is none.
func extKeyUsageString(ekus []x509.ExtKeyUsage, unknown []asn1.ObjectIdentifier) string {
	var names []string
	for _, u := range ekus {
		names = append(names, u.String())
	}
	for _, oid := range unknown {
		names = append(names, oid.String())
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, "|")
}
