package samltest

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/saml"
	"github.com/inps/sportello/providers/saml/samlx"
)

// Hostile describes how to derive a response from the good one.
type Hostile struct {
	Params  func(p *samlx.ResponseParams)
	PreSign func(resp, a *etree.Element)
	// PostSign edits the signed document (for XSW and tampering).
	PostSign     func(t testing.TB, doc *etree.Document)
	Raw          func(s string) string
	UnsignedA    bool
	SignResponse bool
	AssertionKey *samlx.KeyPair
	ResponseKey  *samlx.KeyPair
	// KeyInfo is what the signatures carry in KeyInfo (the table runs every shape).
	KeyInfo samlx.KeyInfoShape
}

// Row is a hostile response and the one error class it must be refused for: a RejectError
// rule ("subject.recipient", "assertion.signature.invalid"), "idp_status" or
// "idp_status.<nr>" for an IdP's non-success status, "level" for a level not reached. The
// class "<rule>.foreign_key" is a signature by a key not in the metadata: "untrusted_key" when
// KeyInfo carries that key's certificate, "invalid" when KeyInfo names no certificate. Want,
// when set, is the providers sentinel the error must also match.
type Row struct {
	Name  string
	H     Hostile
	Class string
	Want  error
}

// ClassFor is the class the row expects when the IdP signs with KeyInfo shape s.
func (r Row) ClassFor(s samlx.KeyInfoShape) string {
	if base, ok := strings.CutSuffix(r.Class, ".foreign_key"); ok {
		if s == samlx.KeyInfoCertificate {
			return base + ".untrusted_key"
		}
		return base + ".invalid"
	}
	return r.Class
}

// ClassOf names the class of an ACS refusal (see Row).
func ClassOf(err error) string {
	var re *saml.RejectError
	var se *saml.StatusError
	var le *saml.LevelError
	switch {
	case errors.As(err, &re) && errors.Is(err, providers.ErrCredentialRejected):
		return re.Rule
	case errors.As(err, &se) && se.NR != "":
		return "idp_status." + se.NR
	case errors.As(err, &se):
		return "idp_status"
	case errors.As(err, &le):
		return "level"
	}
	return fmt.Sprintf("unclassified(%v)", err)
}

// UserCodeFor is the catalogue key the person sees for a refusal of class c under the
// profile named profile.
func UserCodeFor(profile, c string) string {
	switch {
	case c == "idp_status":
		return profile + ".idp_error"
	case strings.HasPrefix(c, "idp_status."):
		return profile + "." + strings.TrimPrefix(c, "idp_status.")
	case c == "level":
		return profile + ".level_not_reached"
	}
	return profile + ".invalid_response"
}

// Rows is the whole shared table: every Response and Assertion rule, the eight XSW attacks,
// the document rules (encoding, where an Assertion may stand). now is the test clock, at a
// key no metadata lists.
func Rows(t testing.TB, now time.Time, at *samlx.KeyPair) []Row {
	return append(append(ResponseRows(now, at), XSWRows(t)...), XMLRows(t)...)
}

// Build derives the hostile response h from good (the response the IdP would send), signed
// with keys unless h says otherwise.
func Build(t testing.TB, good samlx.ResponseParams, keys *samlx.KeyPair, h Hostile) []byte {
	t.Helper()
	params := good
	params.Attributes = append([][2]string(nil), good.Attributes...)
	if h.Params != nil {
		h.Params(&params)
	}
	resp, a := samlx.BuildResponse(params)
	if h.PreSign != nil {
		h.PreSign(resp, a)
	}
	ak, rk := keys, keys
	if h.AssertionKey != nil {
		ak = h.AssertionKey
	}
	if h.ResponseKey != nil {
		rk = h.ResponseKey
	}
	if a != nil {
		if !h.UnsignedA {
			if err := samlx.SignEnveloped(a, ak, samlx.WithKeyInfo(h.KeyInfo)); err != nil {
				t.Fatal(err)
			}
		}
		resp.AddChild(a)
	}
	if h.SignResponse {
		if err := samlx.SignEnveloped(resp, rk, samlx.WithKeyInfo(h.KeyInfo)); err != nil {
			t.Fatal(err)
		}
	}
	doc := etree.NewDocument()
	doc.SetRoot(resp)
	if h.PostSign != nil {
		// Round-trip through bytes so edits see the document as the SP will.
		b, _ := doc.WriteToBytes()
		doc = etree.NewDocument()
		if err := doc.ReadFromBytes(b); err != nil {
			t.Fatal(err)
		}
		h.PostSign(t, doc)
	}
	b, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	if h.Raw != nil {
		b = []byte(h.Raw(string(b)))
	}
	return b
}

// Find returns the first element at path (etree path syntax, prefixes as written).
func Find(t testing.TB, root *etree.Element, path string) *etree.Element {
	t.Helper()
	el := root.FindElement(path)
	if el == nil {
		t.Fatalf("no %s", path)
	}
	return el
}

// SetAttr sets (or replaces) an attribute.
func SetAttr(el *etree.Element, key, val string) { el.CreateAttr(key, val) }

// SCD returns the SubjectConfirmationData of an unsigned assertion.
func SCD(a *etree.Element) *etree.Element {
	return a.FindElement("./saml:Subject/saml:SubjectConfirmation/saml:SubjectConfirmationData")
}

// Fiscal sets the fiscalNumber attribute to v.
func Fiscal(v string) func(p *samlx.ResponseParams) { return SetAttribute("fiscalNumber", v) }

// SetAttribute sets the value of the attribute name.
func SetAttribute(name, v string) func(p *samlx.ResponseParams) {
	return func(p *samlx.ResponseParams) {
		for i := range p.Attributes {
			if p.Attributes[i][0] == name {
				p.Attributes[i][1] = v
			}
		}
	}
}

// DropAttribute removes the attribute name.
func DropAttribute(name string) func(p *samlx.ResponseParams) {
	return func(p *samlx.ResponseParams) {
		var out [][2]string
		for _, a := range p.Attributes {
			if a[0] != name {
				out = append(out, a)
			}
		}
		p.Attributes = out
	}
}
