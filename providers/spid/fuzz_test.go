package spid

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/beevik/etree"

	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/providers/saml/samltest"
	"github.com/inps/sportello/providers/saml/samlx"
)

// FuzzACS posts arbitrary SAMLResponse bytes to the ACS for a pending request that no valid
// signature can answer: the ACS must never panic, must always call the finisher, and must
// never accept. Seeds (testdata/fuzz/FuzzACS) are real signed responses for other requests and
// hostile variants; regenerate them with `go test -run TestWriteFuzzSeeds -update`.
func FuzzACS(f *testing.F) {
	e := newEnv(f)
	demo := e.idps["demo"].EntityID()
	if _, ok := e.sp.Registry().Lookup(context.Background(), demo); !ok {
		f.Fatal("demo IdP not loaded")
	}
	samltest.FuzzACS(f, e, e.sp.Deps().Store, "spid", demo, t0)
}

// TestWriteFuzzSeeds regenerates the committed FuzzACS seed corpus (with -update only).
func TestWriteFuzzSeeds(t *testing.T) {
	if !*update {
		t.Skip("run with -update to regenerate the seeds")
	}
	e := newEnv(t)
	seeds := map[string]hostile{
		"good-other-request": {},
		"good-both-signed":   {SignResponse: true},
		"unsigned-assertion": {UnsignedA: true, SignResponse: true},
		"status-nr25":        {Params: func(p *samlx.ResponseParams) { p.StatusCode, p.StatusMessage = samlx.StatusResponder, "ErrorCode nr25" }},
		"missing-subject":    {PreSign: func(r, a *etree.Element) { a.RemoveChild(a.FindElement("./saml:Subject")) }},
		"missing-conditions": {PreSign: func(r, a *etree.Element) { a.RemoveChild(a.FindElement("./saml:Conditions")) }},
		"missing-subject-conf-data": {PreSign: func(r, a *etree.Element) {
			sc := a.FindElement("./saml:Subject/saml:SubjectConfirmation")
			sc.RemoveChild(scd(a))
		}},
	}
	for _, row := range samltest.XSWRows(t) {
		seeds[row.Name[:4]] = row.H
	}
	at := attacker(t)
	for name, h := range map[string]hostile{
		"keyinfo-empty-cert":         {KeyInfo: samlx.KeyInfoEmptyCertificate, SignResponse: true},
		"keyinfo-none":               {KeyInfo: samlx.KeyInfoNone, SignResponse: true},
		"keyinfo-foreign-cert":       {AssertionKey: at},
		"keyinfo-foreign-key-empty":  {AssertionKey: at, KeyInfo: samlx.KeyInfoEmptyCertificate},
		"decl-utf7":                  {Raw: func(s string) string { return `<?xml version="1.0" encoding="UTF-7"?>` + s }},
		"decl-utf16-on-utf8":         {Raw: func(s string) string { return `<?xml version="1.0" encoding="UTF-16"?>` + s }},
		"bom-utf16":                  {Raw: func(s string) string { return "\xff\xfe" + s }},
		"assertion-in-extensions":    xmlRow(t, "unsigned Assertion hidden in Extensions"),
		"assertion-in-status-detail": xmlRow(t, "unsigned Assertion hidden in StatusDetail"),
	} {
		seeds[name] = h
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzACS")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, h := range seeds {
		p := e.start(t, "seed", loa.SpidL2, "")
		xml := e.build(t, p, h)
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", xml)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, s := range map[string]string{"empty": "", "not-xml": "not xml at all", "doctype": `<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>`} {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// xmlRow is the hostile response of the xmlRows row called name.
func xmlRow(t testing.TB, name string) hostile {
	for _, r := range samltest.XMLRows(t) {
		if r.Name == name {
			return r.H
		}
	}
	t.Fatalf("no xml row %q", name)
	return hostile{}
}

// FuzzSLO sends arbitrary query strings to /spid/slo: never a panic, never a 5xx, and a
// redirect only for a message the IdP really signed.
func FuzzSLO(f *testing.F) {
	e := newEnv(f)
	u, err := samlx.RedirectURL(e.base+"/spid/slo", "SAMLRequest", logoutRequest(e, e.base+"/spid/slo"), "rs", e.idpKeys)
	if err != nil {
		f.Fatal(err)
	}
	good := u[len(e.base+"/spid/slo?"):]
	f.Add(good)
	f.Add("SAMLResponse=" + good[len("SAMLRequest="):])
	h := e.sp.Handler(e.fin)
	f.Fuzz(func(t *testing.T, q string) {
		req := httptest.NewRequest(http.MethodGet, "/spid/slo", nil)
		req.URL.RawQuery = q
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch {
		case rec.Code >= 500:
			t.Fatalf("HTTP %d", rec.Code)
		case rec.Code == http.StatusFound && q != good:
			if _, _, err := samlx.VerifyRedirectQuery(q, "SAMLRequest", e.idps["demo"].Certs()); err != nil {
				t.Fatalf("answered an unverified message: %q", q)
			}
		}
	})
}
