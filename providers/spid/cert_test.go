package spid

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/asn1"
	"path/filepath"
	"slices"
	"testing"

	"github.com/inps/sportello/providers/saml/samlx"
)

// checkAgIDCertificate asserts AgID's rules for a public SP's certificate (Avviso SPID n.29
// v3) on cert, for the SP entityID.
func checkAgIDCertificate(t *testing.T, cert *x509.Certificate, entityID string) {
	t.Helper()
	exts := map[string]int{}
	for _, e := range cert.Extensions {
		exts[e.Id.String()]++
		switch {
		case e.Id.Equal(oidExtBasicConstraints):
			if e.Critical {
				t.Error("basicConstraints is critical; AgID wants it not critical")
			}
			var bc struct {
				CA      bool `asn1:"optional"`
				PathLen int  `asn1:"optional,default:-1"`
			}
			if rest, err := asn1.Unmarshal(e.Value, &bc); err != nil || len(rest) > 0 || bc.CA {
				t.Errorf("basicConstraints %x: want CA:FALSE (%v)", e.Value, err)
			}
		case e.Id.Equal(oidExtCertificatePolicies):
			if e.Critical {
				t.Error("certificatePolicies is critical")
			}
			var pis []policyInformation
			if rest, err := asn1.Unmarshal(e.Value, &pis); err != nil || len(rest) > 0 {
				t.Fatalf("certificatePolicies: %v", err)
			}
			got := map[string]string{}
			for _, pi := range pis {
				for _, q := range pi.Qualifiers {
					if q.ID.Equal(oidQualifierUserNotice) {
						got[pi.Policy.String()] = q.Notice.ExplicitText
					}
				}
			}
			want := map[string]string{"1.3.76.16.6": "agIDcert", "1.3.76.16.4.2.1": "cert_SP_Pub"}
			if len(got) != len(want) || got["1.3.76.16.6"] != want["1.3.76.16.6"] || got["1.3.76.16.4.2.1"] != want["1.3.76.16.4.2.1"] {
				t.Errorf("policies %v, want %v", got, want)
			}
		case e.Id.Equal(asn1.ObjectIdentifier{2, 5, 29, 15}):
			if !e.Critical {
				t.Error("keyUsage is not critical")
			}
		}
	}
	for _, id := range []string{"2.5.29.19", "2.5.29.32", "2.5.29.15"} {
		if exts[id] != 1 {
			t.Errorf("extension %s present %d times, want once", id, exts[id])
		}
	}
	if exts["2.5.29.37"] != 0 {
		t.Error("extendedKeyUsage present")
	}
	if cert.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment {
		t.Errorf("key usage %v", cert.KeyUsage)
	}
	if cert.IsCA || cert.SignatureAlgorithm != x509.SHA256WithRSA {
		t.Errorf("CA %v, algorithm %v", cert.IsCA, cert.SignatureAlgorithm)
	}
	if !slices.ContainsFunc(cert.PolicyIdentifiers, func(o asn1.ObjectIdentifier) bool { return o.Equal(oidPolicyPublicSP) }) {
		t.Errorf("crypto/x509 does not read policy %s: %v", oidPolicyPublicSP, cert.PolicyIdentifiers)
	}
	var uri, orgID []string
	for _, n := range cert.Subject.Names {
		switch {
		case n.Type.Equal(oidURI):
			uri = append(uri, n.Value.(string))
		case n.Type.Equal(oidOrganizationIdentifier):
			orgID = append(orgID, n.Value.(string))
		}
	}
	if len(uri) != 1 || uri[0] != entityID {
		t.Errorf("uri %v, want the entityID %q", uri, entityID)
	}
	if len(orgID) != 1 || orgID[0] != "PA:IT-inps" || len(cert.Subject.Country) != 1 || cert.Subject.Country[0] != "IT" ||
		len(cert.Subject.Locality) != 1 || len(cert.Subject.Organization) != 1 || cert.Subject.CommonName == "" {
		t.Errorf("subject %s", cert.Subject)
	}
	if !bytes.Equal(cert.RawSubject, cert.RawIssuer) || cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature) != nil {
		t.Error("not self-signed")
	}
}

func TestGeneratedCertificateFollowsAgIDRules(t *testing.T) {
	const entityID = "https://login.inps.example/spid/metadata"
	key, cert, err := GenerateCertificate(CertOptions{EntityID: entityID, IPACode: "inps", Organization: "INPS", Locality: "Roma", Bits: 2048})
	if err != nil || key.N.BitLen() != 2048 {
		t.Fatal(err)
	}
	checkAgIDCertificate(t, cert, entityID)
}

func TestCLICertFollowsAgIDRules(t *testing.T) {
	dir := t.TempDir()
	key, crt := filepath.Join(dir, "sp.key"), filepath.Join(dir, "sp.crt")
	const entityID = "https://login.inps.example/spid/metadata"
	var out, errb bytes.Buffer
	if code := CLI(context.Background(), []string{"cert", "--entity-id", entityID, "--ipa-code", "inps",
		"--org", "INPS", "--locality", "Roma", "--bits", "2048", "--out-key", key, "--out-cert", crt}, &out, &errb, nil); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	kp, err := samlx.LoadKeyPair(key, crt)
	if err != nil {
		t.Fatal(err)
	}
	checkAgIDCertificate(t, kp.Cert, entityID)
}

// TestCommittedDevCertificateFollowsAgIDRules: the dev SP certificate of the default dev
// address (http://127.0.0.1:8080) is made by the same code (testdata/spid/gen).
func TestCommittedDevCertificateFollowsAgIDRules(t *testing.T) {
	kp, err := samlx.LoadKeyPair(testdataDir+"sp-dev.key", testdataDir+"sp-dev.crt")
	if err != nil {
		t.Fatal(err)
	}
	checkAgIDCertificate(t, kp.Cert, DefaultDevEntityID)
}
