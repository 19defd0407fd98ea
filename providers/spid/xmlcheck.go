package spid

import (
	"fmt"
	"strings"

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
// DOCTYPE or other directives anywhere: SPID messages have none, and comments are how NameID
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
	for _, t := range el.Child {
		switch v := t.(type) {
		case *etree.Comment:
			return reject("xml.comment", "comments are not allowed")
		case *etree.Directive:
			return reject("xml.directive", "DOCTYPE and directives are not allowed")
		case *etree.ProcInst:
			if v.Target != "xml" || depth > 0 {
				return reject("xml.procinst", "processing instruction %q", v.Target)
			}
		case *etree.Element:
			if err := checkTokens(v, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
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
