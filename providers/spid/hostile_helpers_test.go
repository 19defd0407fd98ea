package spid

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/saml/samlx"
)

// pendingLogin is an AuthnRequest the SP sent (to the demo IdP, HTTP-Redirect).
type pendingLogin struct {
	RelayState string
	RequestID  string
}

// start asks the SP for an AuthnRequest to the demo IdP and reads it back from the redirect.
func (e *env) start(t testing.TB, loginID, acr, cmp string) pendingLogin {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, e.base+"/start", nil)
	err := e.sp.Start(rec, req, &providers.LoginRequest{ID: loginID, ACR: acr, Comparison: cmp, Hint: e.idps["demo"].EntityID()})
	if err != nil {
		t.Fatal(err)
	}
	loc, err := url.Parse(rec.Header().Get("Location"))
	if err != nil || rec.Code != http.StatusFound {
		t.Fatalf("start: HTTP %d %q", rec.Code, rec.Header().Get("Location"))
	}
	xml, err := samlx.InflateBase64(loc.Query().Get("SAMLRequest"))
	if err != nil {
		t.Fatal(err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(xml); err != nil {
		t.Fatal(err)
	}
	return pendingLogin{RelayState: loc.Query().Get("RelayState"), RequestID: doc.Root().SelectAttrValue("ID", "")}
}

// goodParams is a response the demo IdP would send for p.
func (e *env) goodParams(p pendingLogin) samlx.ResponseParams {
	return samlx.ResponseParams{
		IdP: e.idps["demo"].EntityID(), ACS: e.sp.sp.ACSURL, InResponseTo: p.RequestID,
		Audience: e.sp.sp.EntityID, Now: e.clock.Now(), ResponseID: "_resp" + p.RequestID[1:12],
		AssertionID: "_assert" + p.RequestID[1:12], NameID: "_nameid1", SessionIndex: "_session1", Level: 2,
		Attributes: [][2]string{
			{"spidCode", "DEVS000000001"}, {"name", "Mario"}, {"familyName", "Rossi"},
			{"fiscalNumber", "TINIT-RSSMRA80A01H501U"}, {"dateOfBirth", "1980-01-01"},
		},
	}
}

// post delivers a SAMLResponse to the ACS and returns the status and the finisher's outcome.
func (e *env) post(t testing.TB, relayState string, xml []byte) (int, outcome) {
	t.Helper()
	form := url.Values{"SAMLResponse": {base64.StdEncoding.EncodeToString(xml)}, "RelayState": {relayState}}
	req := httptest.NewRequest(http.MethodPost, e.base+"/spid/acs", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	before := e.fin.count()
	e.sp.Handler(e.fin).ServeHTTP(rec, req)
	if e.fin.count() != before+1 {
		t.Fatalf("ACS called the finisher %d times", e.fin.count()-before)
	}
	return rec.Code, e.fin.last(t)
}

// hostile describes how to derive a response from the good one.
type hostile struct {
	params  func(p *samlx.ResponseParams)
	preSign func(resp, a *etree.Element)
	// postSign edits the signed document (for XSW and tampering).
	postSign     func(t testing.TB, doc *etree.Document)
	raw          func(s string) string
	unsignedA    bool
	signResponse bool
	assertionKey *samlx.KeyPair
	responseKey  *samlx.KeyPair
	// keyInfo is what the signatures carry in KeyInfo (the table runs every shape).
	keyInfo samlx.KeyInfoShape
}

// hostileRow is a hostile response and the one error class it must be refused for: a
// RejectError rule ("subject.recipient", "assertion.signature.invalid"), "idp_status" or
// "idp_status.<nr>" for an IdP's non-success status, "level" for a level not reached. The class
// "<rule>.foreign_key" is a signature by a key not in the metadata: "untrusted_key" when KeyInfo
// carries that key's certificate, "invalid" when KeyInfo names no certificate. want, when set,
// is the providers sentinel the error must also match.
type hostileRow struct {
	name  string
	h     hostile
	class string
	want  error
}

// classFor is the class the row expects when the IdP signs with KeyInfo shape s.
func (r hostileRow) classFor(s samlx.KeyInfoShape) string {
	if base, ok := strings.CutSuffix(r.class, ".foreign_key"); ok {
		if s == samlx.KeyInfoCertificate {
			return base + ".untrusted_key"
		}
		return base + ".invalid"
	}
	return r.class
}

// classOf names the class of an ACS refusal (see hostileRow).
func classOf(err error) string {
	var re *RejectError
	var se *StatusError
	var le *levelError
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

// userCodeFor is the catalogue key the person sees for a refusal of class c.
func userCodeFor(c string) string {
	switch {
	case c == "idp_status":
		return "spid.idp_error"
	case strings.HasPrefix(c, "idp_status."):
		return "spid." + strings.TrimPrefix(c, "idp_status.")
	case c == "level":
		return "spid.level_not_reached"
	}
	return "spid.invalid_response"
}

func (e *env) build(t testing.TB, p pendingLogin, h hostile) []byte {
	t.Helper()
	params := e.goodParams(p)
	if h.params != nil {
		h.params(&params)
	}
	resp, a := samlx.BuildResponse(params)
	if h.preSign != nil {
		h.preSign(resp, a)
	}
	ak, rk := e.idpKeys, e.idpKeys
	if h.assertionKey != nil {
		ak = h.assertionKey
	}
	if h.responseKey != nil {
		rk = h.responseKey
	}
	if a != nil {
		if !h.unsignedA {
			if err := samlx.SignEnveloped(a, ak, samlx.WithKeyInfo(h.keyInfo)); err != nil {
				t.Fatal(err)
			}
		}
		resp.AddChild(a)
	}
	if h.signResponse {
		if err := samlx.SignEnveloped(resp, rk, samlx.WithKeyInfo(h.keyInfo)); err != nil {
			t.Fatal(err)
		}
	}
	doc := etree.NewDocument()
	doc.SetRoot(resp)
	if h.postSign != nil {
		// Round-trip through bytes so edits see the document as the SP will.
		b, _ := doc.WriteToBytes()
		doc = etree.NewDocument()
		if err := doc.ReadFromBytes(b); err != nil {
			t.Fatal(err)
		}
		h.postSign(t, doc)
	}
	b, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	if h.raw != nil {
		b = []byte(h.raw(string(b)))
	}
	return b
}

// find returns the first element at path (etree path syntax, prefixes as written).
func find(t testing.TB, root *etree.Element, path string) *etree.Element {
	t.Helper()
	el := root.FindElement(path)
	if el == nil {
		t.Fatalf("no %s", path)
	}
	return el
}

func setAttr(el *etree.Element, key, val string) { el.CreateAttr(key, val) }
