package spid

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/asn1"
	"flag"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/internal/store/memory"
	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/saml/samltest"
	"github.com/inps/sportello/providers/saml/samlx"
	"github.com/inps/sportello/providers/spid/devidp"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const fixedBase = "http://127.0.0.1:8080"

// zeroRand makes IDs and RelayStates deterministic for golden files.
type zeroRand struct{}

func (zeroRand) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = byte(i)
	}
	return len(b), nil
}

// goldenProvider is an SP at fixedBase whose IdPs (the dev IdP "demo" on HTTP-Redirect, the
// dev IdP "test" on HTTP-POST) are loaded from metadata files.
func goldenProvider(t *testing.T) *Provider {
	t.Helper()
	return goldenProviderWith(t, nil)
}

func goldenProviderWith(t *testing.T, edit func(*Config)) *Provider {
	t.Helper()
	dir := t.TempDir()
	cfg := testConfig(fixedBase)
	if edit != nil {
		edit(cfg)
	}
	for i, name := range []string{"demo", "test"} {
		idp, err := devidp.New(devidp.Options{Name: name, BaseURL: fixedBase,
			KeyFile: testdataDir + "dev-idp-" + name + ".key", CertFile: testdataDir + "dev-idp-" + name + ".crt",
			SPMetadata: func(context.Context) ([]byte, error) { return nil, nil }})
		if err != nil {
			t.Fatal(err)
		}
		md, err := idp.Metadata()
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(dir, name+".xml")
		if err := os.WriteFile(f, md, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg.IdPs[i].MetadataURL, cfg.IdPs[i].MetadataFile = "", f
		cfg.IdPs[i].MetadataCertFile = testdataDir + "dev-idp-" + name + ".crt"
	}
	p, err := New(cfg, Deps{Store: memory.New(memory.Options{Now: func() time.Time { return t0 }}), Now: func() time.Time { return t0 },
		Rand: zeroRand{}, BaseURL: fixedBase})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	samltest.Golden(t, name, got, *update)
}

func TestMetadataMatchesGolden(t *testing.T) {
	p := goldenProvider(t)
	md, err := p.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "sp-metadata.xml", md)
}

func TestMetadataVerifiesWithXmlsec1(t *testing.T) {
	md, err := goldenProvider(t).Metadata()
	if err != nil {
		t.Fatal(err)
	}
	samltest.Xmlsec1VerifiesMetadata(t, md, testdataDir+"sp-dev.crt", func(b []byte) []byte {
		return bytes.Replace(b, []byte("inps"), []byte("evil"), 1)
	})
}

// TestMetadataIsSPIDShaped checks each SP-metadata rule of AgID's SPID technical rules on the
// generated document.
func TestMetadataIsSPIDShaped(t *testing.T) {
	p := goldenProvider(t)
	ed, _ := signedMetadata(t, p)
	check := func(rule string, ok bool) {
		t.Helper()
		if !ok {
			t.Errorf("rule violated: %s", rule)
		}
	}
	check("entityID and ID", ed.SelectAttrValue("entityID", "") == fixedBase+"/spid/metadata" && ed.SelectAttrValue("ID", "") != "")
	sig := ed.FindElement("./ds:Signature")
	check("signature first child", sig != nil && sig.Index() == 0)
	check("rsa-sha256", ed.FindElement("./ds:Signature/ds:SignedInfo/ds:SignatureMethod[@Algorithm='"+samlx.AlgRSASHA256+"']") != nil)
	check("exclusive c14n", ed.FindElement("./ds:Signature/ds:SignedInfo/ds:CanonicalizationMethod[@Algorithm='"+samlx.AlgExcC14N+"']") != nil)
	check("key >= 2048 bits", p.Keys().Key.N.BitLen() >= 2048)
	sso := ed.FindElements("./md:SPSSODescriptor")
	check("one SPSSODescriptor", len(sso) == 1)
	s := sso[0]
	check("protocol and signing flags", s.SelectAttrValue("protocolSupportEnumeration", "") == samlx.NSProtocol &&
		s.SelectAttrValue("AuthnRequestsSigned", "") == "true" && s.SelectAttrValue("WantAssertionsSigned", "") == "true")
	check("KeyDescriptor signing", s.FindElement("./md:KeyDescriptor[@use='signing']/ds:KeyInfo/ds:X509Data/ds:X509Certificate") != nil)
	check("NameIDFormat transient", s.FindElement("./md:NameIDFormat") != nil && s.FindElement("./md:NameIDFormat").Text() == samlx.NameIDTransient)
	check("SingleLogoutService", len(s.FindElements("./md:SingleLogoutService")) >= 1)
	acs := s.FindElements("./md:AssertionConsumerService")
	defaults := 0
	for _, a := range acs {
		if a.SelectAttrValue("isDefault", "") == "true" {
			defaults++
			check("default ACS is index 0 HTTP-POST", a.SelectAttrValue("index", "") == "0" && a.SelectAttrValue("Binding", "") == samlx.BindingPOST)
		}
	}
	check("exactly one default ACS", len(acs) >= 1 && defaults == 1)
	atcs := s.FindElements("./md:AttributeConsumingService")
	check("AttributeConsumingService with Italian ServiceName", len(atcs) >= 1 && atcs[0].FindElement("./md:ServiceName[@xml:lang='it']") != nil)
	seen := map[string]bool{}
	for _, ra := range atcs[0].FindElements("./md:RequestedAttribute") {
		n := ra.SelectAttrValue("Name", "")
		check("no duplicate RequestedAttribute", !seen[n])
		seen[n] = true
	}
	for _, tag := range []string{"OrganizationName", "OrganizationDisplayName", "OrganizationURL"} {
		check(tag+" in it and en", ed.FindElement("./md:Organization/md:"+tag+"[@xml:lang='it']") != nil &&
			ed.FindElement("./md:Organization/md:"+tag+"[@xml:lang='en']") != nil)
	}
	cps := ed.FindElements("./md:ContactPerson[@contactType='other']")
	check("one ContactPerson other", len(cps) == 1)
	check("public SP extensions", cps[0].FindElement("./md:Extensions/spid:IPACode") != nil && cps[0].FindElement("./md:Extensions/spid:Public") != nil)
	check("spid namespace", ed.SelectAttrValue("xmlns:spid", "") == samlx.NSSPID)
	check("email", cps[0].FindElement("./md:EmailAddress") != nil)
	check("phone +39 without spaces", regexp.MustCompile(`^\+39[0-9]{6,12}$`).MatchString(cps[0].FindElement("./md:TelephoneNumber").Text()))
}

func TestSPCertificateIsSPIDShaped(t *testing.T) {
	_, cert, err := GenerateCertificate(CertOptions{EntityID: "https://sp.example/spid", IPACode: "inps",
		Organization: "INPS", Locality: "Roma", Bits: 2048})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, n := range cert.Subject.Names {
		names[n.Type.String()] = n.Value.(string)
	}
	want := map[string]string{"2.5.4.3": "INPS", "2.5.4.10": "INPS", "2.5.4.83": "https://sp.example/spid",
		"2.5.4.97": "PA:IT-inps", "2.5.4.6": "IT", "2.5.4.7": "Roma"}
	for k, v := range want {
		if names[k] != v {
			t.Errorf("subject %s = %q, want %q", k, names[k], v)
		}
	}
	hasPolicy := false
	for _, p := range cert.PolicyIdentifiers {
		hasPolicy = hasPolicy || p.Equal(asn1.ObjectIdentifier{1, 3, 76, 16, 4, 2, 1})
	}
	if !hasPolicy || cert.SignatureAlgorithm != x509.SHA256WithRSA {
		t.Errorf("policy %v alg %v", cert.PolicyIdentifiers, cert.SignatureAlgorithm)
	}
	if _, _, err := GenerateCertificate(CertOptions{EntityID: "x", IPACode: "i", Organization: "o", Locality: "l", Bits: 1024}); err == nil {
		t.Error("a 1024-bit key was accepted")
	}
}

// startGolden runs Start against the golden provider for an IdP and returns the response.
func startGolden(t *testing.T, p *Provider, idp string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	err := p.Start(rec, httptest.NewRequest(http.MethodGet, fixedBase+"/login", nil), &providers.LoginRequest{
		ID: "login-1", ACR: loa.SpidL2, Hint: fixedBase + "/dev/spid/" + idp})
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func TestAuthnRequestRedirectBindingMatchesGolden(t *testing.T) {
	p := goldenProvider(t)
	rec := startGolden(t, p, "demo")
	loc, err := url.Parse(rec.Header().Get("Location"))
	if err != nil || rec.Code != http.StatusFound {
		t.Fatalf("HTTP %d", rec.Code)
	}
	q := loc.Query()
	xml, err := samlx.InflateBase64(q.Get("SAMLRequest"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := samlx.VerifyRedirectQuery(loc.RawQuery, "SAMLRequest", []*x509.Certificate{p.Keys().Cert}); err != nil {
		t.Fatalf("query signature: %v", err)
	}
	if strings.Contains(string(xml), "Signature") || strings.Contains(string(xml), "AllowCreate") || strings.Contains(string(xml), "IsPassive") {
		t.Fatalf("redirect AuthnRequest must carry no XML signature, AllowCreate or IsPassive:\n%s", xml)
	}
	if rs := q.Get("RelayState"); len(rs) != 43 || strings.ContainsAny(rs, "+/=") {
		t.Fatalf("RelayState %q is not an opaque URL-safe token", rs)
	}
	golden(t, "authn-request-redirect.xml", xml)
	golden(t, "authn-request-redirect.url", []byte(loc.String()+"\n"))
}

func TestAuthnRequestPOSTBindingMatchesGolden(t *testing.T) {
	p := goldenProvider(t)
	rec := startGolden(t, p, "test")
	page := rec.Body.String()
	action, fields := parseForm(t, page, fixedBase)
	if action != fixedBase+"/dev/spid/test/sso" || !strings.Contains(page, `<button type="submit">`) {
		t.Fatalf("form: %s", page)
	}
	xml, err := samlx.DecodePOST(fields.Get("SAMLRequest"))
	if err != nil {
		t.Fatal(err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(xml); err != nil {
		t.Fatal(err)
	}
	if _, err := samlx.VerifyEnveloped(doc.Root(), []*x509.Certificate{p.Keys().Cert}, t0); err != nil {
		t.Fatalf("AuthnRequest signature: %v", err)
	}
	golden(t, "authn-request-post.xml", xml)
	golden(t, "authn-request-post.html", []byte(page))
}

// TestAuthnRequestIsSPIDShaped checks the AuthnRequest rules of AgID's SPID technical rules.
func TestAuthnRequestIsSPIDShaped(t *testing.T) {
	p := goldenProvider(t)
	for _, tc := range []struct {
		acr        string
		level      string
		forceAuthn bool
	}{{loa.SpidL1, loa.SpidL2, true}, {loa.SpidL2, loa.SpidL2, true}, {loa.SpidL3, loa.SpidL3, true}} {
		rec := httptest.NewRecorder()
		if err := p.Start(rec, httptest.NewRequest(http.MethodGet, "/", nil), &providers.LoginRequest{ID: "l", ACR: tc.acr,
			Hint: fixedBase + "/dev/spid/demo"}); err != nil {
			t.Fatal(err)
		}
		loc, _ := url.Parse(rec.Header().Get("Location"))
		xml, _ := samlx.InflateBase64(loc.Query().Get("SAMLRequest"))
		doc := etree.NewDocument()
		_ = doc.ReadFromBytes(xml)
		r := doc.Root()
		id := r.SelectAttrValue("ID", "")
		if id == "" || id[0] >= '0' && id[0] <= '9' || r.SelectAttrValue("Version", "") != "2.0" ||
			!strings.HasSuffix(r.SelectAttrValue("IssueInstant", ""), "Z") ||
			r.SelectAttrValue("Destination", "") != fixedBase+"/dev/spid/demo/sso" ||
			(r.SelectAttrValue("ForceAuthn", "") == "true") != tc.forceAuthn ||
			r.SelectAttrValue("AssertionConsumerServiceIndex", "") != "0" ||
			r.SelectAttrValue("AttributeConsumingServiceIndex", "") != "0" {
			t.Errorf("%s: attributes wrong:\n%s", tc.acr, xml)
		}
		iss := r.FindElement("./saml:Issuer")
		if iss == nil || iss.SelectAttrValue("Format", "") != samlx.NameIDEntity || iss.SelectAttrValue("NameQualifier", "") != p.EntityID() {
			t.Errorf("Issuer wrong:\n%s", xml)
		}
		nip := r.FindElement("./samlp:NameIDPolicy")
		if nip == nil || nip.SelectAttrValue("Format", "") != samlx.NameIDTransient || nip.SelectAttr("AllowCreate") != nil {
			t.Errorf("NameIDPolicy wrong:\n%s", xml)
		}
		racs := r.FindElements("./samlp:RequestedAuthnContext")
		if len(racs) != 1 || racs[0].SelectAttrValue("Comparison", "") != "minimum" ||
			len(racs[0].ChildElements()) != 1 || racs[0].FindElement("./saml:AuthnContextClassRef").Text() != tc.level {
			t.Errorf("%s: RequestedAuthnContext wrong:\n%s", tc.acr, xml)
		}
	}
}

func TestStartWithoutHintAsksToChooseAndUnknownIdPIsRefused(t *testing.T) {
	p := goldenProvider(t)
	for hint, code := range map[string]string{"": "spid.choose_idp", "https://unknown.example": "spid.unknown_idp"} {
		rec := httptest.NewRecorder()
		err := p.Start(rec, httptest.NewRequest(http.MethodGet, "/", nil), &providers.LoginRequest{ID: "l", Hint: hint})
		ue, ok := err.(*providers.UserError)
		if !ok || ue.Code != code || rec.Body.Len() != 0 {
			t.Errorf("hint %q: %v", hint, err)
		}
	}
	if got := p.IdPs(); len(got) != 2 || got[0].EntityID == "" || got[0].Name == "" {
		t.Errorf("IdPs() = %+v", got)
	}
	if got := p.Options(); len(got) != 2 || got[0].Hint != fixedBase+"/dev/spid/demo" || got[0].Name != "Dev IdP demo" {
		t.Errorf("Options() = %+v", got)
	}
}

// A private SP's metadata: VAT number (or fiscal code) and spid:Private instead of the IPA
// code, plus the billing contact; still signed.
func TestPrivateSPMetadata(t *testing.T) {
	for _, tt := range []struct{ name, vat, cf, want string }{
		{"with a VAT number", "IT12345678901", "", "spid:VATNumber"},
		{"with a fiscal code", "", "12345678901", "spid:FiscalCode"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := goldenProviderWith(t, func(c *Config) {
				c.Profile, c.IPACode, c.VATNumber, c.FiscalCode, c.BillingEmail = "private", "", tt.vat, tt.cf, "fatture@example.it"
			})
			ed, md := signedMetadata(t, p)
			other := ed.FindElement("./md:ContactPerson[@contactType='other']/md:Extensions")
			if other == nil || other.FindElement("./"+tt.want) == nil || other.FindElement("./spid:Private") == nil ||
				other.FindElement("./spid:Public") != nil || other.FindElement("./spid:IPACode") != nil {
				t.Fatalf("contact extensions of a private SP:\n%s", md)
			}
			billing := ed.FindElement("./md:ContactPerson[@contactType='billing']/md:EmailAddress")
			if billing == nil || billing.Text() != "fatture@example.it" {
				t.Fatalf("no billing contact:\n%s", md)
			}
		})
	}
}

// signedMetadata generates p's metadata, checks its signature and returns the root element
// and the bytes.
func signedMetadata(t *testing.T, p *Provider) (*etree.Element, []byte) {
	t.Helper()
	md, err := p.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(md); err != nil {
		t.Fatal(err)
	}
	ed := doc.Root()
	if _, err := samlx.VerifyEnveloped(ed, []*x509.Certificate{p.Keys().Cert}, t0); err != nil {
		t.Fatalf("metadata signature: %v", err)
	}
	return ed, md
}
