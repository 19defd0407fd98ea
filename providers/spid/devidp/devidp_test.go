package devidp_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/inps/sportello/internal/store/memory"
	"github.com/inps/sportello/providers/saml/samlx"
	"github.com/inps/sportello/providers/spid"
	"github.com/inps/sportello/providers/spid/devidp"
)

const td = "../../../testdata/spid"

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

type fixture struct {
	srv    *httptest.Server
	idp    *devidp.IdP
	spKeys *samlx.KeyPair
	spID   string
}

func setup(t *testing.T) *fixture {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	now := func() time.Time { return t0 }
	sp, err := spid.New(spid.DevConfig(srv.URL, td), spid.Deps{Store: memory.New(memory.Options{Now: now}), Now: now, BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/spid/", sp.Handler(nil))
	idps, err := devidp.NewDevSet(srv.URL, td, srv.Client(), now, nil)
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/dev/spid/", devidp.Handler(idps))
	kp, err := samlx.LoadKeyPair(td+"/sp-dev.key", td+"/sp-dev.crt")
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{srv: srv, idp: idps[0], spKeys: kp, spID: sp.EntityID()}
}

func (f *fixture) authnRequest(dest, acsURL string) []byte {
	el := etree.NewElement("samlp:AuthnRequest")
	el.CreateAttr("xmlns:samlp", samlx.NSProtocol)
	el.CreateAttr("xmlns:saml", samlx.NSAssertion)
	el.CreateAttr("ID", "_req1")
	el.CreateAttr("Version", "2.0")
	el.CreateAttr("IssueInstant", samlx.FormatTime(t0))
	el.CreateAttr("Destination", dest)
	if acsURL != "" {
		el.CreateAttr("AssertionConsumerServiceURL", acsURL)
	} else {
		el.CreateAttr("AssertionConsumerServiceIndex", "0")
	}
	iss := el.CreateElement("saml:Issuer")
	iss.SetText(f.spID)
	rac := el.CreateElement("samlp:RequestedAuthnContext")
	rac.CreateElement("saml:AuthnContextClassRef").SetText("https://www.spid.gov.it/SpidL2")
	doc := etree.NewDocument()
	doc.SetRoot(el)
	b, _ := doc.WriteToBytes()
	return b
}

func get(t *testing.T, f *fixture, u string) (int, string) {
	t.Helper()
	resp, err := f.srv.Client().Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestMetadataIsSignedByTheIdPKey(t *testing.T) {
	f := setup(t)
	code, body := get(t, f, f.idp.MetadataURL())
	if code != http.StatusOK {
		t.Fatal(code)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromString(body); err != nil {
		t.Fatal(err)
	}
	kp, _ := samlx.LoadKeyPair(td+"/dev-idp-demo.key", td+"/dev-idp-demo.crt")
	if _, err := samlx.VerifyEnveloped(doc.Root(), []*x509.Certificate{kp.Cert}, t0); err != nil {
		t.Fatal(err)
	}
}

func TestSignedRedirectAuthnRequestShowsTheLoginForm(t *testing.T) {
	f := setup(t)
	u, _ := samlx.RedirectURL(f.idp.EntityID()+"/sso", "SAMLRequest", f.authnRequest(f.idp.EntityID()+"/sso", ""), "rs", f.spKeys)
	code, body := get(t, f, u)
	if code != http.StatusOK || !strings.Contains(body, `name="username"`) || !strings.Contains(body, `name="password"`) ||
		!strings.Contains(body, `name="level"`) || !strings.Contains(body, `value="cancel"`) {
		t.Fatalf("%d %s", code, body)
	}
}

func TestAuthnRequestRefusals(t *testing.T) {
	f := setup(t)
	sso := f.idp.EntityID() + "/sso"
	attacker, _ := samlx.LoadKeyPair(td+"/attacker.key", td+"/attacker.crt")
	for name, mk := range map[string]func() string{
		"unsigned redirect": func() string {
			u, _ := samlx.RedirectURL(sso, "SAMLRequest", f.authnRequest(sso, ""), "", f.spKeys)
			return u[:strings.Index(u, "&SigAlg=")]
		},
		"signed by a key not in the SP metadata": func() string {
			u, _ := samlx.RedirectURL(sso, "SAMLRequest", f.authnRequest(sso, ""), "", attacker)
			return u
		},
		"Destination is another IdP": func() string {
			u, _ := samlx.RedirectURL(sso, "SAMLRequest", f.authnRequest("https://other.example/sso", ""), "", f.spKeys)
			return u
		},
		"ACS URL not in the SP metadata": func() string {
			u, _ := samlx.RedirectURL(sso, "SAMLRequest", f.authnRequest(sso, "https://evil.example/acs"), "", f.spKeys)
			return u
		},
	} {
		if code, body := get(t, f, mk()); code != http.StatusBadRequest {
			t.Errorf("%s: HTTP %d %s", name, code, body)
		}
	}
	// HTTP-POST without an XML signature.
	resp, err := f.srv.Client().PostForm(sso, url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString(f.authnRequest(sso, ""))}})
	if err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unsigned POST: %v %v", err, resp.StatusCode)
	}
}

func TestTamperedLoginStateIsRefused(t *testing.T) {
	f := setup(t)
	resp, err := f.srv.Client().PostForm(f.idp.EntityID()+"/login", url.Values{"state": {"e30.AAAA"}, "username": {"RSSMRA80A01H501U"}, "password": {devidp.Password}})
	if err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("%v %v", err, resp.StatusCode)
	}
}

func TestListHandler(t *testing.T) {
	f := setup(t)
	code, body := get(t, f, f.srv.URL+"/dev/spid/")
	if code != http.StatusOK || !strings.Contains(body, `"entity_id":"`+f.srv.URL+`/dev/spid/test"`) {
		t.Fatalf("%d %s", code, body)
	}
}

var _ = context.Background
