package spid

import (
	"testing"

	"github.com/beevik/etree"
)

// evilCopy returns a copy of the signed assertion with its signature removed and the fiscal
// code swapped (what a wrapping attack wants the SP to read).
func evilCopy(t testing.TB, a *etree.Element, id string) *etree.Element {
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

// xswRows are the eight signature-wrapping attacks of Somorovsky et al. ("On Breaking SAML",
// 2012), adapted to a Response whose Assertion (and Response) are signed.
func xswRows(t testing.TB) []hostileRow {
	signedBoth := func(f func(t testing.TB, d *etree.Document)) hostile {
		return hostile{signResponse: true, postSign: f}
	}
	return []hostileRow{
		{"XSW1 evil response, original inside its Signature", signedBoth(func(t testing.TB, d *etree.Document) {
			orig := d.Root().Copy()
			r := d.Root()
			r.CreateAttr("ID", "_evilresp")
			a := find(t, r, "./saml:Assertion")
			r.InsertChildAt(a.Index(), evilCopy(t, a, "_evil"))
			r.RemoveChild(a)
			sig := find(t, r, "./ds:Signature")
			sig.CreateElement("ds:Object").AddChild(orig)
		}), "assertion.placement", nil},
		{"XSW2 evil response, original as a detached sibling", signedBoth(func(t testing.TB, d *etree.Document) {
			orig := d.Root().Copy()
			r := d.Root()
			r.CreateAttr("ID", "_evilresp")
			a := find(t, r, "./saml:Assertion")
			r.InsertChildAt(a.Index(), evilCopy(t, a, "_evil"))
			r.RemoveChild(a)
			sig := find(t, r, "./ds:Signature")
			r.InsertChildAt(sig.Index(), orig)
		}), "assertion.placement", nil},
		{"XSW3 evil assertion with the same ID before the original", hostile{postSign: func(t testing.TB, d *etree.Document) {
			r := d.Root()
			a := find(t, r, "./saml:Assertion")
			r.InsertChildAt(a.Index(), evilCopy(t, a, ""))
		}}, "xml.duplicate_id", nil},
		{"XSW4 evil assertion wrapping the original", hostile{postSign: func(t testing.TB, d *etree.Document) {
			r := d.Root()
			a := find(t, r, "./saml:Assertion")
			ev := evilCopy(t, a, "")
			r.RemoveChild(a)
			ev.AddChild(a)
			r.AddChild(ev)
		}}, "xml.duplicate_id", nil},
		{"XSW5 evil assertion carrying the signature, original appended", hostile{postSign: func(t testing.TB, d *etree.Document) {
			r := d.Root()
			a := find(t, r, "./saml:Assertion")
			ev := evilCopy(t, a, "")
			ev.InsertChildAt(1, find(t, a, "./ds:Signature").Copy())
			r.RemoveChild(a)
			r.AddChild(ev)
			r.AddChild(a)
		}}, "xml.duplicate_id", nil},
		{"XSW6 evil assertion, original inside its Signature Object", hostile{postSign: func(t testing.TB, d *etree.Document) {
			r := d.Root()
			a := find(t, r, "./saml:Assertion")
			ev := evilCopy(t, a, "")
			sig := find(t, a, "./ds:Signature").Copy()
			ev.InsertChildAt(1, sig)
			sig.CreateElement("ds:Object").AddChild(a.Copy())
			r.RemoveChild(a)
			r.AddChild(ev)
		}}, "xml.duplicate_id", nil},
		{"XSW7 original in Extensions, evil assertion unsigned", hostile{postSign: func(t testing.TB, d *etree.Document) {
			r := d.Root()
			a := find(t, r, "./saml:Assertion")
			ev := evilCopy(t, a, "_evil")
			r.RemoveChild(a)
			ext := etree.NewElement("samlp:Extensions")
			ext.AddChild(a)
			r.InsertChildAt(find(t, r, "./samlp:Status").Index(), ext)
			r.AddChild(ev)
		}}, "assertion.placement", nil},
		{"XSW8 evil assertion, unsigned original inside its Signature Object", hostile{postSign: func(t testing.TB, d *etree.Document) {
			r := d.Root()
			a := find(t, r, "./saml:Assertion")
			ev := evilCopy(t, a, "")
			sig := find(t, a, "./ds:Signature").Copy()
			ev.InsertChildAt(1, sig)
			inner := a.Copy()
			inner.RemoveChild(find(t, inner, "./ds:Signature"))
			sig.CreateElement("ds:Object").AddChild(inner)
			r.RemoveChild(a)
			r.AddChild(ev)
		}}, "xml.duplicate_id", nil},
	}
}
