package spid

import (
	"net/http"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/beevik/etree"

	"github.com/inps/sportello/internal/loa"
)

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
	return evilCopy(t, find(t, d.Root(), "./saml:Assertion"), "_hidden")
}

// xmlRows are the rules on the document as bytes (only UTF-8) and on where an Assertion may
// stand (only as a direct child of the Response, at most one).
func xmlRows(t testing.TB) []hostileRow {
	decl := func(d string) func(string) string { return func(s string) string { return d + s } }
	return []hostileRow{
		{"XML declaration naming UTF-7", hostile{raw: decl(`<?xml version="1.0" encoding="UTF-7"?>`)}, "xml.encoding", nil},
		{"XML declaration naming UTF-16 on UTF-8 bytes", hostile{raw: decl(`<?xml version="1.0" encoding="UTF-16"?>`)}, "xml.encoding", nil},
		{"XML declaration naming utf-16 in single quotes", hostile{raw: decl(`<?xml version='1.0' encoding='utf-16'?>`)}, "xml.encoding", nil},
		{"XML declaration naming ISO-8859-1", hostile{raw: decl("<?xml version=\"1.0\"\n  encoding = \"ISO-8859-1\" ?>")}, "xml.encoding", nil},
		{"XML declaration with a malformed encoding", hostile{raw: decl(`<?xml version="1.0" encoding=UTF-8?>`)}, "xml.encoding", nil},
		{"UTF-16 byte order mark on UTF-8 bytes", hostile{raw: decl("\xff\xfe")}, "xml.encoding", nil},
		{"document in UTF-16 with a byte order mark", hostile{raw: func(s string) string {
			return utf16LE(`<?xml version="1.0" encoding="UTF-16"?>`+s, true)
		}}, "xml.encoding", nil},
		{"document in UTF-16 without a byte order mark", hostile{raw: func(s string) string { return utf16LE(s, false) }}, "xml.encoding", nil},
		{"invalid UTF-8 in a value", hostile{raw: func(s string) string { return strings.Replace(s, ">Mario<", ">Mar\xc0io<", 1) }}, "xml.encoding", nil},
		{"second XML declaration after the root naming UTF-16", hostile{raw: func(s string) string {
			return `<?xml version="1.0" encoding="UTF-8"?>` + s + `<?xml version="1.0" encoding="UTF-16"?>`
		}}, "xml.encoding", nil},
		{"XML declaration naming UTF-7 after leading whitespace", hostile{raw: decl(" \n<?xml version=\"1.0\" encoding=\"UTF-7\"?>")}, "xml.encoding", nil},
		{"XML declaration after leading whitespace", hostile{raw: decl(" \n<?xml version=\"1.0\" encoding=\"UTF-8\"?>")}, "xml.declaration", nil},
		{"two XML declarations", hostile{raw: decl(`<?xml version="1.0" encoding="UTF-8"?><?xml version="1.0"?>`)}, "xml.declaration", nil},

		{"unsigned Assertion hidden in Extensions", hostile{signResponse: true, postSign: func(t testing.TB, d *etree.Document) {
			ext := etree.NewElement("samlp:Extensions")
			ext.AddChild(hiddenAssertion(t, d))
			d.Root().InsertChildAt(find(t, d.Root(), "./samlp:Status").Index(), ext)
		}}, "assertion.placement", nil},
		{"unsigned Assertion hidden in StatusDetail", hostile{postSign: func(t testing.TB, d *etree.Document) {
			find(t, d.Root(), "./samlp:Status").CreateElement("samlp:StatusDetail").AddChild(hiddenAssertion(t, d))
		}}, "assertion.placement", nil},
		{"Assertion inside the Advice of the signed Assertion", hostile{preSign: func(r, a *etree.Element) {
			inner := a.Copy()
			inner.CreateAttr("ID", "_inner")
			adv := etree.NewElement("saml:Advice")
			adv.AddChild(inner)
			a.InsertChildAt(a.FindElement("./saml:Conditions").Index()+1, adv)
		}}, "assertion.placement", nil},
		{"Assertion of another namespace hidden in Extensions", hostile{postSign: func(t testing.TB, d *etree.Document) {
			ext := etree.NewElement("samlp:Extensions")
			ev := hiddenAssertion(t, d)
			ev.Space = "x"
			ev.CreateAttr("xmlns:x", "urn:evil")
			ext.AddChild(ev)
			d.Root().InsertChildAt(find(t, d.Root(), "./samlp:Status").Index(), ext)
		}}, "assertion.placement", nil},
		{"EncryptedAssertion hidden in Extensions", hostile{postSign: func(t testing.TB, d *etree.Document) {
			ext := etree.NewElement("samlp:Extensions")
			ext.CreateElement("saml:EncryptedAssertion")
			d.Root().InsertChildAt(find(t, d.Root(), "./samlp:Status").Index(), ext)
		}}, "assertion.placement", nil},
		{"second unsigned Assertion before the signed one", hostile{postSign: func(t testing.TB, d *etree.Document) {
			r := d.Root()
			r.InsertChildAt(find(t, r, "./saml:Assertion").Index(), hiddenAssertion(t, d))
		}}, "assertion.count", nil},
	}
}

// TestUTF8DeclarationsAreAccepted guards the encoding rule: UTF-8 however declared passes.
func TestUTF8DeclarationsAreAccepted(t *testing.T) {
	e := newEnv(t)
	for name, prefix := range map[string]string{
		"no declaration":                  "",
		"declaration without encoding":    `<?xml version="1.0"?>`,
		"encoding UTF-8":                  `<?xml version="1.0" encoding="UTF-8"?>`,
		"encoding utf-8 in single quotes": `<?xml version='1.0' encoding='utf-8'?>`,
		"UTF-8 byte order mark":           "\xef\xbb\xbf" + `<?xml version="1.0" encoding="UTF-8" standalone="no"?>`,
	} {
		p := e.start(t, name, loa.SpidL2, "")
		status, o := e.post(t, p.RelayState, e.build(t, p, hostile{raw: func(s string) string { return prefix + s }}))
		if status != http.StatusOK || o.Identity == nil {
			t.Errorf("%s: refused: %d %v", name, status, o.Err)
		}
	}
}
