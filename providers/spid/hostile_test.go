package spid

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/spid/internal/samlx"
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

// TestHostileResponsesAreRefused has one row per rule of SPID.md's Response and Assertion
// sections. Every row is properly signed by the IdP's metadata key unless the row is about
// the signature; each asserts the refusal, its error class and the rule that fired.
func TestHostileResponsesAreRefused(t *testing.T) {
	e := newEnv(t)
	at := attacker(t)
	now := e.clock.Now()
	rows := []struct {
		name  string
		h     hostile
		rules []string // accepted RejectError rules; nil: the row checks want instead
		want  error
	}{
		// Response.
		{"response ID missing", hostile{preSign: func(r, a *etree.Element) { r.RemoveAttr("ID") }}, []string{"response.id"}, nil},
		{"response Version not 2.0", hostile{preSign: func(r, a *etree.Element) { setAttr(r, "Version", "1.1") }}, []string{"response.version"}, nil},
		{"response IssueInstant not a dateTime", hostile{preSign: func(r, a *etree.Element) { setAttr(r, "IssueInstant", "yesterday") }}, []string{"response.issue_instant"}, nil},
		{"response IssueInstant not UTC", hostile{preSign: func(r, a *etree.Element) { setAttr(r, "IssueInstant", "2026-03-02T11:00:00+01:00") }}, []string{"response.issue_instant"}, nil},
		{"response IssueInstant before the request", hostile{preSign: func(r, a *etree.Element) { setAttr(r, "IssueInstant", samlx.FormatTime(now.Add(-10*time.Minute))) }}, []string{"response.issue_instant"}, nil},
		{"response IssueInstant in the future beyond skew", hostile{preSign: func(r, a *etree.Element) { setAttr(r, "IssueInstant", samlx.FormatTime(now.Add(5*time.Minute))) }}, []string{"response.issue_instant"}, nil},
		{"response InResponseTo missing", hostile{preSign: func(r, a *etree.Element) { r.RemoveAttr("InResponseTo") }}, []string{"response.in_response_to"}, nil},
		{"response InResponseTo another request", hostile{preSign: func(r, a *etree.Element) { setAttr(r, "InResponseTo", "_other") }}, []string{"response.in_response_to"}, nil},
		{"response Destination missing", hostile{preSign: func(r, a *etree.Element) { r.RemoveAttr("Destination") }}, []string{"response.destination"}, nil},
		{"response Destination another URL", hostile{preSign: func(r, a *etree.Element) { setAttr(r, "Destination", "https://evil.example/acs") }}, []string{"response.destination"}, nil},
		{"response Status missing", hostile{preSign: func(r, a *etree.Element) { r.RemoveChild(r.FindElement("./samlp:Status")) }}, []string{"response.children"}, nil},
		{"response StatusCode missing", hostile{preSign: func(r, a *etree.Element) {
			st := r.FindElement("./samlp:Status")
			st.RemoveChild(st.FindElement("./samlp:StatusCode"))
		}}, []string{"status.code"}, nil},
		{"response Issuer missing", hostile{preSign: func(r, a *etree.Element) { r.RemoveChild(r.FindElement("./saml:Issuer")) }}, []string{"response.children"}, nil},
		{"response Issuer another entity", hostile{preSign: func(r, a *etree.Element) { r.FindElement("./saml:Issuer").SetText("https://evil.example") }}, []string{"response.issuer"}, nil},
		{"response Issuer Format not entity", hostile{preSign: func(r, a *etree.Element) { setAttr(r.FindElement("./saml:Issuer"), "Format", samlx.NameIDTransient) }}, []string{"response.issuer"}, nil},
		{"response signed by a key not in the metadata", hostile{signResponse: true, responseKey: at}, []string{"response.signature"}, nil},
		{"response signature value tampered", hostile{signResponse: true, postSign: func(t testing.TB, d *etree.Document) {
			sv := find(t, d.Root(), "./ds:Signature/ds:SignatureValue")
			sv.SetText("AAAA" + sv.Text()[4:])
		}}, []string{"response.signature"}, nil},
		{"response content changed after signing", hostile{signResponse: true, postSign: func(t testing.TB, d *etree.Document) {
			d.Root().CreateAttr("Consent", "urn:oasis:names:tc:SAML:2.0:consent:obtained")
		}}, []string{"response.signature"}, nil},
		{"response is not a samlp:Response", hostile{preSign: func(r, a *etree.Element) { r.Tag = "LogoutResponse" }}, []string{"response.root"}, nil},
		{"non-success status without SPID code is denied", hostile{params: func(p *samlx.ResponseParams) {
			p.StatusCode, p.SubStatus = samlx.StatusRequester, samlx.StatusRequestDenied
		}}, nil, providers.ErrDenied},
		{"status nr22 consent denied", hostile{params: func(p *samlx.ResponseParams) {
			p.StatusCode, p.SubStatus, p.StatusMessage = samlx.StatusResponder, samlx.StatusAuthnFailed, "ErrorCode nr22"
		}}, nil, providers.ErrDenied},
		{"status nr23 suspended", hostile{params: func(p *samlx.ResponseParams) {
			p.StatusCode, p.StatusMessage = samlx.StatusResponder, "ErrorCode nr23"
		}}, nil, providers.ErrDenied},
		{"status nr20 no credentials of the level", hostile{params: func(p *samlx.ResponseParams) {
			p.StatusCode, p.StatusMessage = samlx.StatusResponder, "ErrorCode nr20"
		}}, nil, providers.ErrLevelNotReached},
		{"status nr21 timeout", hostile{params: func(p *samlx.ResponseParams) {
			p.StatusCode, p.StatusMessage = samlx.StatusResponder, "ErrorCode nr21"
		}}, nil, providers.ErrLoginExpired},

		// Assertion.
		{"success without an Assertion", hostile{preSign: func(r, a *etree.Element) {}, postSign: func(t testing.TB, d *etree.Document) {
			d.Root().RemoveChild(find(t, d.Root(), "./saml:Assertion"))
		}}, []string{"assertion.missing"}, nil},
		{"assertion unsigned inside a signed response", hostile{unsignedA: true, signResponse: true}, []string{"assertion.signature"}, nil},
		{"assertion signed by a key not in the metadata", hostile{assertionKey: at, signResponse: true}, []string{"assertion.signature"}, nil},
		{"assertion NameID changed after signing", hostile{postSign: func(t testing.TB, d *etree.Document) {
			find(t, d.Root(), "./saml:Assertion/saml:Subject/saml:NameID").SetText("_other")
		}}, []string{"assertion.signature"}, nil},
		{"assertion fiscal code changed after signing", hostile{postSign: func(t testing.TB, d *etree.Document) {
			for _, v := range d.Root().FindElements(".//saml:AttributeValue") {
				if strings.HasPrefix(v.Text(), "TINIT-") {
					v.SetText("TINIT-BNCLRA85M41F205C")
				}
			}
		}}, []string{"assertion.signature"}, nil},
		{"assertion signature with an XSLT transform", hostile{postSign: func(t testing.TB, d *etree.Document) {
			tr := find(t, d.Root(), "./saml:Assertion/ds:Signature/ds:SignedInfo/ds:Reference/ds:Transforms")
			x := tr.CreateElement("ds:Transform")
			x.CreateAttr("Algorithm", "http://www.w3.org/TR/1999/REC-xslt-19991116")
		}}, []string{"assertion.signature"}, nil},
		{"assertion signature with sha1", hostile{postSign: func(t testing.TB, d *etree.Document) {
			setAttr(find(t, d.Root(), "./saml:Assertion/ds:Signature/ds:SignedInfo/ds:SignatureMethod"), "Algorithm", "http://www.w3.org/2000/09/xmldsig#rsa-sha1")
		}}, []string{"assertion.signature"}, nil},
		{"assertion signature referencing another element", hostile{postSign: func(t testing.TB, d *etree.Document) {
			setAttr(find(t, d.Root(), "./saml:Assertion/ds:Signature/ds:SignedInfo/ds:Reference"), "URI", "")
		}}, []string{"assertion.signature"}, nil},
		{"assertion signature misplaced inside Subject", hostile{postSign: func(t testing.TB, d *etree.Document) {
			a := find(t, d.Root(), "./saml:Assertion")
			sig := find(t, a, "./ds:Signature")
			a.RemoveChild(sig)
			find(t, a, "./saml:Subject").AddChild(sig)
		}}, []string{"assertion.signature"}, nil},
		{"assertion ID missing", hostile{postSign: func(t testing.TB, d *etree.Document) { find(t, d.Root(), "./saml:Assertion").RemoveAttr("ID") }}, []string{"assertion.signature"}, nil},
		{"assertion Version not 2.0", hostile{preSign: func(r, a *etree.Element) { setAttr(a, "Version", "1.1") }}, []string{"assertion.version"}, nil},
		{"assertion IssueInstant in the future", hostile{preSign: func(r, a *etree.Element) { setAttr(a, "IssueInstant", samlx.FormatTime(now.Add(3*time.Minute))) }}, []string{"assertion.issue_instant"}, nil},
		{"assertion IssueInstant before the request", hostile{preSign: func(r, a *etree.Element) { setAttr(a, "IssueInstant", samlx.FormatTime(now.Add(-time.Hour))) }}, []string{"assertion.issue_instant"}, nil},
		{"assertion Issuer another entity", hostile{preSign: func(r, a *etree.Element) { a.FindElement("./saml:Issuer").SetText("https://evil.example") }}, []string{"assertion.issuer"}, nil},
		{"assertion Issuer Format missing", hostile{preSign: func(r, a *etree.Element) { a.FindElement("./saml:Issuer").RemoveAttr("Format") }}, []string{"assertion.issuer"}, nil},
		{"assertion Issuer missing", hostile{preSign: func(r, a *etree.Element) { a.RemoveChild(a.FindElement("./saml:Issuer")) }}, []string{"assertion.children"}, nil},
		{"assertion Issuer Format not entity", hostile{preSign: func(r, a *etree.Element) { setAttr(a.FindElement("./saml:Issuer"), "Format", samlx.NameIDTransient) }}, []string{"assertion.issuer"}, nil},
		{"assertion Subject missing", hostile{preSign: func(r, a *etree.Element) { a.RemoveChild(a.FindElement("./saml:Subject")) }}, []string{"assertion.children"}, nil},
		{"NameID missing", hostile{preSign: func(r, a *etree.Element) {
			s := a.FindElement("./saml:Subject")
			s.RemoveChild(s.FindElement("./saml:NameID"))
		}}, []string{"subject.children"}, nil},
		{"NameID Format not transient", hostile{preSign: func(r, a *etree.Element) {
			setAttr(a.FindElement("./saml:Subject/saml:NameID"), "Format", "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent")
		}}, []string{"subject.name_id_format"}, nil},
		{"NameID NameQualifier missing", hostile{preSign: func(r, a *etree.Element) { a.FindElement("./saml:Subject/saml:NameID").RemoveAttr("NameQualifier") }}, []string{"subject.name_qualifier"}, nil},
		{"SubjectConfirmation Method not bearer", hostile{preSign: func(r, a *etree.Element) {
			setAttr(a.FindElement("./saml:Subject/saml:SubjectConfirmation"), "Method", "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key")
		}}, []string{"subject.confirmation_method"}, nil},
		{"SubjectConfirmationData missing", hostile{preSign: func(r, a *etree.Element) {
			sc := a.FindElement("./saml:Subject/saml:SubjectConfirmation")
			sc.RemoveChild(scd(a))
		}}, []string{"subject.confirmation_data"}, nil},
		{"SubjectConfirmationData Recipient another URL", hostile{preSign: func(r, a *etree.Element) { setAttr(scd(a), "Recipient", "https://evil.example/acs") }}, []string{"subject.recipient"}, nil},
		{"SubjectConfirmationData Recipient missing", hostile{preSign: func(r, a *etree.Element) { scd(a).RemoveAttr("Recipient") }}, []string{"subject.recipient"}, nil},
		{"SubjectConfirmationData InResponseTo another request", hostile{preSign: func(r, a *etree.Element) { setAttr(scd(a), "InResponseTo", "_other") }}, []string{"subject.in_response_to"}, nil},
		{"SubjectConfirmationData NotOnOrAfter missing", hostile{preSign: func(r, a *etree.Element) { scd(a).RemoveAttr("NotOnOrAfter") }}, []string{"subject.not_on_or_after"}, nil},
		{"SubjectConfirmationData NotOnOrAfter malformed", hostile{preSign: func(r, a *etree.Element) { setAttr(scd(a), "NotOnOrAfter", "tomorrow") }}, []string{"subject.not_on_or_after"}, nil},
		{"SubjectConfirmationData NotOnOrAfter past", hostile{preSign: func(r, a *etree.Element) { setAttr(scd(a), "NotOnOrAfter", samlx.FormatTime(now.Add(-2*time.Minute))) }}, []string{"subject.not_on_or_after"}, nil},
		{"Conditions missing", hostile{preSign: func(r, a *etree.Element) { a.RemoveChild(a.FindElement("./saml:Conditions")) }}, []string{"assertion.children"}, nil},
		{"Conditions NotBefore missing", hostile{preSign: func(r, a *etree.Element) { a.FindElement("./saml:Conditions").RemoveAttr("NotBefore") }}, []string{"conditions.not_before"}, nil},
		{"Conditions NotBefore in the future", hostile{preSign: func(r, a *etree.Element) {
			setAttr(a.FindElement("./saml:Conditions"), "NotBefore", samlx.FormatTime(now.Add(3*time.Minute)))
		}}, []string{"conditions.not_before"}, nil},
		{"Conditions NotOnOrAfter missing", hostile{preSign: func(r, a *etree.Element) { a.FindElement("./saml:Conditions").RemoveAttr("NotOnOrAfter") }}, []string{"conditions.not_on_or_after"}, nil},
		{"Conditions NotOnOrAfter past", hostile{preSign: func(r, a *etree.Element) {
			setAttr(a.FindElement("./saml:Conditions"), "NotOnOrAfter", samlx.FormatTime(now.Add(-2*time.Minute)))
		}}, []string{"conditions.not_on_or_after"}, nil},
		{"AudienceRestriction missing", hostile{preSign: func(r, a *etree.Element) {
			c := a.FindElement("./saml:Conditions")
			c.RemoveChild(c.FindElement("./saml:AudienceRestriction"))
		}}, []string{"conditions.children"}, nil},
		{"Audience another SP", hostile{params: func(p *samlx.ResponseParams) { p.Audience = "https://other-sp.example" }}, []string{"conditions.audience"}, nil},
		{"AuthnStatement missing", hostile{preSign: func(r, a *etree.Element) { a.RemoveChild(a.FindElement("./saml:AuthnStatement")) }}, []string{"assertion.children"}, nil},
		{"AuthnContextClassRef missing", hostile{preSign: func(r, a *etree.Element) {
			c := a.FindElement("./saml:AuthnStatement/saml:AuthnContext")
			c.RemoveChild(c.FindElement("./saml:AuthnContextClassRef"))
		}}, []string{"authn.context"}, nil},
		{"AuthnContextClassRef in the old urn:oasis form", hostile{preSign: func(r, a *etree.Element) {
			a.FindElement("./saml:AuthnStatement/saml:AuthnContext/saml:AuthnContextClassRef").SetText("urn:oasis:names:tc:SAML:2.0:ac:classes:SpidL2")
		}}, []string{"authn.context"}, nil},
		{"level lower than asked", hostile{params: func(p *samlx.ResponseParams) { p.Level = 1 }}, nil, providers.ErrLevelNotReached},
		{"AttributeStatement empty", hostile{params: func(p *samlx.ResponseParams) { p.Attributes = nil }, preSign: func(r, a *etree.Element) { a.CreateElement("saml:AttributeStatement") }}, []string{"attributes.empty"}, nil},
		{"attribute repeated", hostile{params: func(p *samlx.ResponseParams) { p.Attributes = append(p.Attributes, [2]string{"name", "Evil"}) }}, []string{"attributes.duplicate"}, nil},
		{"fiscalNumber missing", hostile{params: func(p *samlx.ResponseParams) { p.Attributes = p.Attributes[:3] }}, []string{"attributes.fiscal_number"}, nil},
		{"fiscalNumber without TINIT- prefix", hostile{params: fiscal("RSSMRA80A01H501U")}, []string{"attributes.fiscal_number"}, nil},
		{"fiscalNumber with a wrong check letter", hostile{params: fiscal("TINIT-RSSMRA80A01H501X")}, []string{"attributes.fiscal_number"}, nil},
		{"dateOfBirth not an xs:date", hostile{params: func(p *samlx.ResponseParams) { p.Attributes[4][1] = "01/01/1980" }}, []string{"attributes.date_of_birth"}, nil},
		{"unknown element in the Assertion (Advice)", hostile{preSign: func(r, a *etree.Element) {
			a.InsertChildAt(a.FindElement("./saml:Conditions").Index()+1, etree.NewElement("saml:Advice"))
		}}, []string{"assertion.children"}, nil},
		{"EncryptedAssertion", hostile{postSign: func(t testing.TB, d *etree.Document) { d.Root().CreateElement("saml:EncryptedAssertion") }}, []string{"response.children"}, nil},
		{"two assertions, the second unsigned", hostile{postSign: func(t testing.TB, d *etree.Document) {
			a2 := find(t, d.Root(), "./saml:Assertion").Copy()
			a2.RemoveChild(find(t, a2, "./ds:Signature"))
			a2.CreateAttr("ID", "_second")
			d.Root().AddChild(a2)
		}}, []string{"response.children"}, nil},
		{"two signed assertions", hostile{postSign: func(t testing.TB, d *etree.Document) {
			d.Root().AddChild(find(t, d.Root(), "./saml:Assertion").Copy())
		}}, []string{"xml.duplicate_id", "response.children"}, nil},
		{"comment injected in NameID", hostile{postSign: func(t testing.TB, d *etree.Document) {
			n := find(t, d.Root(), "./saml:Assertion/saml:Subject/saml:NameID")
			txt := n.Text()
			n.SetText(txt[:3])
			n.CreateComment("x")
			n.CreateText(txt[3:])
		}}, []string{"xml.comment"}, nil},
		{"comment injected in fiscalNumber", hostile{raw: func(s string) string {
			return strings.Replace(s, "TINIT-RSSMRA80A01H501U", "TINIT-RSSMRA80A01H501U<!---->X", 1)
		}}, []string{"xml.comment"}, nil},
		{"DOCTYPE with an entity", hostile{raw: func(s string) string {
			return `<!DOCTYPE r [<!ENTITY x "y">]>` + s
		}}, []string{"xml.directive", "xml.parse"}, nil},
		{"processing instruction inside", hostile{raw: func(s string) string {
			return strings.Replace(s, "<saml:Issuer", "<?evil x?><saml:Issuer", 1)
		}}, []string{"xml.procinst"}, nil},
		{"not XML", hostile{raw: func(s string) string { return s[:len(s)/2] }}, []string{"xml.parse"}, nil},
	}
	rows = append(rows, xswRows(t)...)
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			p := e.start(t, "login-"+row.name, providers.SpidL2, "")
			xml := e.build(t, p, row.h)
			status, o := e.post(t, p.RelayState, xml)
			if o.Identity != nil || o.Err == nil {
				t.Fatalf("accepted: %+v", o)
			}
			if status != http.StatusForbidden || o.LoginID != "login-"+row.name {
				t.Fatalf("status %d, login %q", status, o.LoginID)
			}
			var ue *providers.UserError
			if !errors.As(o.Err, &ue) {
				t.Fatalf("not a UserError: %v", o.Err)
			}
			if row.want != nil {
				if !errors.Is(o.Err, row.want) {
					t.Fatalf("error %v is not %v", o.Err, row.want)
				}
				return
			}
			var re *RejectError
			if !errors.As(o.Err, &re) || !errors.Is(o.Err, providers.ErrCredentialRejected) {
				t.Fatalf("error %v is not a RejectError", o.Err)
			}
			t.Logf("refused by %s: %s", re.Rule, re.Detail)
			if !slices.Contains(row.rules, re.Rule) {
				t.Fatalf("rule %q (%s), want one of %v", re.Rule, re.Detail, row.rules)
			}
			if ue.Code != "spid.invalid_response" {
				t.Fatalf("user code %q", ue.Code)
			}
		})
	}
}

// TestGoodResponseAcceptedSignedEitherWay guards the table: the same builder, unmodified,
// passes whether or not the Response is signed too.
func TestGoodResponseAcceptedSignedEitherWay(t *testing.T) {
	e := newEnv(t)
	for _, signResp := range []bool{false, true} {
		p := e.start(t, "good", providers.SpidL2, "")
		status, o := e.post(t, p.RelayState, e.build(t, p, hostile{signResponse: signResp}))
		if status != http.StatusOK || o.Identity == nil || o.Identity.FiscalNumber != "RSSMRA80A01H501U" {
			t.Fatalf("signResponse=%v: %d %+v", signResp, status, o)
		}
	}
}

func TestExactComparisonRefusesAHigherLevel(t *testing.T) {
	e := newEnv(t)
	p := e.start(t, "exact", providers.SpidL2, "exact")
	_, o := e.post(t, p.RelayState, e.build(t, p, hostile{params: func(rp *samlx.ResponseParams) { rp.Level = 3 }}))
	if !errors.Is(o.Err, providers.ErrLevelNotReached) {
		t.Fatalf("outcome %+v", o)
	}
	p = e.start(t, "minimum", providers.SpidL2, "minimum")
	_, o = e.post(t, p.RelayState, e.build(t, p, hostile{params: func(rp *samlx.ResponseParams) { rp.Level = 3 }}))
	if o.Identity == nil || o.Identity.ACR != providers.SpidL3 {
		t.Fatalf("minimum: higher level must be accepted: %+v", o)
	}
}

func TestReplayedResponseIsRefusedWithoutALogin(t *testing.T) {
	e := newEnv(t)
	p := e.start(t, "replay", providers.SpidL2, "")
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
	p1 := e.start(t, "first", providers.SpidL2, "")
	if _, o := e.post(t, p1.RelayState, e.build(t, p1, hostile{})); o.Identity == nil {
		t.Fatalf("first refused: %v", o.Err)
	}
	p2 := e.start(t, "second", providers.SpidL2, "")
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
	p := e.start(t, "x", providers.SpidL2, "")
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
	p := e.start(t, "late", providers.SpidL2, "")
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
		p := e.start(t, name, providers.SpidL2, "")
		_, o := e.post(t, p.RelayState, e.build(t, p, hostile{raw: edit}))
		var re *RejectError
		if o.Identity != nil || !errors.As(o.Err, &re) || (re.Rule != "xml.name" && re.Rule != "xml.parse") {
			t.Errorf("%s: %+v", name, o)
		}
	}
}
