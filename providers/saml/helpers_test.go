package saml

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/internal/store/memory"
	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/saml/samlx"
)

// t0 is the fixed time of the tests (the committed test certificates are valid 2025-2045).
var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

const testdataDir = "../../testdata/spid/"

// demoIdP is the entity of the dev IdP "demo" at https://idp.example (devMetadata).
const demoIdP = "https://idp.example/dev/spid/demo"

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func loadKeys(t testing.TB, name string) *samlx.KeyPair {
	t.Helper()
	kp, err := samlx.LoadKeyPair(testdataDir+name+".key", testdataDir+name+".crt")
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

// engine is an SP under one profile, whose one IdP is the dev IdP demo (metadata from a
// file), on a memory store.
type engine struct {
	sp      *SP
	clock   *testClock
	idpKeys *samlx.KeyPair
	events  []string // audit event types, in order
}

func testConfig(t testing.TB, mdFile string) Config {
	return Config{
		EntityID: "https://sp.example/metadata", ACSURL: "https://sp.example/acs", SLOURL: "https://sp.example/slo",
		Keys: loadKeys(t, "sp-dev"),
		Organization: Organization{
			Names:        map[string]string{"it": "Istituto Nazionale della Previdenza Sociale"},
			DisplayNames: map[string]string{"it": "INPS"},
			URLs:         map[string]string{"it": "https://www.inps.it"},
		},
		AttributeServices: []AttributeService{{Index: 0, Names: map[string]string{"it": "Servizi online"},
			Attributes: []string{"name", "familyName", "dateOfBirth", "fiscalNumber"}}},
		MetadataValidity: 24 * time.Hour,
		IdPs:             []IdPConfig{{MetadataFile: mdFile, Binding: "redirect"}},
		MetadataRefresh:  time.Hour,
		ClockSkew:        time.Minute,
		RequestTTL:       15 * time.Minute,
	}
}

func newEngine(t testing.TB, prof Profile) *engine {
	t.Helper()
	return newEngineWith(t, prof, nil)
}

// newEngineWith is newEngine with its Deps edited by edit before New (nil: as they are).
func newEngineWith(t testing.TB, prof Profile, edit func(*Deps)) *engine {
	t.Helper()
	md := devMetadata(t, "demo", "dev-idp-demo")
	f := filepath.Join(t.TempDir(), "idp.xml")
	if err := os.WriteFile(f, md, 0o600); err != nil {
		t.Fatal(err)
	}
	e := &engine{clock: &testClock{t: t0}, idpKeys: loadKeys(t, "dev-idp-demo")}
	st := memory.New(memory.Options{Now: e.clock.Now})
	t.Cleanup(func() { _ = st.Close() })
	var mu sync.Mutex
	deps := Deps{Store: st, Now: e.clock.Now,
		Audit: func(_ context.Context, typ, _ string, _ map[string]any) {
			mu.Lock()
			defer mu.Unlock()
			e.events = append(e.events, typ)
		}}
	if edit != nil {
		edit(&deps)
	}
	sp, err := New(prof, testConfig(t, f), deps)
	if err != nil {
		t.Fatal(err)
	}
	e.sp = sp
	return e
}

// pending is an AuthnRequest the SP sent (HTTP-Redirect) and what it said.
type pending struct {
	RelayState string
	RequestID  string
	Request    *etree.Element
}

// start sends an AuthnRequest to the demo IdP and reads it back from the redirect.
func (e *engine) start(t testing.TB, level int, cmp string) pending {
	t.Helper()
	idp, ok := e.sp.Registry().Lookup(context.Background(), demoIdP)
	if !ok {
		t.Fatal("demo IdP not loaded")
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "https://sp.example/start", nil)
	if _, err := e.sp.SendAuthnRequest(rec, req, AuthnRequest{LoginID: "login", IdP: idp, Level: level, Comparison: cmp}); err != nil {
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
	return pending{RelayState: loc.Query().Get("RelayState"), RequestID: doc.Root().SelectAttrValue("ID", ""), Request: doc.Root()}
}

// params is the good response of the demo IdP to p, at level 2.
func (e *engine) params(p pending) samlx.ResponseParams {
	return samlx.ResponseParams{
		IdP: demoIdP, ACS: e.sp.cfg.ACSURL, InResponseTo: p.RequestID, Audience: e.sp.cfg.EntityID,
		Now: e.clock.Now(), ResponseID: "_resp" + p.RequestID[1:12], AssertionID: "_assert" + p.RequestID[1:12],
		NameID: "_nameid1", SessionIndex: "_session1", Level: 2,
		Attributes: [][2]string{{"name", "Mario"}, {"familyName", "Rossi"}, {"fiscalNumber", "TINIT-RSSMRA80A01H501U"}},
	}
}

// response builds the response of params, edited by edit before signing (the Assertion is nil
// for a non-success status), the Assertion signed and the Response too.
func (e *engine) response(t testing.TB, params samlx.ResponseParams, edit func(resp, a *etree.Element)) []byte {
	t.Helper()
	resp, a := samlx.BuildResponse(params)
	if edit != nil {
		edit(resp, a)
	}
	b, err := samlx.Assemble(resp, a, e.idpKeys, true, true)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// consume posts raw for p through Consume, accepting whatever validated.
func (e *engine) consume(t testing.TB, p pending, raw []byte) (*Assertion, error) {
	t.Helper()
	rec, err := e.sp.PeekRequest(context.Background(), p.RelayState)
	if err != nil {
		return nil, err
	}
	return e.sp.Consume(context.Background(), p.RelayState, rec, raw, func(*Assertion, *IdP) error { return nil })
}

// spidLike is a profile with SPID's knobs and a contact of its own: the engine's reference.
func spidLike() Profile {
	return Profile{
		Name:            "spidlike",
		LevelURIs:       []string{loa.SpidL1, loa.SpidL2, loa.SpidL3},
		ResponseIssuer:  IssuerFormatOptional,
		AssertionIssuer: IssuerFormatRequired,
		ForceAuthnFrom:  2,
		Comparisons:     []string{"minimum", "exact"},
		Attributes:      []string{"spidCode", "name", "familyName", "dateOfBirth", "fiscalNumber", "email"},
		ErrorCodes:      []ErrorCode{{"nr22", providers.ErrDenied}, {"nr25", providers.ErrCancelled}},
		WriteContacts: func(ed *etree.Element) {
			cp := ed.CreateElement("md:ContactPerson")
			cp.CreateAttr("contactType", "other")
			cp.CreateElement("md:EmailAddress").SetText("sp@example.it")
		},
	}
}
