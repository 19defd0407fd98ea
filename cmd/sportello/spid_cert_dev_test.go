package main

import (
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/beevik/etree"
)

// TestDevModeSPCertificateNamesTheEntityIDOnAnotherAddress: dev mode on an address other than
// the default (devBroker picks free ports) publishes SP metadata whose certificate has the
// entityID in use as its uri (2.5.4.83), shaped as AgID wants (basicConstraints not critical,
// the agIDcert and public-SP policies).
func TestDevModeSPCertificateNamesTheEntityIDOnAnotherAddress(t *testing.T) {
	issuer, _ := devBroker(t)
	if issuer == "http://127.0.0.1:8080" {
		t.Skip("devBroker picked the default address")
	}
	resp, err := http.Get(issuer + "/spid/metadata")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(body); err != nil {
		t.Fatal(err)
	}
	ed := doc.Root()
	entityID := ed.SelectAttrValue("entityID", "")
	if entityID != issuer+"/spid/metadata" {
		t.Fatalf("entityID %q", entityID)
	}
	xc := ed.FindElement("./SPSSODescriptor/KeyDescriptor/KeyInfo/X509Data/X509Certificate")
	if xc == nil {
		t.Fatalf("no SP certificate in\n%s", body)
	}
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(xc.Text()), ""))
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	var uri []string
	for _, n := range cert.Subject.Names {
		if n.Type.Equal(asn1.ObjectIdentifier{2, 5, 4, 83}) {
			uri = append(uri, n.Value.(string))
		}
	}
	if len(uri) != 1 || uri[0] != entityID {
		t.Fatalf("certificate uri %v, want the entityID %s", uri, entityID)
	}
	for _, e := range cert.Extensions {
		if e.Id.Equal(asn1.ObjectIdentifier{2, 5, 29, 19}) && e.Critical {
			t.Error("basicConstraints is critical")
		}
	}
	var policies []string
	for _, p := range cert.PolicyIdentifiers {
		policies = append(policies, p.String())
	}
	if !slices.Contains(policies, "1.3.76.16.6") || !slices.Contains(policies, "1.3.76.16.4.2.1") {
		t.Errorf("policies %v", policies)
	}
}
