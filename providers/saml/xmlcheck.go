package saml

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/beevik/etree"
)

// child describes an allowed child element and its cardinality.
type child struct {
	ns, tag  string
	min, max int
}

// children checks that el's child elements are exactly the listed ones, in that order, with
// their cardinalities, and returns them by tag.
func children(el *etree.Element, rule string, spec ...child) (map[string][]*etree.Element, error) {
	out := map[string][]*etree.Element{}
	i := 0
	for _, c := range el.ChildElements() {
		for i < len(spec) && !(c.Tag == spec[i].tag && c.NamespaceURI() == spec[i].ns) {
			i++
		}
		if i == len(spec) {
			return nil, reject(rule, "unexpected or misplaced element %s in %s", c.Tag, el.Tag)
		}
		out[c.Tag] = append(out[c.Tag], c)
		if len(out[c.Tag]) > spec[i].max {
			return nil, reject(rule, "too many %s in %s", c.Tag, el.Tag)
		}
	}
	for _, s := range spec {
		if len(out[s.tag]) < s.min {
			return nil, reject(rule, "missing %s in %s", s.tag, el.Tag)
		}
	}
	return out, nil
}

func childrenNamed(el *etree.Element, ns, tag string) []*etree.Element {
	var out []*etree.Element
	for _, c := range el.ChildElements() {
		if is(c, ns, tag) {
			out = append(out, c)
		}
	}
	return out
}

func is(el *etree.Element, ns, tag string) bool {
	return el.Tag == tag && el.NamespaceURI() == ns
}

func countDescendants(el *etree.Element, ns, tag string) int {
	n := 0
	for _, c := range el.ChildElements() {
		if is(c, ns, tag) {
			n++
		}
		n += countDescendants(c, ns, tag)
	}
	return n
}

// text returns the character data of an element that must hold only text.
func text(el *etree.Element) (string, error) {
	var sb strings.Builder
	for _, t := range el.Child {
		switch v := t.(type) {
		case *etree.CharData:
			sb.WriteString(v.Data)
		default:
			return "", fmt.Errorf("%s holds more than text", el.Tag)
		}
	}
	return strings.TrimSpace(sb.String()), nil
}

// checkTokens refuses comments, processing instructions (other than the XML declaration) and
// DOCTYPE or other directives anywhere: SAML messages have none, and comments are how NameID
// and attribute values get truncated by naive readers. It also refuses the names that do not
// survive an encoding/xml round trip (empty, or with more than one colon), which is what
// mattermost/xml-roundtrip-validator guards against, in the same walk instead of a second
// parse: and every value is read from the element as signed, re-parsed from the very bytes
// that were digested, so a round-trip quirk cannot make us read something unsigned.
func checkTokens(el *etree.Element, depth int) error {
	if depth > 64 {
		return reject("xml.depth", "nesting deeper than 64")
	}
	if depth > 0 {
		if el.Tag == "" || strings.Contains(el.Tag, ":") || strings.Contains(el.Space, ":") {
			return reject("xml.name", "element name %q:%q", el.Space, el.Tag)
		}
		for _, a := range el.Attr {
			if a.Key == "" || strings.Contains(a.Key, ":") || strings.Contains(a.Space, ":") ||
				(a.Space == "xmlns" && a.Value == "") {
				return reject("xml.name", "attribute %q:%q", a.Space, a.Key)
			}
		}
	}
	for i, t := range el.Child {
		switch v := t.(type) {
		case *etree.Comment:
			return reject("xml.comment", "comments are not allowed")
		case *etree.Directive:
			return reject("xml.directive", "DOCTYPE and directives are not allowed")
		case *etree.ProcInst:
			if v.Target != "xml" || depth > 0 {
				return reject("xml.procinst", "processing instruction %q", v.Target)
			}
			// The XML declaration is the very first thing (after a UTF-8 byte order mark), and
			// there is one: checkEncoding only reads the one at the start.
			if i > 1 || (i == 1 && !isUTF8BOM(el.Child[0])) {
				return reject("xml.declaration", "XML declaration not at the start of the document")
			}
		case *etree.Element:
			if err := checkTokens(v, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

func isUTF8BOM(t etree.Token) bool {
	cd, ok := t.(*etree.CharData)
	return ok && cd.Data == "\ufeff"
}

// uniqueIDs refuses a document where two elements share an ID (the basis of most signature
// wrapping attacks).
func uniqueIDs(el *etree.Element, seen map[string]bool) error {
	if id := el.SelectAttrValue("ID", ""); id != "" {
		if seen[id] {
			return reject("xml.duplicate_id", "ID %q used twice", id)
		}
		seen[id] = true
	}
	for _, c := range el.ChildElements() {
		if err := uniqueIDs(c, seen); err != nil {
			return err
		}
	}
	return nil
}

// parseMessage reads a SAML message as received (base64-decoded and, on HTTP-Redirect,
// inflated): UTF-8 only (checkEncoding), parsed with a reader that refuses any other charset
// instead of reading its bytes as UTF-8, then checkTokens.
func parseMessage(raw []byte) (*etree.Document, error) {
	if err := checkEncoding(raw); err != nil {
		return nil, err
	}
	doc := etree.NewDocument()
	// etree's default reads any declared charset as UTF-8; a later declaration naming another
	// charset (checkEncoding reads the first one) must fail, never be read as UTF-8.
	charset := ""
	doc.ReadSettings.CharsetReader = func(label string, _ io.Reader) (io.Reader, error) {
		charset = label
		return nil, fmt.Errorf("encoding %q is not UTF-8", label)
	}
	if err := doc.ReadFromBytes(raw); err != nil {
		if charset != "" {
			return nil, reject("xml.encoding", "declared encoding %q, only UTF-8 is accepted", charset)
		}
		return nil, reject("xml.parse", "%v", err)
	}
	if err := checkTokens(&doc.Element, 0); err != nil {
		return nil, err
	}
	return doc, nil
}

var (
	utf8BOM      = []byte("\xef\xbb\xbf")
	xmlDeclStart = regexp.MustCompile(`^<\?xml[ \t\r\n?]`)
	encodingAttr = regexp.MustCompile(`[ \t\r\n]encoding[ \t\r\n]*=[ \t\r\n]*(?:"([^"]*)"|'([^']*)')`)
)

// checkEncoding refuses a message that is not UTF-8: a UTF-16 or UTF-32 byte order mark, NUL
// bytes (UTF-16/32 without a mark), invalid UTF-8 sequences, or an XML declaration naming any
// encoding other than UTF-8 (UTF-7, UTF-16 on UTF-8 bytes...). Parsers disagree on such
// documents (one reads the bytes as UTF-8, another as the declared charset), and a signature
// checked by one and a value read by the other is how such disagreements are exploited.
func checkEncoding(raw []byte) error {
	switch {
	case bytes.HasPrefix(raw, []byte{0xfe, 0xff}), bytes.HasPrefix(raw, []byte{0xff, 0xfe}),
		bytes.HasPrefix(raw, []byte{0, 0, 0xfe, 0xff}):
		return reject("xml.encoding", "UTF-16 or UTF-32 byte order mark")
	case bytes.IndexByte(raw, 0) >= 0:
		return reject("xml.encoding", "NUL byte: not UTF-8")
	case !utf8.Valid(raw):
		return reject("xml.encoding", "invalid UTF-8")
	}
	rest := bytes.TrimPrefix(raw, utf8BOM)
	if !xmlDeclStart.Match(rest) {
		return nil
	}
	end := bytes.Index(rest, []byte("?>"))
	if end < 0 {
		return reject("xml.encoding", "unterminated XML declaration")
	}
	decl := rest[:end]
	m := encodingAttr.FindSubmatch(decl)
	if m == nil {
		if bytes.Contains(decl, []byte("encoding")) {
			return reject("xml.encoding", "malformed encoding declaration")
		}
		return nil
	}
	enc := string(m[1]) + string(m[2])
	if !strings.EqualFold(enc, "UTF-8") {
		return reject("xml.encoding", "declared encoding %q, only UTF-8 is accepted", enc)
	}
	return nil
}

// assertionNames are the local names refused anywhere but as a direct child of the Response,
// in any namespace: a reader that looks for "the Assertion" by name must never find another.
var assertionNames = map[string]bool{"Assertion": true, "EncryptedAssertion": true}

// checkAssertionPlacement refuses an Assertion (or EncryptedAssertion) that is not a direct
// child of the Response (hidden in Extensions, in a signature's Object, in Advice, in a nested
// Response...) and more than one in the document.
func checkAssertionPlacement(root *etree.Element) error {
	n := 0
	var walk func(el *etree.Element) error
	walk = func(el *etree.Element) error {
		for _, c := range el.ChildElements() {
			if assertionNames[c.Tag] {
				if el != root {
					return reject("assertion.placement", "%s inside %s: an Assertion is only a direct child of the Response", c.Tag, el.Tag)
				}
				n++
			}
			if err := walk(c); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(root); err != nil {
		return err
	}
	if n > 1 {
		return reject("assertion.count", "%d assertions, at most one allowed", n)
	}
	return nil
}
