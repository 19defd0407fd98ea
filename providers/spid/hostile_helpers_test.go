package spid

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/inps/sportello/providers/saml/samltest"
	"github.com/inps/sportello/providers/saml/samlx"
)

// pendingLogin is an AuthnRequest the SP sent (to the demo IdP, HTTP-Redirect).
type pendingLogin = samltest.Pending

// start asks the SP for an AuthnRequest to the demo IdP and reads it back from the redirect
// (samltest.ACS.Start).
func (e *env) start(t testing.TB, loginID, acr, cmp string) pendingLogin {
	t.Helper()
	a := &samltest.ACS{SP: e.sp, Base: e.base, Hint: e.idps["demo"].EntityID()}
	return a.Start(t, loginID, acr, cmp)
}

// goodParams is a response the demo IdP would send for p.
func (e *env) goodParams(p pendingLogin) samlx.ResponseParams {
	return samlx.ResponseParams{
		IdP: e.idps["demo"].EntityID(), ACS: e.sp.ACSURL(), InResponseTo: p.RequestID,
		Audience: e.sp.EntityID(), Now: e.clock.Now(), ResponseID: "_resp" + p.RequestID[1:12],
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

// hostile is a response derived from the good one, hostileRow one row of the shared table
// (providers/saml/samltest).
type (
	hostile    = samltest.Hostile
	hostileRow = samltest.Row
)

// classOf names the class of an ACS refusal (see samltest.Row).
func classOf(err error) string { return samltest.ClassOf(err) }

// Good is the response the demo IdP would send for p (samltest.Target).
func (e *env) Good(p pendingLogin) samlx.ResponseParams { return e.goodParams(p) }

// Keys sign the demo IdP's responses (samltest.Target).
func (e *env) Keys() *samlx.KeyPair { return e.idpKeys }

// Start is start (samltest.Target).
func (e *env) Start(t testing.TB, loginID, acr, cmp string) pendingLogin {
	return e.start(t, loginID, acr, cmp)
}

// Post is post (samltest.Target).
func (e *env) Post(t testing.TB, relayState string, xml []byte) (int, outcome) {
	return e.post(t, relayState, xml)
}

var _ samltest.Target = (*env)(nil)

func (e *env) build(t testing.TB, p pendingLogin, h hostile) []byte {
	t.Helper()
	return samltest.Build(t, e.goodParams(p), e.idpKeys, h)
}
