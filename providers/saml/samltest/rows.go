package samltest

import (
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/beevik/etree"

	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/saml/samlx"
)

// ResponseRows has one row per Response and Assertion rule of AgID's SPID technical rules (which
// the CIE ID manual and AgID's eIDAS rules repeat). Every row
// is properly signed by the IdP's metadata key unless the row is about the signature.
func ResponseRows(now time.Time, at *samlx.KeyPair) []Row {
	return []Row{
		// Response.
		{"response ID missing", Hostile{PreSign: func(r, a *etree.Element) { r.RemoveAttr("ID") }}, "response.id", nil},
		{"response Version not 2.0", Hostile{PreSign: func(r, a *etree.Element) { SetAttr(r, "Version", "1.1") }}, "response.version", nil},
		{"response IssueInstant not a dateTime", Hostile{PreSign: func(r, a *etree.Element) { SetAttr(r, "IssueInstant", "yesterday") }}, "response.issue_instant", nil},
		{"response IssueInstant not UTC", Hostile{PreSign: func(r, a *etree.Element) { SetAttr(r, "IssueInstant", "2026-03-02T11:00:00+01:00") }}, "response.issue_instant", nil},
		{"response IssueInstant before the request", Hostile{PreSign: func(r, a *etree.Element) { SetAttr(r, "IssueInstant", samlx.FormatTime(now.Add(-10*time.Minute))) }}, "response.issue_instant", nil},
		{"response IssueInstant in the future beyond skew", Hostile{PreSign: func(r, a *etree.Element) { SetAttr(r, "IssueInstant", samlx.FormatTime(now.Add(5*time.Minute))) }}, "response.issue_instant", nil},
		{"response InResponseTo missing", Hostile{PreSign: func(r, a *etree.Element) { r.RemoveAttr("InResponseTo") }}, "response.in_response_to", nil},
		{"response InResponseTo another request", Hostile{PreSign: func(r, a *etree.Element) { SetAttr(r, "InResponseTo", "_other") }}, "response.in_response_to", nil},
		{"response Destination missing", Hostile{PreSign: func(r, a *etree.Element) { r.RemoveAttr("Destination") }}, "response.destination", nil},
		{"response Destination another URL", Hostile{PreSign: func(r, a *etree.Element) { SetAttr(r, "Destination", "https://evil.example/acs") }}, "response.destination", nil},
		{"response Status missing", Hostile{PreSign: func(r, a *etree.Element) { r.RemoveChild(r.FindElement("./samlp:Status")) }}, "response.children", nil},
		{"response StatusCode missing", Hostile{PreSign: func(r, a *etree.Element) {
			st := r.FindElement("./samlp:Status")
			st.RemoveChild(st.FindElement("./samlp:StatusCode"))
		}}, "status.code", nil},
		{"response Issuer missing", Hostile{PreSign: func(r, a *etree.Element) { r.RemoveChild(r.FindElement("./saml:Issuer")) }}, "response.children", nil},
		{"response Issuer another entity", Hostile{PreSign: func(r, a *etree.Element) { r.FindElement("./saml:Issuer").SetText("https://evil.example") }}, "response.issuer", nil},
		{"response Issuer Format not entity", Hostile{PreSign: func(r, a *etree.Element) { SetAttr(r.FindElement("./saml:Issuer"), "Format", samlx.NameIDTransient) }}, "response.issuer", nil},
		{"response signed by a key not in the metadata", Hostile{SignResponse: true, ResponseKey: at}, "response.signature.foreign_key", nil},
		{"response signature value tampered", Hostile{SignResponse: true, PostSign: func(t testing.TB, d *etree.Document) {
			sv := Find(t, d.Root(), "./ds:Signature/ds:SignatureValue")
			sv.SetText("AAAA" + sv.Text()[4:])
		}}, "response.signature.invalid", nil},
		{"response content changed after signing", Hostile{SignResponse: true, PostSign: func(t testing.TB, d *etree.Document) {
			d.Root().CreateAttr("Consent", "urn:oasis:names:tc:SAML:2.0:consent:obtained")
		}}, "response.signature.invalid", nil},
		{"response is not a samlp:Response", Hostile{PreSign: func(r, a *etree.Element) { r.Tag = "LogoutResponse" }}, "response.root", nil},
		{"non-success status without SPID code is denied", Hostile{Params: func(p *samlx.ResponseParams) {
			p.StatusCode, p.SubStatus = samlx.StatusRequester, samlx.StatusRequestDenied
		}}, "idp_status", providers.ErrDenied},
		{"status nr22 consent denied", Hostile{Params: func(p *samlx.ResponseParams) {
			p.StatusCode, p.SubStatus, p.StatusMessage = samlx.StatusResponder, samlx.StatusAuthnFailed, "ErrorCode nr22"
		}}, "idp_status.nr22", providers.ErrDenied},
		{"status nr23 suspended", Hostile{Params: func(p *samlx.ResponseParams) {
			p.StatusCode, p.StatusMessage = samlx.StatusResponder, "ErrorCode nr23"
		}}, "idp_status.nr23", providers.ErrDenied},
		{"status nr20 no credentials of the level", Hostile{Params: func(p *samlx.ResponseParams) {
			p.StatusCode, p.StatusMessage = samlx.StatusResponder, "ErrorCode nr20"
		}}, "idp_status.nr20", providers.ErrLevelNotReached},
		{"status nr21 timeout", Hostile{Params: func(p *samlx.ResponseParams) {
			p.StatusCode, p.StatusMessage = samlx.StatusResponder, "ErrorCode nr21"
		}}, "idp_status.nr21", providers.ErrLoginExpired},

		// Assertion.
		{"success without an Assertion", Hostile{PreSign: func(r, a *etree.Element) {}, PostSign: func(t testing.TB, d *etree.Document) {
			d.Root().RemoveChild(Find(t, d.Root(), "./saml:Assertion"))
		}}, "assertion.missing", nil},
		{"assertion unsigned inside a signed response", Hostile{UnsignedA: true, SignResponse: true}, "assertion.signature.missing", nil},
		{"assertion signed by a key not in the metadata", Hostile{AssertionKey: at, SignResponse: true}, "assertion.signature.foreign_key", nil},
		{"assertion NameID changed after signing", Hostile{PostSign: func(t testing.TB, d *etree.Document) {
			Find(t, d.Root(), "./saml:Assertion/saml:Subject/saml:NameID").SetText("_other")
		}}, "assertion.signature.invalid", nil},
		{"assertion fiscal code changed after signing", Hostile{PostSign: func(t testing.TB, d *etree.Document) {
			for _, v := range d.Root().FindElements(".//saml:AttributeValue") {
				if strings.HasPrefix(v.Text(), "TINIT-") {
					v.SetText("TINIT-BNCLRA85M41F205C")
				}
			}
		}}, "assertion.signature.invalid", nil},
		{"assertion signature with an XSLT transform", Hostile{PostSign: func(t testing.TB, d *etree.Document) {
			tr := Find(t, d.Root(), "./saml:Assertion/ds:Signature/ds:SignedInfo/ds:Reference/ds:Transforms")
			x := tr.CreateElement("ds:Transform")
			x.CreateAttr("Algorithm", "http://www.w3.org/TR/1999/REC-xslt-19991116")
		}}, "assertion.signature.algorithm", nil},
		{"assertion signature with sha1", Hostile{PostSign: func(t testing.TB, d *etree.Document) {
			SetAttr(Find(t, d.Root(), "./saml:Assertion/ds:Signature/ds:SignedInfo/ds:SignatureMethod"), "Algorithm", "http://www.w3.org/2000/09/xmldsig#rsa-sha1")
		}}, "assertion.signature.algorithm", nil},
		{"assertion signature referencing another element", Hostile{PostSign: func(t testing.TB, d *etree.Document) {
			SetAttr(Find(t, d.Root(), "./saml:Assertion/ds:Signature/ds:SignedInfo/ds:Reference"), "URI", "")
		}}, "assertion.signature.reference", nil},
		{"assertion signature misplaced inside Subject", Hostile{PostSign: func(t testing.TB, d *etree.Document) {
			a := Find(t, d.Root(), "./saml:Assertion")
			sig := Find(t, a, "./ds:Signature")
			a.RemoveChild(sig)
			Find(t, a, "./saml:Subject").AddChild(sig)
		}}, "assertion.signature.missing", nil},
		{"assertion ID missing", Hostile{PostSign: func(t testing.TB, d *etree.Document) { Find(t, d.Root(), "./saml:Assertion").RemoveAttr("ID") }}, "assertion.signature.reference", nil},
		{"assertion Version not 2.0", Hostile{PreSign: func(r, a *etree.Element) { SetAttr(a, "Version", "1.1") }}, "assertion.version", nil},
		{"assertion IssueInstant in the future", Hostile{PreSign: func(r, a *etree.Element) { SetAttr(a, "IssueInstant", samlx.FormatTime(now.Add(3*time.Minute))) }}, "assertion.issue_instant", nil},
		{"assertion IssueInstant before the request", Hostile{PreSign: func(r, a *etree.Element) { SetAttr(a, "IssueInstant", samlx.FormatTime(now.Add(-time.Hour))) }}, "assertion.issue_instant", nil},
		{"assertion Issuer another entity", Hostile{PreSign: func(r, a *etree.Element) { a.FindElement("./saml:Issuer").SetText("https://evil.example") }}, "assertion.issuer", nil},
		{"assertion Issuer Format missing", Hostile{PreSign: func(r, a *etree.Element) { a.FindElement("./saml:Issuer").RemoveAttr("Format") }}, "assertion.issuer", nil},
		{"assertion Issuer missing", Hostile{PreSign: func(r, a *etree.Element) { a.RemoveChild(a.FindElement("./saml:Issuer")) }}, "assertion.children", nil},
		{"assertion Issuer Format not entity", Hostile{PreSign: func(r, a *etree.Element) { SetAttr(a.FindElement("./saml:Issuer"), "Format", samlx.NameIDTransient) }}, "assertion.issuer", nil},
		{"assertion Subject missing", Hostile{PreSign: func(r, a *etree.Element) { a.RemoveChild(a.FindElement("./saml:Subject")) }}, "assertion.children", nil},
		{"NameID missing", Hostile{PreSign: func(r, a *etree.Element) {
			s := a.FindElement("./saml:Subject")
			s.RemoveChild(s.FindElement("./saml:NameID"))
		}}, "subject.children", nil},
		{"NameID Format not transient", Hostile{PreSign: func(r, a *etree.Element) {
			SetAttr(a.FindElement("./saml:Subject/saml:NameID"), "Format", "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent")
		}}, "subject.name_id_format", nil},
		{"NameID NameQualifier missing", Hostile{PreSign: func(r, a *etree.Element) { a.FindElement("./saml:Subject/saml:NameID").RemoveAttr("NameQualifier") }}, "subject.name_qualifier", nil},
		{"SubjectConfirmation Method not bearer", Hostile{PreSign: func(r, a *etree.Element) {
			SetAttr(a.FindElement("./saml:Subject/saml:SubjectConfirmation"), "Method", "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key")
		}}, "subject.confirmation_method", nil},
		{"SubjectConfirmationData missing", Hostile{PreSign: func(r, a *etree.Element) {
			sc := a.FindElement("./saml:Subject/saml:SubjectConfirmation")
			sc.RemoveChild(SCD(a))
		}}, "subject.confirmation_data", nil},
		{"SubjectConfirmationData Recipient another URL", Hostile{PreSign: func(r, a *etree.Element) { SetAttr(SCD(a), "Recipient", "https://evil.example/acs") }}, "subject.recipient", nil},
		{"SubjectConfirmationData Recipient missing", Hostile{PreSign: func(r, a *etree.Element) { SCD(a).RemoveAttr("Recipient") }}, "subject.recipient", nil},
		{"SubjectConfirmationData InResponseTo another request", Hostile{PreSign: func(r, a *etree.Element) { SetAttr(SCD(a), "InResponseTo", "_other") }}, "subject.in_response_to", nil},
		{"SubjectConfirmationData NotOnOrAfter missing", Hostile{PreSign: func(r, a *etree.Element) { SCD(a).RemoveAttr("NotOnOrAfter") }}, "subject.not_on_or_after", nil},
		{"SubjectConfirmationData NotOnOrAfter malformed", Hostile{PreSign: func(r, a *etree.Element) { SetAttr(SCD(a), "NotOnOrAfter", "tomorrow") }}, "subject.not_on_or_after", nil},
		{"SubjectConfirmationData NotOnOrAfter past", Hostile{PreSign: func(r, a *etree.Element) { SetAttr(SCD(a), "NotOnOrAfter", samlx.FormatTime(now.Add(-2*time.Minute))) }}, "subject.not_on_or_after", nil},
		{"Conditions missing", Hostile{PreSign: func(r, a *etree.Element) { a.RemoveChild(a.FindElement("./saml:Conditions")) }}, "assertion.children", nil},
		{"Conditions NotBefore missing", Hostile{PreSign: func(r, a *etree.Element) { a.FindElement("./saml:Conditions").RemoveAttr("NotBefore") }}, "conditions.not_before", nil},
		{"Conditions NotBefore in the future", Hostile{PreSign: func(r, a *etree.Element) {
			SetAttr(a.FindElement("./saml:Conditions"), "NotBefore", samlx.FormatTime(now.Add(3*time.Minute)))
		}}, "conditions.not_before", nil},
		{"Conditions NotOnOrAfter missing", Hostile{PreSign: func(r, a *etree.Element) { a.FindElement("./saml:Conditions").RemoveAttr("NotOnOrAfter") }}, "conditions.not_on_or_after", nil},
		{"Conditions NotOnOrAfter past", Hostile{PreSign: func(r, a *etree.Element) {
			SetAttr(a.FindElement("./saml:Conditions"), "NotOnOrAfter", samlx.FormatTime(now.Add(-2*time.Minute)))
		}}, "conditions.not_on_or_after", nil},
		{"AudienceRestriction missing", Hostile{PreSign: func(r, a *etree.Element) {
			c := a.FindElement("./saml:Conditions")
			c.RemoveChild(c.FindElement("./saml:AudienceRestriction"))
		}}, "conditions.children", nil},
		{"Audience another SP", Hostile{Params: func(p *samlx.ResponseParams) { p.Audience = "https://other-sp.example" }}, "conditions.audience", nil},
		{"AuthnStatement missing", Hostile{PreSign: func(r, a *etree.Element) { a.RemoveChild(a.FindElement("./saml:AuthnStatement")) }}, "assertion.children", nil},
		{"AuthnContextClassRef missing", Hostile{PreSign: func(r, a *etree.Element) {
			c := a.FindElement("./saml:AuthnStatement/saml:AuthnContext")
			c.RemoveChild(c.FindElement("./saml:AuthnContextClassRef"))
		}}, "authn.context", nil},
		{"AuthnContextClassRef in the old urn:oasis form", Hostile{PreSign: func(r, a *etree.Element) {
			a.FindElement("./saml:AuthnStatement/saml:AuthnContext/saml:AuthnContextClassRef").SetText("urn:oasis:names:tc:SAML:2.0:ac:classes:SpidL2")
		}}, "authn.context", nil},
		{"level lower than asked", Hostile{Params: func(p *samlx.ResponseParams) { p.Level = 1 }}, "level", providers.ErrLevelNotReached},
		{"AttributeStatement empty", Hostile{Params: func(p *samlx.ResponseParams) { p.Attributes = nil }, PreSign: func(r, a *etree.Element) { a.CreateElement("saml:AttributeStatement") }}, "attributes.empty", nil},
		{"attribute repeated", Hostile{Params: func(p *samlx.ResponseParams) { p.Attributes = append(p.Attributes, [2]string{"name", "Evil"}) }}, "attributes.duplicate", nil},
		{"fiscalNumber missing", Hostile{Params: DropAttribute("fiscalNumber")}, "attributes.fiscal_number", nil},
		{"fiscalNumber without TINIT- prefix", Hostile{Params: Fiscal("RSSMRA80A01H501U")}, "attributes.fiscal_number", nil},
		{"fiscalNumber with a wrong check letter", Hostile{Params: Fiscal("TINIT-RSSMRA80A01H501X")}, "attributes.fiscal_number", nil},
		{"dateOfBirth not an xs:date", Hostile{Params: SetAttribute("dateOfBirth", "01/01/1980")}, "attributes.date_of_birth", nil},
		{"unknown element in the Assertion (Advice)", Hostile{PreSign: func(r, a *etree.Element) {
			a.InsertChildAt(a.FindElement("./saml:Conditions").Index()+1, etree.NewElement("saml:Advice"))
		}}, "assertion.children", nil},
		{"EncryptedAssertion instead of the Assertion", Hostile{PostSign: func(t testing.TB, d *etree.Document) {
			d.Root().RemoveChild(Find(t, d.Root(), "./saml:Assertion"))
			d.Root().CreateElement("saml:EncryptedAssertion")
		}}, "response.children", nil},
		{"EncryptedAssertion beside the Assertion", Hostile{PostSign: func(t testing.TB, d *etree.Document) { d.Root().CreateElement("saml:EncryptedAssertion") }}, "assertion.count", nil},
		{"two assertions, the second unsigned", Hostile{PostSign: func(t testing.TB, d *etree.Document) {
			a2 := Find(t, d.Root(), "./saml:Assertion").Copy()
			a2.RemoveChild(Find(t, a2, "./ds:Signature"))
			a2.CreateAttr("ID", "_second")
			d.Root().AddChild(a2)
		}}, "assertion.count", nil},
		{"two signed assertions", Hostile{PostSign: func(t testing.TB, d *etree.Document) {
			d.Root().AddChild(Find(t, d.Root(), "./saml:Assertion").Copy())
		}}, "xml.duplicate_id", nil},
		{"comment injected in NameID", Hostile{PostSign: func(t testing.TB, d *etree.Document) {
			n := Find(t, d.Root(), "./saml:Assertion/saml:Subject/saml:NameID")
			txt := n.Text()
			n.SetText(txt[:3])
			n.CreateComment("x")
			n.CreateText(txt[3:])
		}}, "xml.comment", nil},
		{"comment injected in fiscalNumber", Hostile{Raw: func(s string) string {
			return strings.Replace(s, "TINIT-RSSMRA80A01H501U", "TINIT-RSSMRA80A01H501U<!---->X", 1)
		}}, "xml.comment", nil},
		{"DOCTYPE with an entity", Hostile{Raw: func(s string) string {
			return `<!DOCTYPE r [<!ENTITY x "y">]>` + s
		}}, "xml.directive", nil},
		{"processing instruction inside", Hostile{Raw: func(s string) string {
			return strings.Replace(s, "<saml:Issuer", "<?evil x?><saml:Issuer", 1)
		}}, "xml.procinst", nil},
		{"not XML", Hostile{Raw: func(s string) string { return s[:len(s)/2] }}, "xml.parse", nil},
	}
}

// EvilCopy returns a copy of the signed assertion with its signature removed and the fiscal
// code swapped (what a wrapping attack wants the SP to read).
func EvilCopy(t testing.TB, a *etree.Element, id string) *etree.Element {
	ev := a.Copy()
	if s := ev.FindElement("./ds:Signature"); s != nil {
		ev.RemoveChild(s)
	}
	if id != "" {
		ev.CreateAttr("ID", id)
	}
	for _, v := range ev.FindElements(".//saml:AttributeValue") {
		if v.Text() == "TINIT-RSSMRA80A01H501U" {
			v.SetText("TINIT-BNCLRA85M41F205C")
		}
	}
	return ev
}

// XSWRows are the eight signature-wrapping attacks of Somorovsky et al. ("On Breaking SAML",
// 2012), adapted to a Response whose Assertion (and Response) are signed.
func XSWRows(t testing.TB) []Row {
	signedBoth := func(f func(t testing.TB, d *etree.Document)) Hostile {
		return Hostile{SignResponse: true, PostSign: f}
	}
	return []Row{
		{"XSW1 evil response, original inside its Signature", signedBoth(func(t testing.TB, d *etree.Document) {
			orig := d.Root().Copy()
			r := d.Root()
			r.CreateAttr("ID", "_evilresp")
			a := Find(t, r, "./saml:Assertion")
			r.InsertChildAt(a.Index(), EvilCopy(t, a, "_evil"))
			r.RemoveChild(a)
			sig := Find(t, r, "./ds:Signature")
			sig.CreateElement("ds:Object").AddChild(orig)
		}), "assertion.placement", nil},
		{"XSW2 evil response, original as a detached sibling", signedBoth(func(t testing.TB, d *etree.Document) {
			orig := d.Root().Copy()
			r := d.Root()
			r.CreateAttr("ID", "_evilresp")
			a := Find(t, r, "./saml:Assertion")
			r.InsertChildAt(a.Index(), EvilCopy(t, a, "_evil"))
			r.RemoveChild(a)
			sig := Find(t, r, "./ds:Signature")
			r.InsertChildAt(sig.Index(), orig)
		}), "assertion.placement", nil},
		{"XSW3 evil assertion with the same ID before the original", Hostile{PostSign: func(t testing.TB, d *etree.Document) {
			r := d.Root()
			a := Find(t, r, "./saml:Assertion")
			r.InsertChildAt(a.Index(), EvilCopy(t, a, ""))
		}}, "xml.duplicate_id", nil},
		{"XSW4 evil assertion wrapping the original", Hostile{PostSign: func(t testing.TB, d *etree.Document) {
			r := d.Root()
			a := Find(t, r, "./saml:Assertion")
			ev := EvilCopy(t, a, "")
			r.RemoveChild(a)
			ev.AddChild(a)
			r.AddChild(ev)
		}}, "xml.duplicate_id", nil},
		{"XSW5 evil assertion carrying the signature, original appended", Hostile{PostSign: func(t testing.TB, d *etree.Document) {
			r := d.Root()
			a := Find(t, r, "./saml:Assertion")
			ev := EvilCopy(t, a, "")
			ev.InsertChildAt(1, Find(t, a, "./ds:Signature").Copy())
			r.RemoveChild(a)
			r.AddChild(ev)
			r.AddChild(a)
		}}, "xml.duplicate_id", nil},
		{"XSW6 evil assertion, original inside its Signature Object", Hostile{PostSign: func(t testing.TB, d *etree.Document) {
			r := d.Root()
			a := Find(t, r, "./saml:Assertion")
			ev := EvilCopy(t, a, "")
			sig := Find(t, a, "./ds:Signature").Copy()
			ev.InsertChildAt(1, sig)
			sig.CreateElement("ds:Object").AddChild(a.Copy())
			r.RemoveChild(a)
			r.AddChild(ev)
		}}, "xml.duplicate_id", nil},
		{"XSW7 original in Extensions, evil assertion unsigned", Hostile{PostSign: func(t testing.TB, d *etree.Document) {
			r := d.Root()
			a := Find(t, r, "./saml:Assertion")
			ev := EvilCopy(t, a, "_evil")
			r.RemoveChild(a)
			ext := etree.NewElement("samlp:Extensions")
			ext.AddChild(a)
			r.InsertChildAt(Find(t, r, "./samlp:Status").Index(), ext)
			r.AddChild(ev)
		}}, "assertion.placement", nil},
		{"XSW8 evil assertion, unsigned original inside its Signature Object", Hostile{PostSign: func(t testing.TB, d *etree.Document) {
			r := d.Root()
			a := Find(t, r, "./saml:Assertion")
			ev := EvilCopy(t, a, "")
			sig := Find(t, a, "./ds:Signature").Copy()
			ev.InsertChildAt(1, sig)
			inner := a.Copy()
			inner.RemoveChild(Find(t, inner, "./ds:Signature"))
			sig.CreateElement("ds:Object").AddChild(inner)
			r.RemoveChild(a)
			r.AddChild(ev)
		}}, "xml.duplicate_id", nil},
	}
}

// utf16LE encodes s as UTF-16 little endian, with a byte order mark when bom.
func utf16LE(s string, bom bool) string {
	var b []byte
	if bom {
		b = append(b, 0xff, 0xfe)
	}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return string(b)
}

// hiddenAssertion returns an unsigned copy of the signed Assertion with another ID and the
// fiscal code swapped: what a reader that looks for "the" Assertion anywhere would take.
func hiddenAssertion(t testing.TB, d *etree.Document) *etree.Element {
	return EvilCopy(t, Find(t, d.Root(), "./saml:Assertion"), "_hidden")
}

// XMLRows are the rules on the document as bytes (only UTF-8) and on where an Assertion may
// stand (only as a direct child of the Response, at most one).
func XMLRows(t testing.TB) []Row {
	decl := func(d string) func(string) string { return func(s string) string { return d + s } }
	return []Row{
		{"XML declaration naming UTF-7", Hostile{Raw: decl(`<?xml version="1.0" encoding="UTF-7"?>`)}, "xml.encoding", nil},
		{"XML declaration naming UTF-16 on UTF-8 bytes", Hostile{Raw: decl(`<?xml version="1.0" encoding="UTF-16"?>`)}, "xml.encoding", nil},
		{"XML declaration naming utf-16 in single quotes", Hostile{Raw: decl(`<?xml version='1.0' encoding='utf-16'?>`)}, "xml.encoding", nil},
		{"XML declaration naming ISO-8859-1", Hostile{Raw: decl("<?xml version=\"1.0\"\n  encoding = \"ISO-8859-1\" ?>")}, "xml.encoding", nil},
		{"XML declaration with a malformed encoding", Hostile{Raw: decl(`<?xml version="1.0" encoding=UTF-8?>`)}, "xml.encoding", nil},
		{"UTF-16 byte order mark on UTF-8 bytes", Hostile{Raw: decl("\xff\xfe")}, "xml.encoding", nil},
		{"document in UTF-16 with a byte order mark", Hostile{Raw: func(s string) string {
			return utf16LE(`<?xml version="1.0" encoding="UTF-16"?>`+s, true)
		}}, "xml.encoding", nil},
		{"document in UTF-16 without a byte order mark", Hostile{Raw: func(s string) string { return utf16LE(s, false) }}, "xml.encoding", nil},
		{"invalid UTF-8 in a value", Hostile{Raw: func(s string) string { return strings.Replace(s, "</saml:Issuer>", "\xc0</saml:Issuer>", 1) }}, "xml.encoding", nil},
		{"second XML declaration after the root naming UTF-16", Hostile{Raw: func(s string) string {
			return `<?xml version="1.0" encoding="UTF-8"?>` + s + `<?xml version="1.0" encoding="UTF-16"?>`
		}}, "xml.encoding", nil},
		{"XML declaration naming UTF-7 after leading whitespace", Hostile{Raw: decl(" \n<?xml version=\"1.0\" encoding=\"UTF-7\"?>")}, "xml.encoding", nil},
		{"XML declaration after leading whitespace", Hostile{Raw: decl(" \n<?xml version=\"1.0\" encoding=\"UTF-8\"?>")}, "xml.declaration", nil},
		{"two XML declarations", Hostile{Raw: decl(`<?xml version="1.0" encoding="UTF-8"?><?xml version="1.0"?>`)}, "xml.declaration", nil},

		{"unsigned Assertion hidden in Extensions", Hostile{SignResponse: true, PostSign: func(t testing.TB, d *etree.Document) {
			ext := etree.NewElement("samlp:Extensions")
			ext.AddChild(hiddenAssertion(t, d))
			d.Root().InsertChildAt(Find(t, d.Root(), "./samlp:Status").Index(), ext)
		}}, "assertion.placement", nil},
		{"unsigned Assertion hidden in StatusDetail", Hostile{PostSign: func(t testing.TB, d *etree.Document) {
			Find(t, d.Root(), "./samlp:Status").CreateElement("samlp:StatusDetail").AddChild(hiddenAssertion(t, d))
		}}, "assertion.placement", nil},
		{"Assertion inside the Advice of the signed Assertion", Hostile{PreSign: func(r, a *etree.Element) {
			inner := a.Copy()
			inner.CreateAttr("ID", "_inner")
			adv := etree.NewElement("saml:Advice")
			adv.AddChild(inner)
			a.InsertChildAt(a.FindElement("./saml:Conditions").Index()+1, adv)
		}}, "assertion.placement", nil},
		{"Assertion of another namespace hidden in Extensions", Hostile{PostSign: func(t testing.TB, d *etree.Document) {
			ext := etree.NewElement("samlp:Extensions")
			ev := hiddenAssertion(t, d)
			ev.Space = "x"
			ev.CreateAttr("xmlns:x", "urn:evil")
			ext.AddChild(ev)
			d.Root().InsertChildAt(Find(t, d.Root(), "./samlp:Status").Index(), ext)
		}}, "assertion.placement", nil},
		{"EncryptedAssertion hidden in Extensions", Hostile{PostSign: func(t testing.TB, d *etree.Document) {
			ext := etree.NewElement("samlp:Extensions")
			ext.CreateElement("saml:EncryptedAssertion")
			d.Root().InsertChildAt(Find(t, d.Root(), "./samlp:Status").Index(), ext)
		}}, "assertion.placement", nil},
		{"second unsigned Assertion before the signed one", Hostile{PostSign: func(t testing.TB, d *etree.Document) {
			r := d.Root()
			r.InsertChildAt(Find(t, r, "./saml:Assertion").Index(), hiddenAssertion(t, d))
		}}, "assertion.count", nil},
	}
}
