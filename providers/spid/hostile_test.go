package spid

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/saml/samlx"
)

func attacker(t testing.TB) *samlx.KeyPair {
	kp, err := samlx.LoadKeyPair(testdataDir+"attacker.key", testdataDir+"attacker.crt")
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

// subjectData returns the SubjectConfirmationData of an unsigned assertion.
func scd(a *etree.Element) *etree.Element {
	return a.FindElement("./saml:Subject/saml:SubjectConfirmation/saml:SubjectConfirmationData")
}

func fiscal(v string) func(p *samlx.ResponseParams) {
	return func(p *samlx.ResponseParams) {
		for i := range p.Attributes {
			if p.Attributes[i][0] == "fiscalNumber" {
				p.Attributes[i][1] = v
			}
		}
	}
}

// hostileRows has one row per Response and Assertion rule of AgID's SPID technical rules. Every row
// is properly signed by the IdP's metadata key unless the row is about the signature.
func hostileRows(t testing.TB, e *env) []hostileRow {
	at := attacker(t)
	now := e.clock.Now()
	return []hostileRow{
		// Response.
		{"response ID missing", hostile{preSign: func(r, a *etree.Element) { r.RemoveAttr("ID") }}, "response.id", nil},
		{"response Version not 2.0", hostile{preSign: func(r, a *etree.Element) { setAttr(r, "Version", "1.1") }}, "response.version", nil},
		{"response IssueInstant not a dateTime", hostile{preSign: func(r, a *etree.Element) { setAttr(r, "IssueInstant", "yesterday") }}, "response.issue_instant", nil},
		{"response IssueInstant not UTC", hostile{preSign: func(r, a *etree.Element) { setAttr(r, "IssueInstant", "2026-03-02T11:00:00+01:00") }}, "response.issue_instant", nil},
		{"response IssueInstant before the request", hostile{preSign: func(r, a *etree.Element) { setAttr(r, "IssueInstant", samlx.FormatTime(now.Add(-10*time.Minute))) }}, "response.issue_instant", nil},
		{"response IssueInstant in the future beyond skew", hostile{preSign: func(r, a *etree.Element) { setAttr(r, "IssueInstant", samlx.FormatTime(now.Add(5*time.Minute))) }}, "response.issue_instant", nil},
		{"response InResponseTo missing", hostile{preSign: func(r, a *etree.Element) { r.RemoveAttr("InResponseTo") }}, "response.in_response_to", nil},
		{"response InResponseTo another request", hostile{preSign: func(r, a *etree.Element) { setAttr(r, "InResponseTo", "_other") }}, "response.in_response_to", nil},
		{"response Destination missing", hostile{preSign: func(r, a *etree.Element) { r.RemoveAttr("Destination") }}, "response.destination", nil},
		{"response Destination another URL", hostile{preSign: func(r, a *etree.Element) { setAttr(r, "Destination", "https://evil.example/acs") }}, "response.destination", nil},
		{"response Status missing", hostile{preSign: func(r, a *etree.Element) { r.RemoveChild(r.FindElement("./samlp:Status")) }}, "response.children", nil},
		{"response StatusCode missing", hostile{preSign: func(r, a *etree.Element) {
			st := r.FindElement("./samlp:Status")
			st.RemoveChild(st.FindElement("./samlp:StatusCode"))
		}}, "status.code", nil},
		{"response Issuer missing", hostile{preSign: func(r, a *etree.Element) { r.RemoveChild(r.FindElement("./saml:Issuer")) }}, "response.children", nil},
		{"response Issuer another entity", hostile{preSign: func(r, a *etree.Element) { r.FindElement("./saml:Issuer").SetText("https://evil.example") }}, "response.issuer", nil},
		{"response Issuer Format not entity", hostile{preSign: func(r, a *etree.Element) { setAttr(r.FindElement("./saml:Issuer"), "Format", samlx.NameIDTransient) }}, "response.issuer", nil},
		{"response signed by a key not in the metadata", hostile{signResponse: true, responseKey: at}, "response.signature.foreign_key", nil},
		{"response signature value tampered", hostile{signResponse: true, postSign: func(t testing.TB, d *etree.Document) {
			sv := find(t, d.Root(), "./ds:Signature/ds:SignatureValue")
			sv.SetText("AAAA" + sv.Text()[4:])
		}}, "response.signature.invalid", nil},
		{"response content changed after signing", hostile{signResponse: true, postSign: func(t testing.TB, d *etree.Document) {
			d.Root().CreateAttr("Consent", "urn:oasis:names:tc:SAML:2.0:consent:obtained")
		}}, "response.signature.invalid", nil},
		{"response is not a samlp:Response", hostile{preSign: func(r, a *etree.Element) { r.Tag = "LogoutResponse" }}, "response.root", nil},
		{"non-success status without SPID code is denied", hostile{params: func(p *samlx.ResponseParams) {
			p.StatusCode, p.SubStatus = samlx.StatusRequester, samlx.StatusRequestDenied
		}}, "idp_status", providers.ErrDenied},
		{"status nr22 consent denied", hostile{params: func(p *samlx.ResponseParams) {
			p.StatusCode, p.SubStatus, p.StatusMessage = samlx.StatusResponder, samlx.StatusAuthnFailed, "ErrorCode nr22"
		}}, "idp_status.nr22", providers.ErrDenied},
		{"status nr23 suspended", hostile{params: func(p *samlx.ResponseParams) {
			p.StatusCode, p.StatusMessage = samlx.StatusResponder, "ErrorCode nr23"
		}}, "idp_status.nr23", providers.ErrDenied},
		{"status nr20 no credentials of the level", hostile{params: func(p *samlx.ResponseParams) {
			p.StatusCode, p.StatusMessage = samlx.StatusResponder, "ErrorCode nr20"
		}}, "idp_status.nr20", providers.ErrLevelNotReached},
		{"status nr21 timeout", hostile{params: func(p *samlx.ResponseParams) {
			p.StatusCode, p.StatusMessage = samlx.StatusResponder, "ErrorCode nr21"
		}}, "idp_status.nr21", providers.ErrLoginExpired},

		// Assertion.
		{"success without an Assertion", hostile{preSign: func(r, a *etree.Element) {}, postSign: func(t testing.TB, d *etree.Document) {
			d.Root().RemoveChild(find(t, d.Root(), "./saml:Assertion"))
		}}, "assertion.missing", nil},
		{"assertion unsigned inside a signed response", hostile{unsignedA: true, signResponse: true}, "assertion.signature.missing", nil},
		{"assertion signed by a key not in the metadata", hostile{assertionKey: at, signResponse: true}, "assertion.signature.foreign_key", nil},
		{"assertion NameID changed after signing", hostile{postSign: func(t testing.TB, d *etree.Document) {
			find(t, d.Root(), "./saml:Assertion/saml:Subject/saml:NameID").SetText("_other")
		}}, "assertion.signature.invalid", nil},
		{"assertion fiscal code changed after signing", hostile{postSign: func(t testing.TB, d *etree.Document) {
			for _, v := range d.Root().FindElements(".//saml:AttributeValue") {
				if strings.HasPrefix(v.Text(), "TINIT-") {
					v.SetText("TINIT-BNCLRA85M41F205C")
				}
			}
		}}, "assertion.signature.invalid", nil},
		{"assertion signature with an XSLT transform", hostile{postSign: func(t testing.TB, d *etree.Document) {
			tr := find(t, d.Root(), "./saml:Assertion/ds:Signature/ds:SignedInfo/ds:Reference/ds:Transforms")
			x := tr.CreateElement("ds:Transform")
			x.CreateAttr("Algorithm", "http://www.w3.org/TR/1999/REC-xslt-19991116")
		}}, "assertion.signature.algorithm", nil},
		{"assertion signature with sha1", hostile{postSign: func(t testing.TB, d *etree.Document) {
			setAttr(find(t, d.Root(), "./saml:Assertion/ds:Signature/ds:SignedInfo/ds:SignatureMethod"), "Algorithm", "http://www.w3.org/2000/09/xmldsig#rsa-sha1")
		}}, "assertion.signature.algorithm", nil},
		{"assertion signature referencing another element", hostile{postSign: func(t testing.TB, d *etree.Document) {
			setAttr(find(t, d.Root(), "./saml:Assertion/ds:Signature/ds:SignedInfo/ds:Reference"), "URI", "")
		}}, "assertion.signature.reference", nil},
		{"assertion signature misplaced inside Subject", hostile{postSign: func(t testing.TB, d *etree.Document) {
			a := find(t, d.Root(), "./saml:Assertion")
			sig := find(t, a, "./ds:Signature")
			a.RemoveChild(sig)
			find(t, a, "./saml:Subject").AddChild(sig)
		}}, "assertion.signature.missing", nil},
		{"assertion ID missing", hostile{postSign: func(t testing.TB, d *etree.Document) { find(t, d.Root(), "./saml:Assertion").RemoveAttr("ID") }}, "assertion.signature.reference", nil},
		{"assertion Version not 2.0", hostile{preSign: func(r, a *etree.Element) { setAttr(a, "Version", "1.1") }}, "assertion.version", nil},
		{"assertion IssueInstant in the future", hostile{preSign: func(r, a *etree.Element) { setAttr(a, "IssueInstant", samlx.FormatTime(now.Add(3*time.Minute))) }}, "assertion.issue_instant", nil},
		{"assertion IssueInstant before the request", hostile{preSign: func(r, a *etree.Element) { setAttr(a, "IssueInstant", samlx.FormatTime(now.Add(-time.Hour))) }}, "assertion.issue_instant", nil},
		{"assertion Issuer another entity", hostile{preSign: func(r, a *etree.Element) { a.FindElement("./saml:Issuer").SetText("https://evil.example") }}, "assertion.issuer", nil},
		{"assertion Issuer Format missing", hostile{preSign: func(r, a *etree.Element) { a.FindElement("./saml:Issuer").RemoveAttr("Format") }}, "assertion.issuer", nil},
		{"assertion Issuer missing", hostile{preSign: func(r, a *etree.Element) { a.RemoveChild(a.FindElement("./saml:Issuer")) }}, "assertion.children", nil},
		{"assertion Issuer Format not entity", hostile{preSign: func(r, a *etree.Element) { setAttr(a.FindElement("./saml:Issuer"), "Format", samlx.NameIDTransient) }}, "assertion.issuer", nil},
		{"assertion Subject missing", hostile{preSign: func(r, a *etree.Element) { a.RemoveChild(a.FindElement("./saml:Subject")) }}, "assertion.children", nil},
		{"NameID missing", hostile{preSign: func(r, a *etree.Element) {
			s := a.FindElement("./saml:Subject")
			s.RemoveChild(s.FindElement("./saml:NameID"))
		}}, "subject.children", nil},
		{"NameID Format not transient", hostile{preSign: func(r, a *etree.Element) {
			setAttr(a.FindElement("./saml:Subject/saml:NameID"), "Format", "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent")
		}}, "subject.name_id_format", nil},
		{"NameID NameQualifier missing", hostile{preSign: func(r, a *etree.Element) { a.FindElement("./saml:Subject/saml:NameID").RemoveAttr("NameQualifier") }}, "subject.name_qualifier", nil},
		{"SubjectConfirmation Method not bearer", hostile{preSign: func(r, a *etree.Element) {
			setAttr(a.FindElement("./saml:Subject/saml:SubjectConfirmation"), "Method", "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key")
		}}, "subject.confirmation_method", nil},
		{"SubjectConfirmationData missing", hostile{preSign: func(r, a *etree.Element) {
			sc := a.FindElement("./saml:Subject/saml:SubjectConfirmation")
			sc.RemoveChild(scd(a))
		}}, "subject.confirmation_data", nil},
		{"SubjectConfirmationData Recipient another URL", hostile{preSign: func(r, a *etree.Element) { setAttr(scd(a), "Recipient", "https://evil.example/acs") }}, "subject.recipient", nil},
		{"SubjectConfirmationData Recipient missing", hostile{preSign: func(r, a *etree.Element) { scd(a).RemoveAttr("Recipient") }}, "subject.recipient", nil},
		{"SubjectConfirmationData InResponseTo another request", hostile{preSign: func(r, a *etree.Element) { setAttr(scd(a), "InResponseTo", "_other") }}, "subject.in_response_to", nil},
		{"SubjectConfirmationData NotOnOrAfter missing", hostile{preSign: func(r, a *etree.Element) { scd(a).RemoveAttr("NotOnOrAfter") }}, "subject.not_on_or_after", nil},
		{"SubjectConfirmationData NotOnOrAfter malformed", hostile{preSign: func(r, a *etree.Element) { setAttr(scd(a), "NotOnOrAfter", "tomorrow") }}, "subject.not_on_or_after", nil},
		{"SubjectConfirmationData NotOnOrAfter past", hostile{preSign: func(r, a *etree.Element) { setAttr(scd(a), "NotOnOrAfter", samlx.FormatTime(now.Add(-2*time.Minute))) }}, "subject.not_on_or_after", nil},
		{"Conditions missing", hostile{preSign: func(r, a *etree.Element) { a.RemoveChild(a.FindElement("./saml:Conditions")) }}, "assertion.children", nil},
		{"Conditions NotBefore missing", hostile{preSign: func(r, a *etree.Element) { a.FindElement("./saml:Conditions").RemoveAttr("NotBefore") }}, "conditions.not_before", nil},
		{"Conditions NotBefore in the future", hostile{preSign: func(r, a *etree.Element) {
			setAttr(a.FindElement("./saml:Conditions"), "NotBefore", samlx.FormatTime(now.Add(3*time.Minute)))
		}}, "conditions.not_before", nil},
		{"Conditions NotOnOrAfter missing", hostile{preSign: func(r, a *etree.Element) { a.FindElement("./saml:Conditions").RemoveAttr("NotOnOrAfter") }}, "conditions.not_on_or_after", nil},
		{"Conditions NotOnOrAfter past", hostile{preSign: func(r, a *etree.Element) {
			setAttr(a.FindElement("./saml:Conditions"), "NotOnOrAfter", samlx.FormatTime(now.Add(-2*time.Minute)))
		}}, "conditions.not_on_or_after", nil},
		{"AudienceRestriction missing", hostile{preSign: func(r, a *etree.Element) {
			c := a.FindElement("./saml:Conditions")
			c.RemoveChild(c.FindElement("./saml:AudienceRestriction"))
		}}, "conditions.children", nil},
		{"Audience another SP", hostile{params: func(p *samlx.ResponseParams) { p.Audience = "https://other-sp.example" }}, "conditions.audience", nil},
		{"AuthnStatement missing", hostile{preSign: func(r, a *etree.Element) { a.RemoveChild(a.FindElement("./saml:AuthnStatement")) }}, "assertion.children", nil},
		{"AuthnContextClassRef missing", hostile{preSign: func(r, a *etree.Element) {
			c := a.FindElement("./saml:AuthnStatement/saml:AuthnContext")
			c.RemoveChild(c.FindElement("./saml:AuthnContextClassRef"))
		}}, "authn.context", nil},
		{"AuthnContextClassRef in the old urn:oasis form", hostile{preSign: func(r, a *etree.Element) {
			a.FindElement("./saml:AuthnStatement/saml:AuthnContext/saml:AuthnContextClassRef").SetText("urn:oasis:names:tc:SAML:2.0:ac:classes:SpidL2")
		}}, "authn.context", nil},
		{"level lower than asked", hostile{params: func(p *samlx.ResponseParams) { p.Level = 1 }}, "level", providers.ErrLevelNotReached},
		{"AttributeStatement empty", hostile{params: func(p *samlx.ResponseParams) { p.Attributes = nil }, preSign: func(r, a *etree.Element) { a.CreateElement("saml:AttributeStatement") }}, "attributes.empty", nil},
		{"attribute repeated", hostile{params: func(p *samlx.ResponseParams) { p.Attributes = append(p.Attributes, [2]string{"name", "Evil"}) }}, "attributes.duplicate", nil},
		{"fiscalNumber missing", hostile{params: func(p *samlx.ResponseParams) { p.Attributes = p.Attributes[:3] }}, "attributes.fiscal_number", nil},
		{"fiscalNumber without TINIT- prefix", hostile{params: fiscal("RSSMRA80A01H501U")}, "attributes.fiscal_number", nil},
		{"fiscalNumber with a wrong check letter", hostile{params: fiscal("TINIT-RSSMRA80A01H501X")}, "attributes.fiscal_number", nil},
		{"dateOfBirth not an xs:date", hostile{params: func(p *samlx.ResponseParams) { p.Attributes[4][1] = "01/01/1980" }}, "attributes.date_of_birth", nil},
		{"unknown element in the Assertion (Advice)", hostile{preSign: func(r, a *etree.Element) {
			a.InsertChildAt(a.FindElement("./saml:Conditions").Index()+1, etree.NewElement("saml:Advice"))
		}}, "assertion.children", nil},
		{"EncryptedAssertion instead of the Assertion", hostile{postSign: func(t testing.TB, d *etree.Document) {
			d.Root().RemoveChild(find(t, d.Root(), "./saml:Assertion"))
			d.Root().CreateElement("saml:EncryptedAssertion")
		}}, "response.children", nil},
		{"EncryptedAssertion beside the Assertion", hostile{postSign: func(t testing.TB, d *etree.Document) { d.Root().CreateElement("saml:EncryptedAssertion") }}, "assertion.count", nil},
		{"two assertions, the second unsigned", hostile{postSign: func(t testing.TB, d *etree.Document) {
			a2 := find(t, d.Root(), "./saml:Assertion").Copy()
			a2.RemoveChild(find(t, a2, "./ds:Signature"))
			a2.CreateAttr("ID", "_second")
			d.Root().AddChild(a2)
		}}, "assertion.count", nil},
		{"two signed assertions", hostile{postSign: func(t testing.TB, d *etree.Document) {
			d.Root().AddChild(find(t, d.Root(), "./saml:Assertion").Copy())
		}}, "xml.duplicate_id", nil},
		{"comment injected in NameID", hostile{postSign: func(t testing.TB, d *etree.Document) {
			n := find(t, d.Root(), "./saml:Assertion/saml:Subject/saml:NameID")
			txt := n.Text()
			n.SetText(txt[:3])
			n.CreateComment("x")
			n.CreateText(txt[3:])
		}}, "xml.comment", nil},
		{"comment injected in fiscalNumber", hostile{raw: func(s string) string {
			return strings.Replace(s, "TINIT-RSSMRA80A01H501U", "TINIT-RSSMRA80A01H501U<!---->X", 1)
		}}, "xml.comment", nil},
		{"DOCTYPE with an entity", hostile{raw: func(s string) string {
			return `<!DOCTYPE r [<!ENTITY x "y">]>` + s
		}}, "xml.directive", nil},
		{"processing instruction inside", hostile{raw: func(s string) string {
			return strings.Replace(s, "<saml:Issuer", "<?evil x?><saml:Issuer", 1)
		}}, "xml.procinst", nil},
		{"not XML", hostile{raw: func(s string) string { return s[:len(s)/2] }}, "xml.parse", nil},
	}
}

// TestHostileResponsesAreRefused runs every hostile row three times, once per KeyInfo shape the
// IdP may sign with (its certificate, an empty X509Certificate as AgID's validator sends, no
// KeyInfo): each row must be refused for its own class whatever KeyInfo holds, so a row refused
// for another reason (a KeyInfo the verifier cannot handle, say) fails.
func TestHostileResponsesAreRefused(t *testing.T) {
	e := newEnv(t)
	rows := append(append(hostileRows(t, e), xswRows(t)...), xmlRows(t)...)
	for _, shape := range samlx.KeyInfoShapes {
		t.Run("keyinfo="+shape.String(), func(t *testing.T) {
			for _, row := range rows {
				t.Run(row.name, func(t *testing.T) {
					h := row.h
					h.keyInfo = shape
					p := e.start(t, "login-"+row.name, loa.SpidL2, "")
					status, o := e.post(t, p.RelayState, e.build(t, p, h))
					if o.Identity != nil || o.Err == nil {
						t.Fatalf("accepted: %+v", o)
					}
					if status != http.StatusForbidden || o.LoginID != "login-"+row.name {
						t.Fatalf("status %d, login %q", status, o.LoginID)
					}
					want := row.classFor(shape)
					if got := classOf(o.Err); got != want {
						t.Fatalf("refused as %s (%v), want %s", got, o.Err, want)
					}
					var ue *providers.UserError
					if !errors.As(o.Err, &ue) || ue.Code != userCodeFor(want) {
						t.Fatalf("user error %v, want code %s", o.Err, userCodeFor(want))
					}
					if row.want != nil && !errors.Is(o.Err, row.want) {
						t.Fatalf("error %v is not %v", o.Err, row.want)
					}
				})
			}
		})
	}
}

// TestGoodResponseAcceptedSignedEitherWay guards the table: the same builder, unmodified,
// passes whether or not the Response is signed too, whatever KeyInfo the signatures carry (the
// certificate, an empty X509Certificate as AgID's validator signs, none).
func TestGoodResponseAcceptedSignedEitherWay(t *testing.T) {
	e := newEnv(t)
	for _, shape := range samlx.KeyInfoShapes {
		for _, signResp := range []bool{false, true} {
			p := e.start(t, "good", loa.SpidL2, "")
			status, o := e.post(t, p.RelayState, e.build(t, p, hostile{signResponse: signResp, keyInfo: shape}))
			if status != http.StatusOK || o.Identity == nil || o.Identity.FiscalNumber != "RSSMRA80A01H501U" {
				t.Fatalf("keyinfo=%s signResponse=%v: %d %+v", shape, signResp, status, o)
			}
		}
	}
}

func TestExactComparisonRefusesAHigherLevel(t *testing.T) {
	e := newEnv(t)
	p := e.start(t, "exact", loa.SpidL2, "exact")
	_, o := e.post(t, p.RelayState, e.build(t, p, hostile{params: func(rp *samlx.ResponseParams) { rp.Level = 3 }}))
	if !errors.Is(o.Err, providers.ErrLevelNotReached) {
		t.Fatalf("outcome %+v", o)
	}
	p = e.start(t, "minimum", loa.SpidL2, "minimum")
	_, o = e.post(t, p.RelayState, e.build(t, p, hostile{params: func(rp *samlx.ResponseParams) { rp.Level = 3 }}))
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
	_, o := e.post(t, p2.RelayState, e.build(t, p2, hostile{params: func(rp *samlx.ResponseParams) {
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
		_, o := e.post(t, p.RelayState, e.build(t, p, hostile{raw: edit}))
		var re *RejectError
		if o.Identity != nil || !errors.As(o.Err, &re) || (re.Rule != "xml.name" && re.Rule != "xml.parse") {
			t.Errorf("%s: %+v", name, o)
		}
	}
}
