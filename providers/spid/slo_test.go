package spid

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/internal/store/memory"
	"github.com/inps/sportello/internal/store/storetest"
	"github.com/inps/sportello/providers/saml/samlx"
)

func noRedirects(c *http.Client) *http.Client {
	c2 := *c
	c2.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c2
}

func TestSPInitiatedLogoutThroughEachDevIdP(t *testing.T) {
	e := newEnv(t)
	for _, idp := range []string{"demo", "test"} {
		e.login(t, idp, "slo-"+idp, loa.SpidL2, creds("RSSMRA80A01H501U"))
		id := e.fin.last(t).Identity
		if id == nil {
			t.Fatal("login failed")
		}
		rec := httptest.NewRecorder()
		if err := e.sp.Logout(rec, httptest.NewRequest(http.MethodGet, "/logout", nil), id, "http://127.0.0.1:9000/"); err != nil {
			t.Fatal(err)
		}
		c := noRedirects(e.client(t))
		var resp *http.Response
		var err error
		if rec.Code == http.StatusFound { // HTTP-Redirect to the IdP
			resp, err = c.Get(rec.Header().Get("Location"))
		} else { // HTTP-POST form
			action, fields := parseForm(t, rec.Body.String(), e.base)
			resp, err = c.PostForm(action, fields)
		}
		if err != nil || resp.StatusCode != http.StatusFound {
			t.Fatalf("%s: idp slo: %v %v", idp, err, resp)
		}
		back := resp.Header.Get("Location")
		if !strings.HasPrefix(back, e.base+"/spid/slo?SAMLResponse=") {
			t.Fatalf("%s: idp answered to %s", idp, back)
		}
		resp, err = c.Get(back)
		if err != nil || resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "http://127.0.0.1:9000/" {
			t.Fatalf("%s: sp slo: %v %+v", idp, err, resp)
		}
		// The LogoutResponse is single use.
		if resp, _ = c.Get(back); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("%s: replayed LogoutResponse: HTTP %d", idp, resp.StatusCode)
		}
	}
	if n := len(e.audit.ByType("spid.logout_request")); n != 2 {
		t.Fatalf("%d logout_request audit events", n)
	}
}

func logoutRequest(e *env, dest string) []byte {
	el := etree.NewElement("samlp:LogoutRequest")
	el.CreateAttr("xmlns:samlp", samlx.NSProtocol)
	el.CreateAttr("xmlns:saml", samlx.NSAssertion)
	el.CreateAttr("ID", "_idp-logout-1")
	el.CreateAttr("Version", "2.0")
	el.CreateAttr("IssueInstant", samlx.FormatTime(t0))
	el.CreateAttr("Destination", dest)
	iss := el.CreateElement("saml:Issuer")
	iss.CreateAttr("Format", samlx.NameIDEntity)
	iss.SetText(e.idps["demo"].EntityID())
	nid := el.CreateElement("saml:NameID")
	nid.CreateAttr("Format", samlx.NameIDTransient)
	nid.CreateAttr("NameQualifier", e.idps["demo"].EntityID())
	nid.SetText("_unknown-session")
	el.CreateElement("samlp:SessionIndex").SetText("_s")
	doc := etree.NewDocument()
	doc.SetRoot(el)
	b, _ := doc.WriteToBytes()
	return b
}

func TestIdPInitiatedLogoutIsAnsweredWithASignedSuccessEvenForAnUnknownSession(t *testing.T) {
	e := newEnv(t)
	var ended map[string]string
	e.sp.SetSessionEnder(func(_ context.Context, s map[string]string) error { ended = s; return nil })
	u, err := samlx.RedirectURL(e.base+"/spid/slo", "SAMLRequest", logoutRequest(e, e.base+"/spid/slo"), "rs-1", e.idpKeys)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := noRedirects(e.client(t)).Get(u)
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("%v %+v", err, resp)
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if !strings.HasPrefix(loc.String(), e.idps["demo"].EntityID()+"/slo?") {
		t.Fatalf("answered to %s", loc)
	}
	xml, rs, err := samlx.VerifyRedirectQuery(loc.RawQuery, "SAMLResponse", []*x509.Certificate{e.sp.Keys().Cert})
	if err != nil || rs != "rs-1" {
		t.Fatalf("LogoutResponse signature: %v (RelayState %q)", err, rs)
	}
	doc := etree.NewDocument()
	_ = doc.ReadFromBytes(xml)
	r := doc.Root()
	if r.Tag != "LogoutResponse" || r.SelectAttrValue("InResponseTo", "") != "_idp-logout-1" ||
		r.FindElement("./samlp:Status/samlp:StatusCode").SelectAttrValue("Value", "") != samlx.StatusSuccess {
		t.Fatalf("%s", xml)
	}
	if ended["name_id"] != "_unknown-session" || ended["idp"] != e.idps["demo"].EntityID() {
		t.Fatalf("session ender got %v", ended)
	}
}

func TestIdPInitiatedLogoutRefusals(t *testing.T) {
	e := newEnv(t)
	good := logoutRequest(e, e.base+"/spid/slo")
	for name, mk := range map[string]func() string{
		"unsigned": func() string {
			u, _ := samlx.RedirectURL(e.base+"/spid/slo", "SAMLRequest", good, "", e.idpKeys)
			return u[:strings.Index(u, "&SigAlg=")]
		},
		"signed by a key not in the metadata": func() string {
			u, _ := samlx.RedirectURL(e.base+"/spid/slo", "SAMLRequest", good, "", attacker(t))
			return u
		},
		"addressed to another SLO URL": func() string {
			u, _ := samlx.RedirectURL(e.base+"/spid/slo", "SAMLRequest", logoutRequest(e, "https://evil.example/slo"), "", e.idpKeys)
			return u
		},
		"garbage": func() string { return e.base + "/spid/slo?SAMLRequest=%%%" },
	} {
		resp, err := noRedirects(e.client(t)).Get(mk())
		if err != nil || resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %v %v", name, err, resp.StatusCode)
		}
	}
}

func TestIdPInitiatedLogoutOnHTTPPOSTNeedsTheXMLSignature(t *testing.T) {
	e := newEnv(t)
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(logoutRequest(e, e.base+"/spid/slo")); err != nil {
		t.Fatal(err)
	}
	unsigned, _ := doc.WriteToBytes()
	if err := samlx.SignEnveloped(doc.Root(), e.idpKeys); err != nil {
		t.Fatal(err)
	}
	signed, _ := doc.WriteToBytes()
	c := noRedirects(e.client(t))
	for _, tc := range []struct {
		name string
		xml  []byte
		want int
	}{{"signed", signed, http.StatusOK}, {"unsigned", unsigned, http.StatusBadRequest}} {
		resp, err := c.PostForm(e.base+"/spid/slo", url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString(tc.xml)}, "RelayState": {"r"}})
		if err != nil || resp.StatusCode != tc.want {
			t.Fatalf("%s: %v %v", tc.name, err, resp.StatusCode)
		}
		if tc.want == http.StatusOK { // answered on the same binding: a POST form to the IdP
			action, fields := parseForm(t, readBody(t, resp), e.base)
			if action != e.idps["demo"].EntityID()+"/slo" || fields.Get("SAMLResponse") == "" || fields.Get("RelayState") != "r" {
				t.Fatalf("answer form: %s %v", action, fields)
			}
		}
	}
}

func TestTraceFileGetsTheAgIDTrace(t *testing.T) {
	e := newEnv(t)
	f := filepath.Join(t.TempDir(), "trace.jsonl")
	var err error
	if e.sp.trace, err = openTrace(f); err != nil {
		t.Fatal(err)
	}
	e.login(t, "demo", "traced", loa.SpidL2, creds("RSSMRA80A01H501U"))
	if err := e.sp.Close(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(f)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"spid.authn_request"`) || !strings.Contains(lines[1], `"fiscal_number":"RSSMRA80A01H501U"`) {
		t.Fatalf("%s", b)
	}
	// The trace (with the assertion's personal data) goes to the trace file only, never to the
	// ordinary log, even at debug level.
	logs := e.log.String()
	t.Logf("ordinary log: %d bytes", len(logs))
	for _, secret := range []string{"RSSMRA80A01H501U", "Assertion", "SAMLResponse", "Rossi"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the ordinary log holds %q:\n%s", secret, logs)
		}
	}
}

// The IdP's LogoutResponse arriving while the store is cut is "temporarily unavailable" (503,
// Retry-After), not an invalid logout message; it consumes nothing, so the same response
// completes the logout once the store answers again, and only then is it used up.
func TestLogoutResponseDuringAStoreOutage(t *testing.T) {
	cut := storetest.NewCutStore(memory.New(memory.Options{}))
	e := newEnvWithStore(t, cut)
	e.login(t, "demo", "slo-outage", loa.SpidL2, creds("RSSMRA80A01H501U"))
	id := e.fin.last(t).Identity
	if id == nil {
		t.Fatal("login failed")
	}
	rec := httptest.NewRecorder()
	if err := e.sp.Logout(rec, httptest.NewRequest(http.MethodGet, "/logout", nil), id, "http://127.0.0.1:9000/"); err != nil {
		t.Fatal(err)
	}
	c := noRedirects(e.client(t))
	resp, err := c.Get(rec.Header().Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("idp slo: %v %v", err, resp)
	}
	back := resp.Header.Get("Location")
	cut.Before(func(op, key string) bool { return strings.HasPrefix(key, sloKeyPrefix) })
	resp, err = c.Get(back)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "30" ||
		!strings.Contains(string(body), "temporarily unavailable") || strings.Contains(string(body), "invalid") {
		t.Fatalf("during the outage: %d Retry-After %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	cut.Before(nil)
	if resp, err = c.Get(back); err != nil || resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "http://127.0.0.1:9000/" {
		t.Fatalf("after the outage: %v %+v", err, resp)
	}
	if resp, _ = c.Get(back); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("the response replayed after the logout: HTTP %d", resp.StatusCode)
	}
}
