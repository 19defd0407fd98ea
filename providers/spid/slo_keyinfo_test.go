package spid

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/inps/sportello/providers/saml/samlx"
)

// TestLogoutOnHTTPPOSTVerifiesWithTheMetadataKeyWhateverKeyInfo: an IdP's LogoutRequest on
// HTTP-POST follows the ACS's signature rule: verified with the metadata key whether KeyInfo
// carries the certificate, an empty X509Certificate or nothing; a KeyInfo certificate not in the
// metadata is refused as such, and only UTF-8 is read.
func TestLogoutOnHTTPPOSTVerifiesWithTheMetadataKeyWhateverKeyInfo(t *testing.T) {
	e := newEnv(t)
	evil := attacker(t)
	sign := func(kp *samlx.KeyPair, s samlx.KeyInfoShape, edit func(*etree.Element)) string {
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(logoutRequest(e, e.base+"/spid/slo")); err != nil {
			t.Fatal(err)
		}
		if err := samlx.SignEnveloped(doc.Root(), kp, samlx.WithKeyInfo(s)); err != nil {
			t.Fatal(err)
		}
		if edit != nil {
			edit(doc.Root())
		}
		x, _ := doc.WriteToString()
		return x
	}
	foreignCert := func(el *etree.Element) {
		el.FindElement("./ds:Signature/ds:KeyInfo/ds:X509Data/ds:X509Certificate").
			SetText(base64.StdEncoding.EncodeToString(evil.Cert.Raw))
	}
	for _, tc := range []struct {
		name string
		xml  string
		want error // nil: accepted
	}{
		{"certificate in KeyInfo", sign(e.idpKeys, samlx.KeyInfoCertificate, nil), nil},
		{"empty X509Certificate", sign(e.idpKeys, samlx.KeyInfoEmptyCertificate, nil), nil},
		{"no KeyInfo", sign(e.idpKeys, samlx.KeyInfoNone, nil), nil},
		{"KeyInfo certificate not in the metadata", sign(e.idpKeys, samlx.KeyInfoCertificate, foreignCert), samlx.ErrKeyInfoUntrusted},
		{"signed by another key, KeyInfo carrying it", sign(evil, samlx.KeyInfoCertificate, nil), samlx.ErrKeyInfoUntrusted},
		{"signed by another key, empty X509Certificate", sign(evil, samlx.KeyInfoEmptyCertificate, nil), samlx.ErrSignatureInvalid},
		{"signed by another key, no KeyInfo", sign(evil, samlx.KeyInfoNone, nil), samlx.ErrSignatureInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString([]byte(tc.xml))}}
			req := httptest.NewRequest(http.MethodPost, e.base+"/spid/slo", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			_, _, _, _, err := e.sp.readSLO(req)
			if tc.want == nil && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
		})
	}
	t.Run("XML declaration naming UTF-7", func(t *testing.T) {
		x := `<?xml version="1.0" encoding="UTF-7"?>` + sign(e.idpKeys, samlx.KeyInfoEmptyCertificate, nil)
		form := url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString([]byte(x))}}
		req := httptest.NewRequest(http.MethodPost, e.base+"/spid/slo", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		_, _, _, _, err := e.sp.readSLO(req)
		var re *RejectError
		if !errors.As(err, &re) || re.Rule != "xml.encoding" {
			t.Fatalf("error %v, want xml.encoding", err)
		}
	})
}
