package samltest

import (
	"encoding/base64"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/saml/samlx"
)

// ACS is a profile's SP under test as the table and the login tests drive it, the same for
// every profile: Start (the AuthnRequest read back from the redirect) and Post (a
// SAMLResponse to the Assertion Consumer Service, the Finisher's outcome). A profile's test
// environment embeds it and adds its Good response and its IdP's Keys to be a Target.
type ACS struct {
	// SP is the provider under test; Fin the Finisher its handler reports to.
	SP  providers.RedirectProvider
	Fin *Finisher
	// Base is the test server's URL; Path the ACS path ("/cieid/acs").
	Base, Path string
	// Hint is the LoginRequest.Hint of the logins it starts (SPID: the IdP's entityID).
	Hint string
}

// Start asks the SP for an AuthnRequest and reads it back from the redirect.
func (a *ACS) Start(t testing.TB, loginID, acr, cmp string) Pending {
	t.Helper()
	_, doc, rs := a.Request(t, &providers.LoginRequest{ID: loginID, ACR: acr, Comparison: cmp})
	return Pending{RelayState: rs, RequestID: doc.Root().SelectAttrValue("ID", "")}
}

// Request starts req (Hint set when empty) on HTTP-Redirect and returns the redirect URL, the
// AuthnRequest and the RelayState.
func (a *ACS) Request(t testing.TB, req *providers.LoginRequest) (*url.URL, *etree.Document, string) {
	t.Helper()
	if req.Hint == "" {
		req.Hint = a.Hint
	}
	rec := httptest.NewRecorder()
	if err := a.SP.Start(rec, httptest.NewRequest(http.MethodGet, a.Base+"/start", nil), req); err != nil {
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
	return loc, doc, loc.Query().Get("RelayState")
}

// Post delivers a SAMLResponse to the ACS: the HTTP status and the Finisher's outcome. The
// ACS must call the Finisher exactly once.
func (a *ACS) Post(t testing.TB, relayState string, xml []byte) (int, Outcome) {
	t.Helper()
	form := url.Values{"SAMLResponse": {base64.StdEncoding.EncodeToString(xml)}, "RelayState": {relayState}}
	req := httptest.NewRequest(http.MethodPost, a.Base+a.Path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	before := a.Fin.Count()
	a.SP.Handler(a.Fin).ServeHTTP(rec, req)
	if a.Fin.Count() != before+1 {
		t.Fatalf("ACS called the finisher %d times", a.Fin.Count()-before)
	}
	return rec.Code, a.Fin.Last(t)
}

var (
	formRe  = regexp.MustCompile(`<form method="post" action="([^"]*)">`)
	inputRe = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
)

// ParseForm reads the first form of a page (a dev IdP's login form, an auto-submitting
// HTTP-POST form): its action (made absolute against base) and its hidden fields.
func ParseForm(t testing.TB, page, base string) (string, url.Values) {
	t.Helper()
	m := formRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no form in page:\n%s", page)
	}
	action := html.UnescapeString(m[1])
	if strings.HasPrefix(action, "/") {
		action = base + action
	}
	v := url.Values{}
	for _, in := range inputRe.FindAllStringSubmatch(page, -1) {
		v.Set(html.UnescapeString(in[1]), html.UnescapeString(in[2]))
	}
	return action, v
}

// ReadBody reads and closes resp's body.
func ReadBody(t testing.TB, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// DevLogin drives a whole login through a dev IdP like a browser without JavaScript: GET
// start (the redirect to the IdP's form), the form posted with form's fields, the
// auto-submitting form to the ACS; it returns the ACS's status and page.
func DevLogin(t testing.TB, c *http.Client, start, base string, form url.Values) (int, string) {
	t.Helper()
	c2 := *c
	c2.Jar, _ = cookiejar.New(nil)
	resp, err := c2.Get(start)
	if err != nil {
		t.Fatal(err)
	}
	page := ReadBody(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("start: HTTP %d: %s", resp.StatusCode, page)
	}
	action, fields := ParseForm(t, page, base)
	for k, v := range form {
		fields[k] = v
	}
	if resp, err = c2.PostForm(action, fields); err != nil {
		t.Fatal(err)
	}
	action, fields = ParseForm(t, ReadBody(t, resp), base)
	if resp, err = c2.PostForm(action, fields); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, ReadBody(t, resp)
}

// RunProfile runs the shared table (Rows) against tg as it holds under prof (Apply): the
// one harness of every profile's ACS. attacker is a key pair in no metadata.
func RunProfile(t *testing.T, tg Target, prof Profile, now time.Time, attacker *samlx.KeyPair) {
	Run(t, tg, prof.Name, prof.Apply(t, Rows(t, now, attacker)))
}

// RunGood guards the table: the good response, unmodified, is accepted (200, an identity
// that ok approves) whether or not the Response is signed too, whatever KeyInfo the
// signatures carry. A table whose good response is refused would prove nothing.
func RunGood(t *testing.T, tg Target, ok func(*providers.Identity) bool) {
	for _, shape := range samlx.KeyInfoShapes {
		for _, signResp := range []bool{false, true} {
			p := tg.Start(t, "good", loa.SpidL2, "")
			status, o := tg.Post(t, p.RelayState, Build(t, tg.Good(p), tg.Keys(), Hostile{SignResponse: signResp, KeyInfo: shape}))
			if status != http.StatusOK || o.Identity == nil || !ok(o.Identity) {
				t.Fatalf("keyinfo=%s signResponse=%v: %d %+v", shape, signResp, status, o)
			}
		}
	}
}

// KeyPair loads the key pair name (name.key, name.crt) of dir, the repository's testdata/spid:
// "attacker" is a key in no metadata, for the table's foreign-key rows.
func KeyPair(t testing.TB, dir, name string) *samlx.KeyPair {
	t.Helper()
	kp, err := samlx.LoadKeyPair(strings.TrimRight(dir, "/")+"/"+name+".key", strings.TrimRight(dir, "/")+"/"+name+".crt")
	if err != nil {
		t.Fatal(err)
	}
	return kp
}
