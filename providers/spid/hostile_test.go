package spid

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/saml/samltest"
	"github.com/inps/sportello/providers/saml/samlx"
)

func attacker(t testing.TB) *samlx.KeyPair { return samltest.KeyPair(t, testdataDir, "attacker") }

// The hostile-response table is shared by every SAML profile (providers/saml/samltest); SPID
// is the reference: it departs from no row.
var (
	find     = samltest.Find
	setAttr  = samltest.SetAttr
	scd      = samltest.SCD
	evilCopy = samltest.EvilCopy
)

// TestHostileResponsesAreRefused runs the shared table against the SPID ACS, once per KeyInfo
// shape the IdP may sign with: each row must be refused for its own class whatever KeyInfo
// holds, so a row refused for another reason (a KeyInfo the verifier cannot handle, say)
// fails.
func TestHostileResponsesAreRefused(t *testing.T) {
	e := newEnv(t)
	samltest.RunProfile(t, e, samltest.SPID, e.clock.Now(), attacker(t))
}

// TestGoodResponseAcceptedSignedEitherWay guards the table: the same builder, unmodified,
// passes whether or not the Response is signed too, whatever KeyInfo the signatures carry (the
// certificate, an empty X509Certificate as AgID's validator signs, none).
func TestGoodResponseAcceptedSignedEitherWay(t *testing.T) {
	samltest.RunGood(t, newEnv(t), func(id *providers.Identity) bool { return id.FiscalNumber == "RSSMRA80A01H501U" })
}

func TestExactComparisonRefusesAHigherLevel(t *testing.T) {
	e := newEnv(t)
	p := e.start(t, "exact", loa.SpidL2, "exact")
	_, o := e.post(t, p.RelayState, e.build(t, p, hostile{Params: func(rp *samlx.ResponseParams) { rp.Level = 3 }}))
	if !errors.Is(o.Err, providers.ErrLevelNotReached) {
		t.Fatalf("outcome %+v", o)
	}
	p = e.start(t, "minimum", loa.SpidL2, "minimum")
	_, o = e.post(t, p.RelayState, e.build(t, p, hostile{Params: func(rp *samlx.ResponseParams) { rp.Level = 3 }}))
	if o.Identity == nil || o.Identity.ACR != loa.SpidL3 {
		t.Fatalf("minimum: higher level must be accepted: %+v", o)
	}
}

func TestReplayedResponseIsRefusedWithoutALogin(t *testing.T) {
	e := newEnv(t)
	p := e.start(t, "replay", loa.SpidL2, "")
	xml := e.build(t, p, hostile{})
	if _, o := e.post(t, p.RelayState, xml); o.Identity == nil {
		t.Fatalf("first delivery refused: %v", o.Err)
	}
	status, o := e.post(t, p.RelayState, xml)
	if status != http.StatusForbidden || o.Identity != nil || o.LoginID != "" || !errors.Is(o.Err, providers.ErrLoginExpired) {
		t.Fatalf("replay: %d %+v", status, o)
	}
}

func TestReplayedAssertionIDIsRefusedForANewRequest(t *testing.T) {
	e := newEnv(t)
	p1 := e.start(t, "first", loa.SpidL2, "")
	if _, o := e.post(t, p1.RelayState, e.build(t, p1, hostile{})); o.Identity == nil {
		t.Fatalf("first refused: %v", o.Err)
	}
	p2 := e.start(t, "second", loa.SpidL2, "")
	_, o := e.post(t, p2.RelayState, e.build(t, p2, hostile{Params: func(rp *samlx.ResponseParams) {
		rp.AssertionID = "_assert" + p1.RequestID[1:12]
	}}))
	var re *RejectError
	if o.Identity != nil || !errors.As(o.Err, &re) || re.Rule != "replay" {
		t.Fatalf("outcome %+v", o)
	}
}

func TestUnsolicitedResponseIsRefused(t *testing.T) {
	e := newEnv(t)
	p := e.start(t, "x", loa.SpidL2, "")
	xml := e.build(t, p, hostile{})
	for _, rs := range []string{"", "unknown-relay-state"} {
		status, o := e.post(t, rs, xml)
		if status != http.StatusForbidden || o.LoginID != "" || !errors.Is(o.Err, providers.ErrLoginExpired) {
			t.Fatalf("RelayState %q: %d %+v", rs, status, o)
		}
	}
}

func TestResponseAfterTheRequestExpiredIsRefused(t *testing.T) {
	e := newEnv(t)
	p := e.start(t, "late", loa.SpidL2, "")
	e.clock.Advance(16 * time.Minute)
	_, o := e.post(t, p.RelayState, e.build(t, p, hostile{}))
	if o.Identity != nil || !errors.Is(o.Err, providers.ErrLoginExpired) {
		t.Fatalf("outcome %+v", o)
	}
}

func TestNamesThatDoNotRoundTripAreRefused(t *testing.T) {
	e := newEnv(t)
	for name, edit := range map[string]func(string) string{
		"element with two colons":   func(s string) string { return strings.Replace(s, "<saml:Issuer", "<a:b:c/><saml:Issuer", 1) },
		"attribute with two colons": func(s string) string { return strings.Replace(s, "<saml:Issuer", `<saml:Issuer a:b:c="x"`, 1) },
		"empty namespace prefix":    func(s string) string { return strings.Replace(s, "<saml:Issuer", `<saml:Issuer xmlns:x=""`, 1) },
	} {
		p := e.start(t, name, loa.SpidL2, "")
		_, o := e.post(t, p.RelayState, e.build(t, p, hostile{Raw: edit}))
		var re *RejectError
		if o.Identity != nil || !errors.As(o.Err, &re) || (re.Rule != "xml.name" && re.Rule != "xml.parse") {
			t.Errorf("%s: %+v", name, o)
		}
	}
}
