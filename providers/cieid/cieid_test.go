package cieid

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/internal/store/memory"
	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/saml"
	"github.com/inps/sportello/providers/saml/samltest"
	"github.com/inps/sportello/providers/saml/samlx"
)

const fixedBase = "http://127.0.0.1:8080"

// goldenProvider is the dev-mode SP at fixedBase, the dev CIE ID server's metadata read from a
// file, with a fixed clock and random source.
func goldenProvider(t *testing.T) *Provider {
	t.Helper()
	idp := devServer(t, fixedBase, func() time.Time { return t0 }, nil) // the golden metadata needs no SP metadata
	md, err := idp.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "cieid.xml")
	if err := os.WriteFile(f, md, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := DevConfig(fixedBase, testdataDir)
	cfg.IdPs = []IdPConfig{{MetadataFile: f, Binding: "redirect", MetadataCertFile: testdataDir + "dev-idp-cieid.crt"}}
	p, err := New(cfg, Deps{Store: memory.New(memory.Options{Now: func() time.Time { return t0 }}),
		Now: func() time.Time { return t0 }, Rand: zeroRand{}, BaseURL: fixedBase})
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
	md, err := goldenProvider(t).Metadata()
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
		return bytes.Replace(b, []byte("H501"), []byte("F205"), 1)
	})
}

// TestMetadataFollowsTheCIEIDManual checks each SP-metadata rule of the CIE ID technical
// manual ("Federazione") on the generated document.
func TestMetadataFollowsTheCIEIDManual(t *testing.T) {
	md, err := goldenProvider(t).Metadata()
	if err != nil {
		t.Fatal(err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(md); err != nil {
		t.Fatal(err)
	}
	ed := doc.Root()
	check := func(rule string, ok bool) {
		t.Helper()
		if !ok {
			t.Errorf("rule violated: %s", rule)
		}
	}
	check("one EntityDescriptor as the root", ed.Tag == "EntityDescriptor" && ed.SelectAttrValue("entityID", "") == fixedBase+"/cieid/metadata")
	check("signed", ed.FindElement("./ds:Signature") != nil)
	check("cie namespace", ed.SelectAttrValue("xmlns:cie", "") == "https://www.cartaidentita.interno.gov.it/saml-extensions")
	sso := ed.FindElement("./md:SPSSODescriptor")
	check("AuthnRequestsSigned and WantAssertionsSigned", sso.SelectAttrValue("AuthnRequestsSigned", "") == "true" && sso.SelectAttrValue("WantAssertionsSigned", "") == "true")
	check("a signing key", sso.FindElement("./md:KeyDescriptor[@use='signing']") != nil)
	check("at least one SingleLogoutService on HTTP-Redirect", sso.FindElement("./md:SingleLogoutService[@Binding='"+samlx.BindingRedirect+"']") != nil)
	check("NameIDFormat transient", sso.FindElement("./md:NameIDFormat").Text() == samlx.NameIDTransient)
	check("ACS index 0 default HTTP-POST", sso.FindElement("./md:AssertionConsumerService[@index='0'][@isDefault='true']") != nil)
	acs := sso.FindElements("./md:AttributeConsumingService")
	check("one AttributeConsumingService", len(acs) == 1)
	var names []string
	for _, ra := range acs[0].FindElements("./md:RequestedAttribute") {
		names = append(names, ra.SelectAttrValue("Name", ""))
	}
	check("only the eIDAS minimum data set", slices.Equal(names, []string{"name", "familyName", "dateOfBirth", "fiscalNumber"}))
	sn := acs[0].FindElements("./md:ServiceName")
	check("one ServiceName with an empty xml:lang", len(sn) == 1 && sn[0].SelectAttr("xml:lang") != nil && sn[0].SelectAttrValue("xml:lang", "x") == "")
	cps := ed.FindElements("./md:ContactPerson")
	check("one ContactPerson, administrative", len(cps) == 1 && cps[0].SelectAttrValue("contactType", "") == "administrative")
	ext := cps[0].FindElement("./md:Extensions")
	for _, el := range []string{"cie:Public", "cie:IPACode", "cie:Municipality", "cie:Province", "cie:Country"} {
		check("extension "+el, ext.FindElement("./"+el) != nil)
	}
	check("no cie:Private for a public SP", ext.FindElement("./cie:Private") == nil)
	check("Municipality is the Belfiore code", ext.FindElement("./cie:Municipality").Text() == "H501")
	org := ed.FindElement("./md:Organization/md:OrganizationName[@xml:lang='it']").Text()
	check("Company is exactly the Italian OrganizationName", cps[0].FindElement("./md:Company").Text() == org)
	check("EmailAddress", cps[0].FindElement("./md:EmailAddress") != nil)
	check("no spid: extensions", !strings.Contains(string(md), "spid.gov.it/saml-extensions"))
}

func TestPrivateSPMetadataCarriesItsExtensions(t *testing.T) {
	cfg := DevConfig(fixedBase, testdataDir)
	cfg.Profile, cfg.IPACode, cfg.VATNumber, cfg.FiscalCode = "private", "", "IT12345678901", "12345678901"
	cfg.NACE2Codes = []string{"84.30.00"}
	if errs := cfg.Validate("p", true); len(errs) > 0 {
		t.Fatal(errs)
	}
	ed := etree.NewElement("md:EntityDescriptor")
	writeContacts(ed, cfg)
	ext := ed.FindElement("./md:ContactPerson/md:Extensions")
	for _, el := range []string{"cie:Private", "cie:VATNumber", "cie:FiscalCode", "cie:NACE2Code", "cie:Municipality"} {
		if ext.FindElement("./"+el) == nil {
			t.Errorf("no %s", el)
		}
	}
	if ext.FindElement("./cie:Public") != nil || ext.FindElement("./cie:IPACode") != nil {
		t.Error("a private SP with public extensions")
	}
}

// TestConfigRulesOfTheCIEIDManual: each metadata rule of the manual refused when broken.
func TestConfigRulesOfTheCIEIDManual(t *testing.T) {
	for name, tc := range map[string]struct {
		edit func(*Config)
		path string
	}{
		"public SP without an IPA code":         {func(c *Config) { c.IPACode = "" }, ".ipa_code"},
		"Municipality missing":                  {func(c *Config) { c.Municipality = "" }, ".municipality"},
		"Municipality not a Belfiore code":      {func(c *Config) { c.Municipality = "Roma" }, ".municipality"},
		"private SP without VAT or fiscal code": {func(c *Config) { c.Profile, c.IPACode, c.NACE2Codes = "private", "", []string{"84.30"} }, ".vat_number"},
		"private SP without NACE2 code":         {func(c *Config) { c.Profile, c.IPACode, c.VATNumber = "private", "", "IT12345678901" }, ".nace2_codes"},
		"VAT number without country prefix":     {func(c *Config) { c.VATNumber = "12345678901" }, ".vat_number"},
		"Province in lower case":                {func(c *Config) { c.Province = "rm" }, ".province"},
		"Country not ISO 3166 alpha-2":          {func(c *Config) { c.Country = "ITA" }, ".country"},
		"Organization without Italian name":     {func(c *Config) { delete(c.Organization.Names, "it") }, ".organization.names.it"},
		"unknown environment":                   {func(c *Config) { c.Environment = "test" }, ".environment"},
		"two metadata sources":                  {func(c *Config) { c.IdPs = append(c.IdPs, c.IdPs[0]) }, ".idps"},
		"comparison other than minimum/exact":   {func(c *Config) { c.Comparison = "better" }, ".comparison"},
		"telephone with spaces":                 {func(c *Config) { c.Contact.Phone = "+39 06 1234" }, ".contact.phone"},
	} {
		cfg := DevConfig(fixedBase, testdataDir)
		tc.edit(cfg)
		errs := cfg.Validate("providers.cieid", true)
		found := false
		for _, err := range errs {
			found = found || strings.HasPrefix(err.Error(), "providers.cieid"+tc.path)
		}
		if !found {
			t.Errorf("%s: not refused at %s: %v", name, tc.path, errs)
		}
	}
}

func TestEnvironmentPicksTheCIEIDServerMetadata(t *testing.T) {
	for env, want := range map[string]string{"": ProductionMetadataURL, "production": ProductionMetadataURL, "preproduction": PreproductionMetadataURL} {
		c := &Config{Environment: env}
		c.applyDefaults()
		if len(c.IdPs) != 1 || c.IdPs[0].MetadataURL != want {
			t.Errorf("environment %q: %+v", env, c.IdPs)
		}
	}
}

func TestAuthnRequestMatchesGolden(t *testing.T) {
	p := goldenProvider(t)
	rec := httptestRecorder(t, p, &providers.LoginRequest{ID: "golden", ACR: loa.SpidL2})
	loc, err := url.Parse(rec)
	if err != nil {
		t.Fatal(err)
	}
	xml, err := samlx.InflateBase64(loc.Query().Get("SAMLRequest"))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "authn-request-redirect.xml", xml)
	golden(t, "authn-request-redirect.url", []byte(rec))
}

// TestAuthnRequestFollowsTheCIEIDManual: the rules of "Richiesta di autenticazione SAML", at
// every level and comparison.
func TestAuthnRequestFollowsTheCIEIDManual(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MinLevel = 1 })
	for _, tc := range []struct{ acr, cmp, wantCmp string }{
		{loa.SpidL1, "", "minimum"}, {loa.SpidL2, "minimum", "minimum"}, {loa.SpidL3, "exact", "exact"},
	} {
		loc, doc, rs := e.request(t, "l", tc.acr, tc.cmp)
		r := doc.Root()
		check := func(rule string, ok bool) {
			t.Helper()
			if !ok {
				t.Errorf("%s %s: rule violated: %s", tc.acr, tc.cmp, rule)
			}
		}
		check("ForceAuthn true always", r.SelectAttrValue("ForceAuthn", "") == "true")
		check("Destination is the SSO Location", r.SelectAttrValue("Destination", "") == e.idp.EntityID()+"/sso" &&
			loc.Scheme+"://"+loc.Host+loc.Path == e.idp.EntityID()+"/sso")
		check("no IsPassive", r.SelectAttr("IsPassive") == nil)
		check("AttributeConsumingServiceIndex 0", r.SelectAttrValue("AttributeConsumingServiceIndex", "") == "0")
		check("AssertionConsumerServiceIndex 0", r.SelectAttrValue("AssertionConsumerServiceIndex", "") == "0")
		check("Version 2.0 and an ID", r.SelectAttrValue("Version", "") == "2.0" && r.SelectAttrValue("ID", "") != "")
		np := r.FindElement("./samlp:NameIDPolicy")
		check("NameIDPolicy transient without AllowCreate", np != nil && np.SelectAttrValue("Format", "") == samlx.NameIDTransient && np.SelectAttr("AllowCreate") == nil)
		iss := r.FindElement("./saml:Issuer")
		check("Issuer the entityID, Format entity if any", iss.Text() == e.sp.EntityID() &&
			iss.SelectAttrValue("Format", samlx.NameIDEntity) == samlx.NameIDEntity)
		rac := r.FindElements("./samlp:RequestedAuthnContext")
		check("one RequestedAuthnContext", len(rac) == 1 && rac[0].SelectAttrValue("Comparison", "") == tc.wantCmp &&
			rac[0].FindElement("./saml:AuthnContextClassRef").Text() == tc.acr)
		check("no RequesterID or Scoping", r.FindElement(".//samlp:Scoping") == nil)
		check("no XML signature on HTTP-Redirect, a query signature instead", r.FindElement("./ds:Signature") == nil &&
			loc.Query().Get("Signature") != "" && rs != "")
	}
}

func TestMinLevelRaisesTheLevelAsked(t *testing.T) {
	e := newEnv(t, nil) // min_level 2, the default
	_, doc, _ := e.request(t, "l", loa.SpidL1, "")
	if got := doc.Root().FindElement(".//saml:AuthnContextClassRef").Text(); got != loa.SpidL2 {
		t.Fatalf("asked %s", got)
	}
}

// TestLoginThroughTheDevCIEIDServer: L2 (the CieID app) and L3 (the card) through the dev
// server's form: auth_method cie, cie_channel cieid, acr the level asserted, amr by level.
func TestLoginThroughTheDevCIEIDServer(t *testing.T) {
	e := newEnv(t, nil)
	for _, tc := range []struct {
		level string
		acr   string
		amr   []string
	}{
		{"2", loa.SpidL2, []string{"pwd", "mfa"}},
		{"3", loa.SpidL3, []string{"sc", "pin", "hwk", "mfa"}},
	} {
		status, body := e.login(t, "login-"+tc.level, loa.SpidL2, url.Values{"username": {"RSSMRA80A01H501U"},
			"password": {"test-password"}, "level": {tc.level}, "action": {"login"}})
		if status != http.StatusOK {
			t.Fatalf("L%s: HTTP %d %s", tc.level, status, body)
		}
		o := e.fin.Last(t)
		id := o.Identity
		if o.LoginID != "login-"+tc.level || id == nil || id.FiscalNumber != "RSSMRA80A01H501U" || id.Method != providers.MethodCIE ||
			id.CIEChannel != "cieid" || id.ACR != tc.acr || !slices.Equal(id.AMR, tc.amr) || id.GivenName != "Mario" ||
			id.FamilyName != "Rossi" || id.Birthdate != "1980-01-01" || id.SPIDIdP != "" {
			t.Fatalf("L%s: %+v %+v", tc.level, o, id)
		}
	}
	// The trace: the request and the response, whole.
	var types []string
	for _, ev := range e.audit.Events() {
		types = append(types, ev.Type)
	}
	if !slices.Contains(types, "cieid.authn_request") || !slices.Contains(types, "cieid.response") {
		t.Fatalf("audit %v", types)
	}
}

func TestCancelAtTheDevCIEIDServerIsNr25(t *testing.T) {
	e := newEnv(t, nil)
	status, _ := e.login(t, "cancel", loa.SpidL2, url.Values{"action": {"cancel"}})
	o := e.fin.Last(t)
	var ue *providers.UserError
	if status != http.StatusForbidden || !errors.Is(o.Err, providers.ErrCancelled) || !errors.As(o.Err, &ue) || ue.Code != "cieid.nr25" {
		t.Fatalf("%d %+v", status, o)
	}
	var ae *providers.AttemptError
	if !errors.As(o.Err, &ae) || ae.Method != providers.MethodCIE {
		t.Fatalf("not an attempt with cie: %v", o.Err)
	}
}

// TestHostileResponsesAreRefused runs the SAML profiles' shared hostile-response table against
// the CIE ID ACS, with CIE ID's differences (samltest.CIEID).
func TestHostileResponsesAreRefused(t *testing.T) {
	e := newEnv(t, nil)
	samltest.RunProfile(t, e, samltest.CIEID, e.clock.Now(), attacker(t))
}

func TestGoodResponseAcceptedSignedEitherWay(t *testing.T) {
	samltest.RunGood(t, newEnv(t, nil), func(id *providers.Identity) bool { return id.FiscalNumber == "RSSMRA80A01H501U" })
}

func TestReplayedResponseIsRefused(t *testing.T) {
	e := newEnv(t, nil)
	p := e.Start(t, "replay", loa.SpidL2, "")
	xml := samltest.Build(t, e.Good(p), e.keys, samltest.Hostile{})
	if _, o := e.Post(t, p.RelayState, xml); o.Identity == nil {
		t.Fatalf("first delivery refused: %v", o.Err)
	}
	status, o := e.Post(t, p.RelayState, xml)
	if status != http.StatusForbidden || o.Identity != nil || !errors.Is(o.Err, providers.ErrLoginExpired) {
		t.Fatalf("replay: %d %+v", status, o)
	}
}

func TestCIEIDKeysAreApartFromSPIDs(t *testing.T) {
	e := newEnv(t, nil)
	p := e.Start(t, "ns", loa.SpidL2, "")
	if _, o := e.Post(t, p.RelayState, samltest.Build(t, e.Good(p), e.keys, samltest.Hostile{})); o.Identity == nil {
		t.Fatal(o.Err)
	}
	var re *saml.RejectError
	p2 := e.Start(t, "ns2", loa.SpidL2, "")
	good := e.Good(p2)
	good.AssertionID = "_assert" + p.RequestID[1:12]
	if _, o := e.Post(t, p2.RelayState, samltest.Build(t, good, e.keys, samltest.Hostile{})); !errors.As(o.Err, &re) || re.Rule != "replay" {
		t.Fatalf("assertion replay across requests: %+v", o)
	}
}

func TestEveryUserFacingCodeHasItalianAndEnglish(t *testing.T) {
	msgs := Messages()
	codes := []string{"chooser.name.cieid", "chooser.button.cieid", "chooser.who.cieid"}
	for _, k := range saml.UserErrorKeys {
		codes = append(codes, "cieid."+k)
	}
	for _, ec := range errorCodes {
		codes = append(codes, "cieid."+ec.Code)
	}
	for _, c := range codes {
		if msgs[c]["it"] == "" || msgs[c]["en"] == "" {
			t.Errorf("%s lacks it/en text", c)
		}
	}
}
