package eidas

import (
	"bytes"
	"context"
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

func goldenProvider(t testing.TB, edit func(*Config)) *Provider {
	t.Helper()
	idp := devNode(t, fixedBase, func() time.Time { return t0 }, nil) // the golden metadata needs no SP metadata
	md, err := idp.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "eidas.xml")
	if err := os.WriteFile(f, md, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := DevConfig(fixedBase, testdataDir)
	cfg.IdPs = []saml.IdPConfig{{MetadataFile: f, Binding: "redirect", MetadataCertFile: testdataDir + "dev-idp-ficep.crt"}}
	if edit != nil {
		edit(cfg)
	}
	p, err := New(cfg, Deps{ProfileDeps: saml.ProfileDeps{Store: memory.New(memory.Options{Now: func() time.Time { return t0 }}),
		Now: func() time.Time { return t0 }, Rand: zeroRand{}, BaseURL: fixedBase}})
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
	md, err := goldenProvider(t, nil).Metadata()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "sp-metadata.xml", md)
}

func TestMetadataVerifiesWithXmlsec1(t *testing.T) {
	md, err := goldenProvider(t, nil).Metadata()
	if err != nil {
		t.Fatal(err)
	}
	samltest.Xmlsec1VerifiesMetadata(t, md, testdataDir+"sp-dev.crt", func(b []byte) []byte {
		return bytes.Replace(b, []byte("spidCode"), []byte("fiscalNumber"), 1)
	})
}

// TestMetadataCarriesAgIDsEIDASAttributeServices: the SPID-shaped metadata with the
// AttributeConsumingServices AgID gives an SP of the eIDAS node.
func TestMetadataCarriesAgIDsEIDASAttributeServices(t *testing.T) {
	md, err := goldenProvider(t, nil).Metadata()
	if err != nil {
		t.Fatal(err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(md); err != nil {
		t.Fatal(err)
	}
	ed := doc.Root()
	if ed.SelectAttrValue("entityID", "") != fixedBase+"/eidas/metadata" {
		t.Errorf("entityID %q", ed.SelectAttrValue("entityID", ""))
	}
	want := map[string][]string{"99": MinimumSet, "100": ExtendedSet}
	acs := ed.FindElements("./md:SPSSODescriptor/md:AttributeConsumingService")
	if len(acs) != 2 {
		t.Fatalf("%d AttributeConsumingServices", len(acs))
	}
	for _, s := range acs {
		var names []string
		for _, ra := range s.FindElements("./md:RequestedAttribute") {
			names = append(names, ra.SelectAttrValue("Name", ""))
		}
		if idx := s.SelectAttrValue("index", ""); !slices.Equal(names, want[idx]) {
			t.Errorf("index %s: %v", idx, names)
		}
		if s.FindElement("./md:ServiceName[@xml:lang='it']") == nil {
			t.Errorf("index %s without an Italian ServiceName", s.SelectAttrValue("index", ""))
		}
	}
	cp := ed.FindElement("./md:ContactPerson[@contactType='other']")
	if cp == nil || cp.FindElement("./md:Extensions/spid:IPACode") == nil || cp.FindElement("./md:Extensions/spid:Public") == nil {
		t.Error("no SPID contact with spid:IPACode and spid:Public")
	}
}

func TestAuthnRequestMatchesGolden(t *testing.T) {
	for name, set := range map[string]string{"minimum": "99", "extended": "100"} {
		p := goldenProvider(t, func(c *Config) { c.AttributeSet = name })
		rec := httptestRecorder(t, p, &providers.LoginRequest{ID: "golden", ACR: loa.SpidL2})
		loc, err := url.Parse(rec)
		if err != nil {
			t.Fatal(err)
		}
		xml, err := samlx.InflateBase64(loc.Query().Get("SAMLRequest"))
		if err != nil {
			t.Fatal(err)
		}
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(xml); err != nil {
			t.Fatal(err)
		}
		r := doc.Root()
		if r.SelectAttrValue("AttributeConsumingServiceIndex", "") != set || r.SelectAttrValue("ForceAuthn", "") != "true" ||
			r.SelectAttr("IsPassive") != nil || r.FindElement("./samlp:NameIDPolicy").SelectAttr("AllowCreate") != nil ||
			r.FindElement(".//saml:AuthnContextClassRef").Text() != loa.SpidL2 {
			t.Errorf("%s: %s", name, xml)
		}
		if name == "minimum" {
			golden(t, "authn-request-redirect.xml", xml)
		}
	}
}

func TestConfigRules(t *testing.T) {
	for name, tc := range map[string]struct {
		edit func(*Config)
		path string
	}{
		"unknown attribute set":                    {func(c *Config) { c.AttributeSet = "all" }, ".attribute_set"},
		"link of something not a PersonIdentifier": {func(c *Config) { c.Links = map[string]string{"X1234567T": "FRRGNN55T50Z600A"} }, ".links"},
		"link of an identifier sent to Germany":    {func(c *Config) { c.Links = map[string]string{"ES/DE/X1": "FRRGNN55T50Z600A"} }, ".links"},
		"link to a wrong fiscal code":              {func(c *Config) { c.Links = map[string]string{"ES/IT/X1": "FRRGNN55T50Z600B"} }, ".links"},
		"two metadata sources":                     {func(c *Config) { c.IdPs = append(c.IdPs, c.IdPs[0]) }, ".idps"},
		"no metadata source":                       {func(c *Config) { c.IdPs = nil }, ".idps"},
		"public SP without an IPA code":            {func(c *Config) { c.IPACode = "" }, ".ipa_code"},
		"min level 4":                              {func(c *Config) { c.MinLevel = 4 }, ".min_level"},
	} {
		cfg := DevConfig(fixedBase, testdataDir)
		tc.edit(cfg)
		found := false
		for _, err := range cfg.Validate("providers.eidas", true) {
			found = found || strings.HasPrefix(err.Error(), "providers.eidas"+tc.path)
		}
		if !found {
			t.Errorf("%s: not refused at %s", name, tc.path)
		}
	}
}

// TestLoginThroughTheDevEIDASNode: Anna Schmidt (German eID, no INPS link) and Giovanna
// Ferrari (Spanish eID, linked to her INPS record) through the dev node's form.
func TestLoginThroughTheDevEIDASNode(t *testing.T) {
	e := newEnv(t, nil)
	for _, tc := range []struct {
		user, country, level, cf, given string
	}{
		{"DE/IT/0123456789ABCDEF", "DE", "2", "", "Anna"},
		{"ES/IT/X1234567T", "ES", "3", "FRRGNN55T50Z600A", "Giovanna"},
		{"ES/IT/X1234567T", "", "2", "FRRGNN55T50Z600A", "Giovanna"}, // the country choice skipped
	} {
		status, body := e.login(t, "login-"+tc.user, loa.SpidL2, url.Values{"country": {tc.country}, "username": {tc.user},
			"password": {"test-password"}, "level": {tc.level}, "action": {"login"}})
		if status != http.StatusOK {
			t.Fatalf("%s: HTTP %d %s", tc.user, status, body)
		}
		id := e.fin.Last(t).Identity
		if id == nil || id.Method != providers.MethodEIDAS || id.PersonIdentifier != tc.user || id.FiscalNumber != tc.cf ||
			id.EIDASCountry != tc.user[:2] || id.GivenName != tc.given || id.ACR != loa.ACRForLevel(int(tc.level[0]-'0')) ||
			id.Birthdate == "" || id.CIEChannel != "" {
			t.Fatalf("%s: %+v", tc.user, id)
		}
	}
	// A PersonIdentifier of another country than the one chosen is refused at the node.
	e.login(t, "wrong-country", loa.SpidL2, url.Values{"country": {"DE"}, "username": {"ES/IT/X1234567T"},
		"password": {"test-password"}, "action": {"login"}})
	if o := e.fin.Last(t); o.Identity != nil || !errors.Is(o.Err, providers.ErrDenied) {
		t.Fatalf("wrong country: %+v", o)
	}
}

// TestEIDASLevelsOfAssuranceMapToSPIDLevels: substantial is SpidL2, high SpidL3; low is
// refused for an L2 request.
func TestEIDASLevelsOfAssuranceMapToSPIDLevels(t *testing.T) {
	e := newEnv(t, nil)
	for loaURI, want := range map[string]string{LoASubstantial: loa.SpidL2, LoAHigh: loa.SpidL3, LoALow: ""} {
		p := e.Start(t, "loa", loa.SpidL2, "")
		_, o := e.Post(t, p.RelayState, samltest.Build(t, e.Good(p), e.keys, samltest.Hostile{PreSign: func(r, a *etree.Element) {
			a.FindElement("./saml:AuthnStatement/saml:AuthnContext/saml:AuthnContextClassRef").SetText(loaURI)
		}}))
		switch {
		case want == "" && (o.Identity != nil || !errors.Is(o.Err, providers.ErrLevelNotReached)):
			t.Errorf("%s: %+v", loaURI, o)
		case want != "" && (o.Identity == nil || o.Identity.ACR != want):
			t.Errorf("%s: %+v", loaURI, o)
		}
	}
}

// TestLowIsAcceptedOnlyWhenAllowed: with min_level 1 and an L1 request, "low" logs in at L1.
func TestLowIsAcceptedOnlyWhenAllowed(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MinLevel = 1 })
	p := e.Start(t, "low", loa.SpidL1, "")
	good := e.Good(p)
	good.Level = 1
	if _, o := e.Post(t, p.RelayState, samltest.Build(t, good, e.keys, samltest.Hostile{})); o.Identity == nil || o.Identity.ACR != loa.SpidL1 {
		t.Fatalf("%+v", o)
	}
}

type failingLinker struct{}

func (failingLinker) FiscalNumberFor(context.Context, string) (string, error) {
	return "", errors.New("records down")
}

// A failing INPS lookup is "temporarily unavailable", never an unlinked person, and uses
// nothing up: the same response is accepted once the lookup answers.
func TestAFailingLinkLookupIsUnavailableAndConsumesNothing(t *testing.T) {
	e := newEnv(t, nil)
	e.sp.linker = failingLinker{}
	p := e.Start(t, "link", loa.SpidL2, "")
	xml := samltest.Build(t, e.Good(p), e.keys, samltest.Hostile{})
	_, o := e.Post(t, p.RelayState, xml)
	var ue *providers.UserError
	if o.Identity != nil || !errors.Is(o.Err, providers.ErrUnavailable) || !errors.As(o.Err, &ue) || ue.Code != "eidas.unavailable" {
		t.Fatalf("%+v", o)
	}
	e.sp.linker = StaticLinks(nil)
	if _, o := e.Post(t, p.RelayState, xml); o.Identity == nil {
		t.Fatalf("after the outage: %+v", o)
	}
}

// TestHostileResponsesAreRefused runs the SAML profiles' shared hostile-response table against
// the eIDAS ACS, with eIDAS's differences (samltest.EIDAS).
func TestHostileResponsesAreRefused(t *testing.T) {
	e := newEnv(t, nil)
	samltest.RunProfile(t, e, samltest.EIDAS, e.clock.Now(), attacker(t))
}

func TestGoodResponseAcceptedSignedEitherWay(t *testing.T) {
	samltest.RunGood(t, newEnv(t, nil), func(id *providers.Identity) bool {
		return id.PersonIdentifier == "DE/IT/0123456789ABCDEF" && id.FiscalNumber == ""
	})
}

func TestEveryUserFacingCodeHasItalianAndEnglish(t *testing.T) {
	msgs := Messages()
	codes := []string{"chooser.name.eidas", "chooser.button.eidas", "chooser.who.eidas"}
	for _, k := range saml.UserErrorKeys {
		codes = append(codes, "eidas."+k)
	}
	for _, ec := range profile(DevConfig(fixedBase, testdataDir)).ErrorCodes {
		codes = append(codes, "eidas."+ec.Code)
	}
	for _, c := range codes {
		if msgs[c]["it"] == "" || msgs[c]["en"] == "" {
			t.Errorf("%s lacks it/en text", c)
		}
	}
}
