package eidas

import (
	"context"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/saml/samlx"
)

func noRedirects(c *http.Client) *http.Client {
	c2 := *c
	c2.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c2
}

// annaLogin logs Anna Schmidt in through the dev node and returns her identity.
func annaLogin(t *testing.T, e *env, loginID string) *providers.Identity {
	t.Helper()
	if status, body := e.login(t, loginID, loa.SpidL2, url.Values{"country": {"DE"}, "username": {"DE/IT/0123456789ABCDEF"},
		"password": {"test-password"}, "action": {"login"}}); status != http.StatusOK {
		t.Fatalf("login: %d %s", status, body)
	}
	id := e.fin.Last(t).Identity
	if id == nil || id.Session["idp"] != e.idp.EntityID() || id.Session["name_id"] == "" || id.Session["session_index"] == "" {
		t.Fatalf("identity without an eIDAS session: %+v", id)
	}
	return id
}

// SP-initiated single logout through the dev eIDAS node: a signed LogoutRequest to the node's
// SLO endpoint for the login's NameID and SessionIndex, the node's signed LogoutResponse back
// at /eidas/slo, then returnTo; the LogoutResponse is single use.
func TestSPInitiatedLogoutThroughTheDevNode(t *testing.T) {
	e := newEnv(t, nil)
	id := annaLogin(t, e, "slo-anna")
	rec := httptest.NewRecorder()
	if err := e.sp.Logout(rec, httptest.NewRequest(http.MethodGet, "/end_session", nil), id, "http://127.0.0.1:9000/"); err != nil {
		t.Fatal(err)
	}
	loc, err := url.Parse(rec.Header().Get("Location"))
	if rec.Code != http.StatusFound || err != nil || !strings.HasPrefix(loc.String(), e.idp.EntityID()+"/slo?") {
		t.Fatalf("logout went to %d %q", rec.Code, rec.Header().Get("Location"))
	}
	xml, _, err := samlx.VerifyRedirectQuery(loc.RawQuery, "SAMLRequest", []*x509.Certificate{e.spCert(t)})
	if err != nil {
		t.Fatalf("LogoutRequest signature: %v", err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(xml); err != nil {
		t.Fatal(err)
	}
	lr := doc.Root()
	if lr.Tag != "LogoutRequest" || lr.SelectAttrValue("Destination", "") != e.idp.EntityID()+"/slo" ||
		lr.FindElement("./saml:NameID").Text() != id.Session["name_id"] ||
		lr.FindElement("./saml:NameID").SelectAttrValue("NameQualifier", "") != id.Session["name_qualifier"] ||
		lr.FindElement("./samlp:SessionIndex").Text() != id.Session["session_index"] ||
		lr.FindElement("./saml:Issuer").Text() != e.sp.EntityID() {
		t.Fatalf("LogoutRequest: %s", xml)
	}
	c := noRedirects(e.srv.Client())
	resp, err := c.Get(loc.String())
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("node slo: %v %+v", err, resp)
	}
	back := resp.Header.Get("Location")
	if !strings.HasPrefix(back, e.base+"/eidas/slo?SAMLResponse=") {
		t.Fatalf("the node answered to %s", back)
	}
	resp, err = c.Get(back)
	if err != nil || resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "http://127.0.0.1:9000/" {
		t.Fatalf("sp slo: %v %+v", err, resp)
	}
	if resp, _ = c.Get(back); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("replayed LogoutResponse: HTTP %d", resp.StatusCode)
	}
	if n, m := len(e.audit.ByType("eidas.logout_request")), len(e.audit.ByType("eidas.logout_response")); n != 1 || m != 1 {
		t.Fatalf("%d logout_request, %d logout_response audit events", n, m)
	}
	if err := e.sp.Logout(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/end_session", nil),
		&providers.Identity{Method: providers.MethodEIDAS}, "/"); err == nil {
		t.Fatal("a logout of an identity without an eIDAS session was started")
	}
}

func (e *env) spCert(t *testing.T) *x509.Certificate {
	t.Helper()
	kp, err := samlx.LoadKeyPair(testdataDir+"sp-dev.key", testdataDir+"sp-dev.crt")
	if err != nil {
		t.Fatal(err)
	}
	return kp.Cert
}

// nodeLogoutRequest is the node's LogoutRequest for a session (IdP-initiated logout).
func nodeLogoutRequest(e *env, nameID, sessionIndex string) []byte {
	el := etree.NewElement("samlp:LogoutRequest")
	el.CreateAttr("xmlns:samlp", samlx.NSProtocol)
	el.CreateAttr("xmlns:saml", samlx.NSAssertion)
	el.CreateAttr("ID", "_node-logout-1")
	el.CreateAttr("Version", "2.0")
	el.CreateAttr("IssueInstant", samlx.FormatTime(e.clock.Now()))
	el.CreateAttr("Destination", e.base+"/eidas/slo")
	iss := el.CreateElement("saml:Issuer")
	iss.CreateAttr("Format", samlx.NameIDEntity)
	iss.SetText(e.idp.EntityID())
	nid := el.CreateElement("saml:NameID")
	nid.CreateAttr("Format", samlx.NameIDTransient)
	nid.CreateAttr("NameQualifier", e.idp.EntityID())
	nid.SetText(nameID)
	el.CreateElement("samlp:SessionIndex").SetText(sessionIndex)
	doc := etree.NewDocument()
	doc.SetRoot(el)
	b, _ := doc.WriteToBytes()
	return b
}

// The node's own LogoutRequest, signed with its metadata key, ends the broker session of the
// login (SessionEnder is given the node, NameID and SessionIndex) and is answered with a signed
// success LogoutResponse on the node's SLO endpoint; one signed with any other key ends
// nothing and is a 400.
func TestNodeInitiatedLogout(t *testing.T) {
	e := newEnv(t, nil)
	id := annaLogin(t, e, "idp-slo-anna")
	var ended []map[string]string
	e.sp.SetSessionEnder(func(_ context.Context, s map[string]string) error { ended = append(ended, s); return nil })
	c := noRedirects(e.srv.Client())

	forger, err := samlx.LoadKeyPair(testdataDir+"sp-dev.key", testdataDir+"sp-dev.crt")
	if err != nil {
		t.Fatal(err)
	}
	forged, err := samlx.RedirectURL(e.base+"/eidas/slo", "SAMLRequest",
		nodeLogoutRequest(e, id.Session["name_id"], id.Session["session_index"]), "rs-forged", forger)
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := c.Get(forged); err != nil || resp.StatusCode != http.StatusBadRequest || len(ended) != 0 {
		t.Fatalf("a LogoutRequest not signed by the node: %v %+v, ended %v", err, resp, ended)
	}

	u, err := samlx.RedirectURL(e.base+"/eidas/slo", "SAMLRequest",
		nodeLogoutRequest(e, id.Session["name_id"], id.Session["session_index"]), "rs-1", e.keys)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Get(u)
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("%v %+v", err, resp)
	}
	if len(ended) != 1 || ended[0]["idp"] != id.Session["idp"] || ended[0]["name_id"] != id.Session["name_id"] ||
		ended[0]["session_index"] != id.Session["session_index"] {
		t.Fatalf("sessions ended %v, login's %v", ended, id.Session)
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if !strings.HasPrefix(loc.String(), e.idp.EntityID()+"/slo?") {
		t.Fatalf("answered to %s", loc)
	}
	xml, rs, err := samlx.VerifyRedirectQuery(loc.RawQuery, "SAMLResponse", []*x509.Certificate{e.spCert(t)})
	if err != nil || rs != "rs-1" {
		t.Fatalf("LogoutResponse signature: %v (RelayState %q)", err, rs)
	}
	doc := etree.NewDocument()
	_ = doc.ReadFromBytes(xml)
	r := doc.Root()
	if r.Tag != "LogoutResponse" || r.SelectAttrValue("InResponseTo", "") != "_node-logout-1" ||
		r.FindElement("./samlp:Status/samlp:StatusCode").SelectAttrValue("Value", "") != samlx.StatusSuccess {
		t.Fatalf("%s", xml)
	}
	if n := len(e.audit.ByType("eidas.logout_idp")); n != 1 {
		t.Fatalf("%d logout_idp audit events", n)
	}
}
