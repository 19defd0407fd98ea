package eidas

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/saml"
	"github.com/inps/sportello/providers/saml/samltest"
)

// TestCountryHintChecks: eidas_country takes an ISO 3166-1 alpha-2 code in upper case that
// the node offers (the dev node: DE and ES), nothing else.
func TestCountryHintChecks(t *testing.T) {
	p := goldenProvider(t, nil)
	if got := p.HintParams(); !slices.Equal(got, []string{"eidas_country"}) {
		t.Fatalf("HintParams %v", got)
	}
	for _, ok := range []string{"DE", "ES"} {
		if err := p.CheckHint(CountryHint, ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{
		"", "de", "De", "D", "DEU", "276", "FR", "IT", "XX", "D E", " DE", "DE ", "DE\n", "DE\x00",
		"ÄÖ", "Ｄ", "DE,ES", "DE&country=ES", "<script>", "../", "%44%45", strings.Repeat("D", 4096),
	} {
		if err := p.CheckHint(CountryHint, bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if err := p.CheckHint("idp", "DE"); err == nil {
		t.Error("a parameter of another provider accepted")
	}
	// With no countries configured the node is taken to offer the other EU and EEA states.
	def := goldenProvider(t, func(c *Config) { c.Countries = nil; c.applyDefaults() })
	for cc, want := range map[string]bool{"FR": true, "NO": true, "DE": true, "IT": false, "GB": false, "US": false} {
		if err := def.CheckHint(CountryHint, cc); (err == nil) != want {
			t.Errorf("default countries, %s: %v", cc, err)
		}
	}
}

func TestCountriesConfigRules(t *testing.T) {
	for name, countries := range map[string][]string{
		"lower case":  {"de"},
		"three":       {"DEU"},
		"Italy":       {"IT"},
		"twice":       {"DE", "ES", "DE"},
		"not letters": {"D1"},
	} {
		cfg := DevConfig(fixedBase, testdataDir)
		cfg.Countries = countries
		found := false
		for _, err := range cfg.Validate("providers.eidas", true) {
			found = found || strings.HasPrefix(err.Error(), "providers.eidas.countries")
		}
		if !found {
			t.Errorf("%s: %v not refused", name, countries)
		}
	}
	if errs := DevConfig(fixedBase, testdataDir).Validate("providers.eidas", true); len(errs) > 0 {
		t.Fatalf("dev config: %v", errs)
	}
}

var selectedRe = regexp.MustCompile(`<option value="([A-Z]{2})" selected>`)

// TestCountryHintReachesTheNode: with eidas_country the node is sent country beside the signed
// query, the signature still verifies, and the dev node's form preselects the country;
// without it there is no country and nothing is preselected.
func TestCountryHintReachesTheNode(t *testing.T) {
	e := newEnv(t, nil)
	for _, tc := range []struct{ hint, want string }{{"DE", "DE"}, {"ES", "ES"}, {"", ""}} {
		req := &providers.LoginRequest{ID: "country-" + tc.hint, ACR: loa.SpidL2}
		if tc.hint != "" {
			req.Hints = map[string]string{CountryHint: tc.hint, "other_hint": "ignored"}
		}
		rec := httptest.NewRecorder()
		if err := e.sp.Start(rec, httptest.NewRequest(http.MethodGet, e.base+"/start", nil), req); err != nil {
			t.Fatal(err)
		}
		loc, err := url.Parse(rec.Header().Get("Location"))
		if err != nil || rec.Code != http.StatusFound {
			t.Fatalf("start: %d %q", rec.Code, rec.Header().Get("Location"))
		}
		q := loc.Query()
		if q.Get(CountryParam) != tc.want || len(q[CountryParam]) > 1 || q.Has("other_hint") {
			t.Fatalf("%q: query %v", tc.hint, q)
		}
		resp, err := e.srv.Client().Get(loc.String())
		if err != nil {
			t.Fatal(err)
		}
		page := samltest.ReadBody(t, resp)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%q: the node refused the request: %d %s", tc.hint, resp.StatusCode, page)
		}
		got := ""
		if m := selectedRe.FindStringSubmatch(page); m != nil {
			got = m[1]
		}
		if got != tc.want {
			t.Fatalf("%q: preselected %q", tc.hint, got)
		}
	}
	// The country is a hint only: a query with a country the node does not offer preselects
	// nothing, and the login still goes through the signature check.
	loc, _, _ := e.request(t, "no-hint", loa.SpidL2, "")
	resp, err := e.srv.Client().Get(loc.String() + "&country=FR")
	if err != nil {
		t.Fatal(err)
	}
	if page := samltest.ReadBody(t, resp); resp.StatusCode != http.StatusOK || selectedRe.MatchString(page) {
		t.Fatalf("country FR: %d %s", resp.StatusCode, page)
	}
}

// TestCountryHintIsCheckedAgainAtStart: a login record whose hint did not come through
// /authorize's check (a record of another version, a store edited) is refused at Start, never
// sent on.
func TestCountryHintIsCheckedAgainAtStart(t *testing.T) {
	e := newEnv(t, nil)
	for _, bad := range []string{"FR", "de", "DE&x=y"} {
		rec := httptest.NewRecorder()
		err := e.sp.Start(rec, httptest.NewRequest(http.MethodGet, e.base+"/start", nil),
			&providers.LoginRequest{ID: "bad", ACR: loa.SpidL2, Hints: map[string]string{CountryHint: bad}})
		if err == nil || rec.Header().Get("Location") != "" {
			t.Errorf("%q: sent (%v, %q)", bad, err, rec.Header().Get("Location"))
		}
	}
}

// TestEngineRefusesBindingParamsBeside: a parameter beside the AuthnRequest never takes the
// name of one of the binding's own (it would shadow the signed ones).
func TestEngineRefusesBindingParamsBeside(t *testing.T) {
	e := newEnv(t, nil)
	idp, ok := e.sp.Registry().Lookup(t.Context(), e.idp.EntityID())
	if !ok {
		t.Fatal("node not loaded")
	}
	for _, name := range []string{"SAMLRequest", "RelayState", "SigAlg", "Signature", "SAMLResponse", ""} {
		rec := httptest.NewRecorder()
		_, err := e.sp.Engine().SendAuthnRequest(rec, httptest.NewRequest(http.MethodGet, e.base+"/start", nil), saml.AuthnRequest{
			LoginID: "x", IdP: idp, Level: 2, Comparison: loa.Minimum, Params: map[string]string{name: "x"},
		})
		if err == nil || rec.Header().Get("Location") != "" {
			t.Errorf("%q beside the request: %v", name, err)
		}
	}
}

// FuzzCountryHint: whatever CheckHint accepts is two upper-case ASCII letters and one of the
// configured countries.
func FuzzCountryHint(f *testing.F) {
	p := goldenProvider(f, nil)
	for _, s := range []string{"DE", "ES", "de", "IT", "DEU", "", "D\x00", "ÄÖ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if p.CheckHint(CountryHint, v) == nil &&
			(len(v) != 2 || v[0] < 'A' || v[0] > 'Z' || v[1] < 'A' || v[1] > 'Z' || !slices.Contains(p.cfg.Countries, v)) {
			t.Fatalf("accepted %q", v)
		}
	})
}
