package x509auth_test

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inps/sportello/internal/fiscalcode"
	"github.com/inps/sportello/providers/x509auth"
)

var (
	oidCN      = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidSerial  = asn1.ObjectIdentifier{2, 5, 4, 5}
	oidGiven   = asn1.ObjectIdentifier{2, 5, 4, 42}
	oidSurname = asn1.ObjectIdentifier{2, 5, 4, 4}
)

func names(kv ...any) []pkix.AttributeTypeAndValue {
	var out []pkix.AttributeTypeAndValue
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, pkix.AttributeTypeAndValue{Type: kv[i].(asn1.ObjectIdentifier), Value: kv[i+1]})
	}
	return out
}

func TestFiscalCodeExtraction(t *testing.T) {
	tests := []struct {
		rule   string
		names  []pkix.AttributeTypeAndValue
		cf     string
		reason string
	}{
		{"CNS: fiscal code is the CN prefix before the first slash",
			names(oidCN, "VRDGPP40C15L219U/7420070100000001.abc="), "VRDGPP40C15L219U", ""},
		{"CNS: a slash in the hash does not move the split",
			names(oidCN, "RCCMNL83S18D969H/1234.ab/cd/ef=="), "RCCMNL83S18D969H", ""},
		{"CIE: serialNumber without the TINIT- prefix",
			names(oidCN, "ROSSI MARIO", oidSerial, "TINIT-RSSMRA80A01H501U"), "RSSMRA80A01H501U", ""},
		{"serialNumber without the IT: prefix",
			names(oidSerial, "IT:RSSMRA80A01H501U"), "RSSMRA80A01H501U", ""},
		{"prefixes are case-insensitive and the code is upper-cased",
			names(oidSerial, "tinit-rssmra80a01h501u"), "RSSMRA80A01H501U", ""},
		{"a CN that is itself a fiscal code",
			names(oidCN, "CNTCHR83T41D969D"), "CNTCHR83T41D969D", ""},
		{"omocodia is accepted",
			names(oidCN, "RSSMRA80A01H50MM/1.x"), "RSSMRA80A01H50MM", ""},
		{"wrong check letter in the CN is refused",
			names(oidCN, "VRDGPP40C15L219X/1.abc"), "", x509auth.ReasonInvalidFiscalCode},
		{"the CN decides even when the serialNumber is good",
			names(oidCN, "VRDGPP40C15L219X/1.abc", oidSerial, "TINIT-VRDGPP40C15L219U"), "", x509auth.ReasonInvalidFiscalCode},
		{"two common names are ambiguous",
			names(oidCN, "VRDGPP40C15L219U/1.a", oidCN, "RSSMRA80A01H501U/1.a"), "", x509auth.ReasonInvalidFiscalCode},
		{"two serial numbers are ambiguous",
			names(oidSerial, "TINIT-VRDGPP40C15L219U", oidSerial, "TINIT-RSSMRA80A01H501U"), "", x509auth.ReasonInvalidFiscalCode},
		{"a subject without any fiscal code is refused",
			names(oidCN, "ANONIMO"), "", x509auth.ReasonNoFiscalCode},
		{"an empty CN prefix is refused",
			names(oidCN, "/123.abc"), "", x509auth.ReasonInvalidFiscalCode},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			h, err := x509auth.HolderFromNames(tt.names)
			if x509auth.Reason(err) != tt.reason {
				t.Fatalf("err = %v, want reason %q", err, tt.reason)
			}
			if err == nil && tt.cf != "" && h.FiscalNumber != tt.cf {
				t.Fatalf("fiscal code = %q, want %q", h.FiscalNumber, tt.cf)
			}
		})
	}
}

func TestNamesFromSubject(t *testing.T) {
	h, err := x509auth.HolderFromNames(names(oidCN, "ROSSI MARIO", oidSerial, "TINIT-RSSMRA80A01H501U", oidGiven, "MARIO", oidSurname, "ROSSI"))
	if err != nil || h.GivenName != "MARIO" || h.FamilyName != "ROSSI" {
		t.Fatalf("holder %+v, %v", h, err)
	}
}

// checkHolder is the property both fuzz targets assert: a holder always carries a valid,
// upper-case fiscal code; a refusal always carries one of the two identity reasons.
func checkHolder(t *testing.T, h *x509auth.Holder, err error) {
	if err != nil {
		if r := x509auth.Reason(err); r != x509auth.ReasonInvalidFiscalCode && r != x509auth.ReasonNoFiscalCode {
			t.Fatalf("unexpected reason %q: %v", r, err)
		}
		return
	}
	if !fiscalcode.Valid(h.FiscalNumber) || strings.ToUpper(h.FiscalNumber) != h.FiscalNumber {
		t.Fatalf("holder with fiscal code %q", h.FiscalNumber)
	}
}

func FuzzFiscalCodeFromCert(f *testing.F) {
	f.Add("VRDGPP40C15L219U/7420070100000001.abc=", "")
	f.Add("ROSSI MARIO", "TINIT-RSSMRA80A01H501U")
	f.Add("RCCMNL83S18D969H/1.ab/c", "IT:RCCMNL83S18D969H")
	f.Add("", "IT:")
	f.Add("/", "TINIT-")
	f.Fuzz(func(t *testing.T, cn, serial string) {
		var n []pkix.AttributeTypeAndValue
		if cn != "" {
			n = append(n, pkix.AttributeTypeAndValue{Type: oidCN, Value: cn})
		}
		if serial != "" {
			n = append(n, pkix.AttributeTypeAndValue{Type: oidSerial, Value: serial})
		}
		h, err := x509auth.HolderFromNames(n)
		checkHolder(t, h, err)
	})
}

func FuzzCertificateIdentity(f *testing.F) {
	for _, name := range []string{"mario-rossi-cie", "giuseppe-verdi-cns", "cns-hash-with-slash", "invalid-fiscal-code", "no-fiscal-code"} {
		certs, err := x509auth.LoadCertificates([]string{filepath.Join(pkiDir, name+".crt")})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(certs[0].Raw)
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return
		}
		h, err := x509auth.HolderOf(cert)
		checkHolder(t, h, err)
	})
}
