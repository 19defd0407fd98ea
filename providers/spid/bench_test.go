package spid

import (
	"context"
	"encoding/xml"
	"net/url"
	"testing"
	"time"

	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/inps/sportello/internal/loa"
)

// benchResponse is one response signed both ways (Response and Assertion) and what it answers.
func benchResponse(b *testing.B) (*env, []byte, *expectation) {
	e := newEnv(b)
	p := e.start(b, "bench", loa.SpidL2, "")
	raw := e.build(b, p, hostile{signResponse: true})
	idp, ok := e.sp.registry.Lookup(context.Background(), e.idps["demo"].EntityID())
	if !ok {
		b.Fatal("idp not loaded")
	}
	ex := &expectation{RequestID: p.RequestID, RequestIssued: t0, IdP: idp, ACSURL: e.sp.sp.ACSURL,
		SPEntityID: e.sp.sp.EntityID, Level: 2, Comparison: "minimum", Now: t0, Skew: time.Minute}
	return e, raw, ex
}

// BenchmarkValidateResponse is the full SPID validation (structure, both signatures, every rule).
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
	md, err := e.idps["demo"].Metadata()
	if err != nil {
		b.Fatal(err)
	}
	var ed saml.EntityDescriptor
	if err := xml.Unmarshal(md, &ed); err != nil {
		b.Fatal(err)
	}
	acs, _ := url.Parse(e.sp.sp.ACSURL)
	mdURL, _ := url.Parse(e.sp.sp.EntityID)
	sp := saml.ServiceProvider{EntityID: e.sp.sp.EntityID, AcsURL: *acs, MetadataURL: *mdURL, IDPMetadata: &ed}
	oldNow, oldClock := saml.TimeNow, saml.Clock
	saml.TimeNow, saml.Clock = func() time.Time { return t0 }, dsig.NewFakeClockAt(t0)
	defer func() { saml.TimeNow, saml.Clock = oldNow, oldClock }()
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

// BenchmarkFullLoginThroughDevIdP is one whole login per iteration over HTTP: AuthnRequest
// (redirect, query signature), the dev IdP's form and signed Response, the ACS validation.
func BenchmarkFullLoginThroughDevIdP(b *testing.B) {
	e := newEnv(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		status, body := e.login(b, "demo", "bench", loa.SpidL2, creds("RSSMRA80A01H501U"))
		if status != 200 {
			b.Fatalf("HTTP %d %s", status, body)
		}
	}
}
