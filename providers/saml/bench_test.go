package saml

import (
	"context"
	"encoding/xml"
	"net/url"
	"testing"
	"time"

	crewjam "github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"
)

// benchResponse is one response signed both ways (Response and Assertion) and what it answers.
func benchResponse(b *testing.B) (*engine, []byte, *expectation) {
	e := newEngine(b, spidLike())
	p := e.start(b, 2, "minimum")
	params := e.params(p)
	// The attributes of the SPID provider's own tests, so the figures compare with theirs.
	params.Attributes = [][2]string{
		{"spidCode", "DEVS000000001"}, {"name", "Mario"}, {"familyName", "Rossi"},
		{"fiscalNumber", "TINIT-RSSMRA80A01H501U"}, {"dateOfBirth", "1980-01-01"},
	}
	raw := e.response(b, params, nil)
	idp, ok := e.sp.Registry().Lookup(context.Background(), demoIdP)
	if !ok {
		b.Fatal("idp not loaded")
	}
	ex := &expectation{Profile: e.sp.Profile(), RequestID: p.RequestID, RequestIssued: t0, IdP: idp, ACSURL: e.sp.cfg.ACSURL,
		SPEntityID: e.sp.cfg.EntityID, Level: 2, Comparison: "minimum", Now: t0, Skew: time.Minute}
	return e, raw, ex
}

// BenchmarkValidateResponse is the full validation (structure, both signatures, every rule)
// under SPID's knobs.
func BenchmarkValidateResponse(b *testing.B) {
	_, raw, ex := benchResponse(b)
	if _, err := validateResponse(raw, ex); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := validateResponse(raw, ex); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCrewjamParseXMLResponse is crewjam/saml's ParseXMLResponse on the same response.
func BenchmarkCrewjamParseXMLResponse(b *testing.B) {
	e, raw, ex := benchResponse(b)
	md := devMetadata(b, "demo", "dev-idp-demo")
	var ed crewjam.EntityDescriptor
	if err := xml.Unmarshal(md, &ed); err != nil {
		b.Fatal(err)
	}
	acs, _ := url.Parse(e.sp.cfg.ACSURL)
	mdURL, _ := url.Parse(e.sp.cfg.EntityID)
	sp := crewjam.ServiceProvider{EntityID: e.sp.cfg.EntityID, AcsURL: *acs, MetadataURL: *mdURL, IDPMetadata: &ed}
	oldNow, oldClock := crewjam.TimeNow, crewjam.Clock
	crewjam.TimeNow, crewjam.Clock = func() time.Time { return t0 }, dsig.NewFakeClockAt(t0)
	defer func() { crewjam.TimeNow, crewjam.Clock = oldNow, oldClock }()
	if _, err := sp.ParseXMLResponse(raw, []string{ex.RequestID}, *acs); err != nil {
		b.Fatalf("crewjam refused the response: %v", err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := sp.ParseXMLResponse(raw, []string{ex.RequestID}, *acs); err != nil {
			b.Fatal(err)
		}
	}
}
