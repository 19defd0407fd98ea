package saml

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/saml/samlx"
)

const nsCIE = "https://www.cartaidentita.interno.gov.it/saml-extensions"

// cieLike is a second profile, for these tests only, shaped like CIE ID: the Response Issuer
// without Format, ForceAuthn always, the eIDAS minimum attribute set, the ContactPerson
// "administrative" with the cie: extensions, and no error codes of its own.
func cieLike() Profile {
	return Profile{
		Name:               "cielike",
		LevelURIs:          []string{loa.SpidL1, loa.SpidL2, loa.SpidL3},
		ResponseIssuer:     IssuerFormatAbsent,
		AssertionIssuer:    IssuerFormatRequired,
		ForceAuthnFrom:     1,
		Comparisons:        []string{"minimum", "exact"},
		Attributes:         []string{"name", "familyName", "dateOfBirth", "fiscalNumber"},
		MetadataNamespaces: []Namespace{{Prefix: "cie", URI: nsCIE}},
		WriteContacts: func(ed *etree.Element) {
			cp := ed.CreateElement("md:ContactPerson")
			cp.CreateAttr("contactType", "administrative")
			ext := cp.CreateElement("md:Extensions")
			ext.CreateElement("cie:Public")
			ext.CreateElement("cie:IPACode").SetText("inps")
			ext.CreateElement("cie:Municipality").SetText("H501")
			cp.CreateElement("md:Company").SetText("Istituto Nazionale della Previdenza Sociale")
			cp.CreateElement("md:EmailAddress").SetText("cie@inps.example.it")
		},
	}
}

// eidasLoA are the eIDAS levels of assurance, as a FICEP-like profile might name its levels.
var eidasLoA = []string{"http://eidas.europa.eu/LoA/low", "http://eidas.europa.eu/LoA/substantial", "http://eidas.europa.eu/LoA/high"}

// withoutResponseIssuerFormat drops the Format of the Response's Issuer, as CIE ID sends it.
func withoutResponseIssuerFormat(resp, _ *etree.Element) {
	resp.FindElement("./saml:Issuer").RemoveAttr("Format")
}

// classRef sets the Assertion's AuthnContextClassRef.
func classRef(uri string) func(resp, a *etree.Element) {
	return func(resp, a *etree.Element) {
		withoutResponseIssuerFormat(resp, a)
		a.FindElement("./saml:AuthnStatement/saml:AuthnContext/saml:AuthnContextClassRef").SetText(uri)
	}
}

func ruleOf(err error) string {
	var re *RejectError
	if errors.As(err, &re) {
		return re.Rule
	}
	return ""
}

func TestProfileWithoutItsEssentialsIsRefused(t *testing.T) {
	for name, edit := range map[string]func(*Profile){
		"no name":             func(p *Profile) { p.Name = "" },
		"no levels":           func(p *Profile) { p.LevelURIs = nil },
		"an empty level URI":  func(p *Profile) { p.LevelURIs = []string{loa.SpidL1, ""} },
		"no comparisons":      func(p *Profile) { p.Comparisons = nil },
		"no attributes":       func(p *Profile) { p.Attributes = nil },
		"no contact writer":   func(p *Profile) { p.WriteContacts = nil },
		"ForceAuthn past L3":  func(p *Profile) { p.ForceAuthnFrom = 4 },
		"negative ForceAuthn": func(p *Profile) { p.ForceAuthnFrom = -1 },
	} {
		p := cieLike()
		edit(&p)
		if err := p.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
		if _, err := New(p, Config{}, Deps{}); err == nil {
			t.Errorf("%s: the engine started", name)
		}
	}
	p := cieLike()
	if err := p.Validate(); err != nil {
		t.Fatalf("the test profile itself: %v", err)
	}
}

// The second profile's metadata has its own namespace and contact, none of SPID's, its own
// attribute set, and is signed like any other; an attribute outside the profile is refused.
func TestSecondProfileMetadataCarriesItsOwnExtensions(t *testing.T) {
	e := newEngine(t, cieLike())
	md, err := e.sp.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(md); err != nil {
		t.Fatal(err)
	}
	ed := doc.Root()
	if _, err := samlx.VerifyEnveloped(ed, []*x509.Certificate{e.sp.cfg.Keys.Cert}, t0); err != nil {
		t.Fatalf("metadata signature: %v", err)
	}
	if ed.SelectAttrValue("xmlns:cie", "") != nsCIE || ed.SelectAttr("xmlns:spid") != nil || strings.Contains(string(md), "spid:") {
		t.Fatalf("namespaces of the root: %v", ed.Attr)
	}
	cps := ed.SelectElements("ContactPerson")
	if len(cps) != 1 || cps[0].SelectAttrValue("contactType", "") != "administrative" ||
		cps[0].FindElement("./md:Extensions/cie:Municipality") == nil || cps[0].FindElement("./md:Company") == nil {
		t.Fatalf("contacts: %d", len(cps))
	}
	if cps[0].Index() < ed.SelectElement("Organization").Index() {
		t.Fatal("the contact comes before md:Organization")
	}
	var names []string
	for _, ra := range ed.FindElements("./md:SPSSODescriptor/md:AttributeConsumingService/md:RequestedAttribute") {
		names = append(names, ra.SelectAttrValue("Name", ""))
	}
	if strings.Join(names, ",") != "name,familyName,dateOfBirth,fiscalNumber" {
		t.Fatalf("requested attributes %v", names)
	}
	cfg := e.sp.cfg
	cfg.AttributeServices = []AttributeService{{Index: 0, Names: map[string]string{"it": "x"}, Attributes: []string{"name", "email"}}}
	if _, err := BuildMetadata(e.sp.Profile(), &cfg, t0); err == nil || !strings.Contains(err.Error(), `"email"`) {
		t.Fatalf("an attribute outside the profile: %v", err)
	}
}

// ForceAuthn follows the profile: always for CIE ID, from L2 for SPID, and whenever the login
// asks; a comparison or level outside the profile sends nothing and stores nothing.
func TestAuthnRequestFollowsTheProfile(t *testing.T) {
	for _, tc := range []struct {
		name  string
		prof  Profile
		level int
		force string
	}{
		{"cie-like at L1", cieLike(), 1, "true"},
		{"cie-like at L3", cieLike(), 3, "true"},
		{"spid-like at L1", spidLike(), 1, ""},
		{"spid-like at L2", spidLike(), 2, "true"},
	} {
		e := newEngine(t, tc.prof)
		p := e.start(t, tc.level, "minimum")
		if got := p.Request.SelectAttrValue("ForceAuthn", ""); got != tc.force {
			t.Errorf("%s: ForceAuthn=%q, want %q", tc.name, got, tc.force)
		}
		if got := p.Request.FindElement("./samlp:RequestedAuthnContext/saml:AuthnContextClassRef").Text(); got != tc.prof.LevelURI(tc.level) {
			t.Errorf("%s: class %q", tc.name, got)
		}
		if _, err := e.sp.PeekRequest(context.Background(), p.RelayState); err != nil {
			t.Errorf("%s: request not recorded: %v", tc.name, err)
		}
	}

	e := newEngine(t, spidLike())
	idp, _ := e.sp.Registry().Lookup(context.Background(), demoIdP)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "https://sp.example/start", nil)
	if _, err := e.sp.SendAuthnRequest(rec, req, AuthnRequest{IdP: idp, Level: 1, Comparison: "minimum", ForceAuthn: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rec.Header().Get("Location"), "SAMLRequest=") {
		t.Fatal("no redirect")
	}
	three := 3
	for name, ar := range map[string]AuthnRequest{
		"comparison better":           {IdP: idp, Level: 2, Comparison: "better"},
		"level 4":                     {IdP: idp, Level: 4, Comparison: "minimum"},
		"level 0":                     {IdP: idp, Level: 0, Comparison: "minimum"},
		"attribute service not in md": {IdP: idp, Level: 2, Comparison: "minimum", AttributeService: &three},
		"no identity provider at all": {Level: 2, Comparison: "minimum"},
	} {
		rec := httptest.NewRecorder()
		if _, err := e.sp.SendAuthnRequest(rec, req, ar); err == nil || rec.Code != http.StatusOK || rec.Body.Len() > 0 || rec.Header().Get("Location") != "" {
			t.Errorf("%s: sent (%v)", name, err)
		}
	}
	if n := len(e.events); n != 1 {
		t.Fatalf("%d authn_request events, want the one sent", n)
	}
}

// The Issuer rules follow the profile: the Response Issuer's Format is optional for SPID and
// must be absent for CIE ID; the Assertion Issuer's Format is required by both.
func TestIssuerFormatFollowsTheProfile(t *testing.T) {
	dropAssertionFormat := func(_, a *etree.Element) { a.FindElement("./saml:Issuer").RemoveAttr("Format") }
	for _, tc := range []struct {
		name string
		prof Profile
		edit func(resp, a *etree.Element)
		rule string // "" accepted
	}{
		{"spid-like, Response Issuer with Format", spidLike(), nil, ""},
		{"spid-like, Response Issuer without Format", spidLike(), withoutResponseIssuerFormat, ""},
		{"cie-like, Response Issuer without Format", cieLike(), withoutResponseIssuerFormat, ""},
		{"cie-like, Response Issuer with Format", cieLike(), nil, "response.issuer"},
		{"spid-like, Assertion Issuer without Format", spidLike(), dropAssertionFormat, "assertion.issuer"},
		{"cie-like, Assertion Issuer without Format", cieLike(), func(r, a *etree.Element) {
			withoutResponseIssuerFormat(r, a)
			dropAssertionFormat(r, a)
		}, "assertion.issuer"},
	} {
		e := newEngine(t, tc.prof)
		p := e.start(t, 2, "minimum")
		res, err := e.consume(t, p, e.response(t, e.params(p), tc.edit))
		switch {
		case tc.rule == "" && (err != nil || res.Level != 2 || res.Attributes["fiscalNumber"] != "TINIT-RSSMRA80A01H501U"):
			t.Errorf("%s: refused: %v", tc.name, err)
		case tc.rule != "" && ruleOf(err) != tc.rule:
			t.Errorf("%s: %v, want rule %s", tc.name, err, tc.rule)
		case tc.rule != "" && !strings.HasPrefix(err.Error(), tc.prof.Name+": "+tc.rule+": "):
			t.Errorf("%s: error text %q does not name the profile", tc.name, err)
		}
	}
}

// The levels are the profile's classes: a FICEP-like profile naming the eIDAS levels reads
// "substantial" as level 2, refuses a SpidL class, and "low" does not reach level 2.
func TestLevelClassesFollowTheProfile(t *testing.T) {
	prof := cieLike()
	prof.Name, prof.LevelURIs = "eidaslike", eidasLoA
	for _, tc := range []struct {
		name  string
		class string
		level int    // reached, when accepted
		rule  string // refused for
	}{
		{"substantial for substantial", eidasLoA[1], 2, ""},
		{"high for substantial", eidasLoA[2], 3, ""},
		{"a SPID class", loa.SpidL2, 0, "authn.context"},
		{"low for substantial", eidasLoA[0], 0, "level"},
	} {
		e := newEngine(t, prof)
		p := e.start(t, 2, "minimum")
		if got := p.Request.FindElement("./samlp:RequestedAuthnContext/saml:AuthnContextClassRef").Text(); got != eidasLoA[1] {
			t.Fatalf("asked %q", got)
		}
		res, err := e.consume(t, p, e.response(t, e.params(p), classRef(tc.class)))
		var le *LevelError
		switch {
		case tc.rule == "" && (err != nil || res.Level != tc.level):
			t.Errorf("%s: %v", tc.name, err)
		case tc.rule == "level" && (!errors.As(err, &le) || le.Got != 1 || !errors.Is(err, providers.ErrLevelNotReached)):
			t.Errorf("%s: %v, want a level error", tc.name, err)
		case tc.rule != "" && tc.rule != "level" && ruleOf(err) != tc.rule:
			t.Errorf("%s: %v, want rule %s", tc.name, err, tc.rule)
		}
	}
}

// A non-success status carries the profile's error codes: a code the profile defines maps to
// its sentinel, one it does not is a plain denial without a code.
func TestErrorCodesFollowTheProfile(t *testing.T) {
	for _, tc := range []struct {
		name string
		prof Profile
		msg  string
		nr   string
		want error
	}{
		{"spid-like nr25", spidLike(), "ErrorCode nr25", "nr25", providers.ErrCancelled},
		{"spid-like nr22 spelt loosely", spidLike(), "errorcode NR22", "nr22", providers.ErrDenied},
		{"spid-like unknown code", spidLike(), "ErrorCode nr99", "", providers.ErrDenied},
		{"cie-like has no codes", cieLike(), "ErrorCode nr25", "", providers.ErrDenied},
	} {
		e := newEngine(t, tc.prof)
		p := e.start(t, 2, "minimum")
		params := e.params(p)
		params.StatusCode, params.SubStatus, params.StatusMessage = samlx.StatusResponder, samlx.StatusAuthnFailed, tc.msg
		edit := withoutResponseIssuerFormat
		if tc.prof.ResponseIssuer != IssuerFormatAbsent {
			edit = nil
		}
		_, err := e.consume(t, p, e.response(t, params, edit))
		var se *StatusError
		if !errors.As(err, &se) || se.NR != tc.nr || !errors.Is(err, tc.want) || !strings.HasPrefix(err.Error(), tc.prof.Name+": ") {
			t.Errorf("%s: %v", tc.name, err)
		}
		if _, err := e.sp.PeekRequest(context.Background(), p.RelayState); err != nil {
			t.Errorf("%s: an unsigned status used the request up", tc.name)
		}
	}
}

// Consume uses the request up only for a response that validated and that the profile
// accepted, records the assertion against replay in the profile's own namespace, and audits
// under the profile's name.
func TestConsumeUsesTheRequestOnlyForAnAcceptedResponse(t *testing.T) {
	e := newEngine(t, cieLike())
	p := e.start(t, 2, "minimum")
	raw := e.response(t, e.params(p), withoutResponseIssuerFormat)
	ctx := context.Background()
	rec, err := e.sp.PeekRequest(ctx, p.RelayState)
	if err != nil {
		t.Fatal(err)
	}
	refused := errors.New("not an identity of this federation")
	if _, err := e.sp.Consume(ctx, p.RelayState, rec, raw, func(*Assertion, *IdP) error { return refused }); !errors.Is(err, refused) {
		t.Fatalf("accept refused: %v", err)
	}
	if _, err := e.sp.PeekRequest(ctx, p.RelayState); err != nil {
		t.Fatal("a response the profile refused used the request up")
	}
	var seen *Assertion
	res, err := e.sp.Consume(ctx, p.RelayState, rec, raw, func(a *Assertion, idp *IdP) error {
		if idp.EntityID != demoIdP {
			return errors.New("wrong idp")
		}
		seen = a
		return nil
	})
	if err != nil || res != seen || res.NameID != "_nameid1" || res.SessionIndex != "_session1" {
		t.Fatalf("accepted: %+v %v", res, err)
	}
	if _, err := e.sp.PeekRequest(ctx, p.RelayState); !errors.Is(err, providers.ErrLoginExpired) {
		t.Fatalf("the request is still pending: %v", err)
	}
	if _, err := e.sp.deps.Store.Get(ctx, "cielike:req:"+p.RelayState); err == nil {
		t.Fatal("the record is still in the store")
	}

	// The same assertion answering a new request is a replay.
	p2 := e.start(t, 2, "minimum")
	params := e.params(p2)
	params.AssertionID = res.AssertionID
	_, err = e.consume(t, p2, e.response(t, params, withoutResponseIssuerFormat))
	if ruleOf(err) != "replay" || !strings.HasPrefix(err.Error(), "cielike: replay: ") {
		t.Fatalf("replayed assertion ID: %v", err)
	}
	if strings.Join(e.events, ",") != "cielike.authn_request,cielike.authn_request" {
		t.Fatalf("audit events %v", e.events)
	}
}
