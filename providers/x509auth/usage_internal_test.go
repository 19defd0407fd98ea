package x509auth

import (
	"crypto/x509"
	"encoding/asn1"
	"testing"
)

func TestUsagesPrintAsNames(t *testing.T) {
	for _, tt := range []struct {
		ku   x509.KeyUsage
		want string
	}{
		{0, "none"},
		{x509.KeyUsageDigitalSignature, "digitalSignature"},
		{x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment, "digitalSignature|nonRepudiation"},
		{x509.KeyUsageCertSign | x509.KeyUsageCRLSign, "keyCertSign|cRLSign"},
		{x509.KeyUsageDecipherOnly | 1<<12, "decipherOnly|unknown(4096)"},
	} {
		if got := keyUsageString(tt.ku); got != tt.want {
			t.Errorf("keyUsageString(%d) = %q, want %q", int(tt.ku), got, tt.want)
		}
	}
	if got := extKeyUsageString(nil, nil); got != "none" {
		t.Errorf("no EKU = %q, want none", got)
	}
	got := extKeyUsageString([]x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection, x509.ExtKeyUsageServerAuth},
		[]asn1.ObjectIdentifier{{1, 3, 6, 1, 4, 1, 311, 10, 3, 12}})
	if want := "emailProtection|serverAuth|1.3.6.1.4.1.311.10.3.12"; got != want {
		t.Errorf("extKeyUsageString = %q, want %q", got, want)
	}
}
