package saml

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/inps/sportello/config"
	"github.com/inps/sportello/internal/audit"
	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/internal/store/memory"
	"github.com/inps/sportello/providers"
)

func profileSpec(t *testing.T) ProfileSpec {
	t.Helper()
	md := devMetadata(t, "demo", "dev-idp-demo")
	f := filepath.Join(t.TempDir(), "idp.xml")
	if err := os.WriteFile(f, md, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, f)
	cfg.Keys, cfg.EntityID, cfg.ACSURL = nil, "", ""
	return ProfileSpec{Profile: spidLike(), Config: cfg, KeyFile: testdataDir + "sp-dev.key", CertFile: testdataDir + "sp-dev.crt",
		Method: providers.MethodSPID}
}

// The base derives the endpoints that are not configured from the base URL and the profile's
// name, keeps the configured ones, loads the key, and needs a base URL only to derive.
func TestProfileProviderDerivesEndpoints(t *testing.T) {
	spec := profileSpec(t)
	st := memory.New(memory.Options{})
	t.Cleanup(func() { _ = st.Close() })
	p, err := NewProfileProvider(spec, ProfileDeps{Store: st, BaseURL: "https://login.example/"})
	if err != nil {
		t.Fatal(err)
	}
	if p.EntityID() != "https://login.example/spidlike/metadata" || p.ACSURL() != "https://login.example/spidlike/acs" ||
		p.engine.cfg.SLOURL != "https://sp.example/slo" || p.Keys() == nil || p.ID() != "spidlike" ||
		len(p.Routes()) != 1 || p.Routes()[0] != "/spidlike/" {
		t.Fatalf("entity %q acs %q slo %q id %q routes %v", p.EntityID(), p.ACSURL(), p.engine.cfg.SLOURL, p.ID(), p.Routes())
	}
	if _, err := NewProfileProvider(spec, ProfileDeps{Store: st}); err == nil || !strings.Contains(err.Error(), "BaseURL is required") {
		t.Fatalf("no base URL: %v", err)
	}
	if _, err := NewProfileProvider(spec, ProfileDeps{BaseURL: "https://login.example"}); err == nil {
		t.Fatal("built without a Store")
	}
	bad := spec
	bad.KeyFile = testdataDir + "missing.key"
	if _, err := NewProfileProvider(bad, ProfileDeps{Store: st, BaseURL: "https://login.example"}); err == nil {
		t.Fatal("built without a key")
	}
	// The base is no Logouter: a profile whose IdP answers no single logout (CIE ID) must not
	// become one by embedding it.
	if _, ok := any(p).(providers.Logouter); ok {
		t.Fatal("ProfileProvider is a Logouter")
	}
	if err := p.LogoutSession(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil),
		&providers.Identity{Method: providers.MethodSPID}, "/"); err == nil {
		t.Fatal("a logout without a session was started")
	}
}

// Every audit event reaches the Auditor and the Trace; a failing one is logged, not fatal.
func TestProfileProviderAuditsToBothSinks(t *testing.T) {
	rec := &audit.Recorder{}
	var traced []string
	spec := profileSpec(t)
	spec.Trace = func(_ context.Context, ev audit.Event) error { traced = append(traced, ev.Type); return nil }
	st := memory.New(memory.Options{})
	t.Cleanup(func() { _ = st.Close() })
	p, err := NewProfileProvider(spec, ProfileDeps{Store: st, Auditor: rec, BaseURL: "https://login.example"})
	if err != nil {
		t.Fatal(err)
	}
	idp, err := p.OnlyIdP(context.Background(), "x.unavailable", "the IdP")
	if err != nil {
		t.Fatal(err)
	}
	level, cmp := Level(&providers.LoginRequest{ACR: loa.SpidL1, Comparison: "better"}, 2, loa.Minimum)
	if level != 2 || cmp != loa.Minimum {
		t.Fatalf("level %d %s", level, cmp)
	}
	if _, err := p.Engine().SendAuthnRequest(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil),
		AuthnRequest{LoginID: "l", IdP: idp, Level: level, Comparison: cmp}); err != nil {
		t.Fatal(err)
	}
	if len(rec.ByType("spidlike.authn_request")) != 1 || len(traced) != 1 || traced[0] != "spidlike.authn_request" {
		t.Fatalf("audit %v, trace %v", rec.ByType("spidlike.authn_request"), traced)
	}
}

// With no metadata loaded the one IdP is a UserError of the profile's code, unavailable.
func TestOnlyIdPUnavailable(t *testing.T) {
	spec := profileSpec(t)
	spec.Config.IdPs = []IdPConfig{{MetadataFile: filepath.Join(t.TempDir(), "none.xml"), Binding: "redirect"}}
	st := memory.New(memory.Options{})
	t.Cleanup(func() { _ = st.Close() })
	p, err := NewProfileProvider(spec, ProfileDeps{Store: st, BaseURL: "https://login.example"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.OnlyIdP(context.Background(), "x.unavailable", "the IdP")
	var ue *providers.UserError
	if !errors.As(err, &ue) || ue.Code != "x.unavailable" || !errors.Is(err, providers.ErrUnavailable) {
		t.Fatalf("%v", err)
	}
}

// SPSection: inline in a profile's section, its defaults, its file checks, its rules.
func TestSPSection(t *testing.T) {
	type section struct {
		SPSection `yaml:",inline"`
		Own       string `yaml:"own"`
	}
	var node yaml.Node
	src := "key_file: sp.key\ncert_file: missing.crt\nidps: [{metadata_file: idp.xml}]\nown: x\nmin_level: 1\n"
	if err := yaml.Unmarshal([]byte(src), &node); err != nil {
		t.Fatal(err)
	}
	var s section
	if errs := config.DecodeSection(node.Content[0], "providers.p", &s); len(errs) > 0 {
		t.Fatal(errs)
	}
	if s.KeyFile != "sp.key" || s.Own != "x" || len(s.IdPs) != 1 || s.MinLevel != 1 {
		t.Fatalf("%+v", s)
	}
	s.Defaults()
	if s.IdPs[0].Binding != "redirect" || s.MetadataRefresh != 24*time.Hour || s.ClockSkew != time.Minute ||
		s.RequestTTL != 15*time.Minute || s.MetadataValidity != 30*24*time.Hour || s.Comparison != loa.Minimum || s.MinLevel != 1 {
		t.Fatalf("defaults %+v", s.SPSection)
	}
	dir := t.TempDir()
	for _, f := range []string{"sp.key", "idp.xml"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	errs := s.Resolve("providers.p", func(p string) string { return filepath.Join(dir, p) })
	if len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), "providers.p.cert_file") || s.KeyFile != filepath.Join(dir, "sp.key") ||
		s.IdPs[0].MetadataFile != filepath.Join(dir, "idp.xml") {
		t.Fatalf("resolve: %v %+v", errs, s.SPSection)
	}
	for name, tc := range map[string]struct {
		edit func(*SPSection)
		at   string
	}{
		"no key":            {func(f *SPSection) { f.KeyFile = "" }, ".key_file"},
		"no certificate":    {func(f *SPSection) { f.CertFile = "" }, ".cert_file"},
		"a plain entity":    {func(f *SPSection) { f.EntityID = "http://sp.example/metadata" }, ".entity_id"},
		"comparison better": {func(f *SPSection) { f.Comparison = "better" }, ".comparison"},
		"level 4":           {func(f *SPSection) { f.MinLevel = 4 }, ".min_level"},
		"two sources":       {func(f *SPSection) { f.IdPs = append(f.IdPs, f.IdPs[0]) }, ".idps"},
	} {
		f := s.SPSection
		f.IdPs = append([]IdPConfig(nil), s.IdPs...)
		tc.edit(&f)
		ck := &Checks{Path: "providers.p"}
		f.CheckSP(ck)
		f.CheckIdPs(ck, nil, "the node")
		found := false
		for _, err := range ck.Errs {
			found = found || strings.HasPrefix(err.Error(), "providers.p"+tc.at)
		}
		if !found {
			t.Errorf("%s: not refused at %s (%v)", name, tc.at, ck.Errs)
		}
	}
}

// The identity helpers refuse each hostile value under its rule, with the profile's name.
func TestAssertionIdentityHelpers(t *testing.T) {
	for name, tc := range map[string]struct {
		attrs map[string]string
		ok    bool
	}{
		"good":                    {map[string]string{"fiscalNumber": "TINIT-RSSMRA80A01H501U"}, true},
		"missing":                 {map[string]string{}, false},
		"no prefix":               {map[string]string{"fiscalNumber": "RSSMRA80A01H501U"}, false},
		"another country's TIN":   {map[string]string{"fiscalNumber": "TINDE-RSSMRA80A01H501U"}, false},
		"wrong check letter":      {map[string]string{"fiscalNumber": "TINIT-RSSMRA80A01H501V"}, false},
		"prefix only":             {map[string]string{"fiscalNumber": "TINIT-"}, false},
		"surrounding spaces":      {map[string]string{"fiscalNumber": "TINIT- RSSMRA80A01H501U "}, true},
		"lower-case code":         {map[string]string{"fiscalNumber": "TINIT-rssmra80a01h501u"}, true},
		"control character":       {map[string]string{"fiscalNumber": "TINIT-RSSMRA80A01H501U\x00"}, false},
		"lower-case prefix":       {map[string]string{"fiscalNumber": "tinit-RSSMRA80A01H501U"}, false},
		"an identifier too long":  {map[string]string{"fiscalNumber": "TINIT-" + strings.Repeat("A", 4096)}, false},
		"two codes in one value":  {map[string]string{"fiscalNumber": "TINIT-RSSMRA80A01H501U,BNCLRA85M41F205C"}, false},
		"fullwidth letters (NFC)": {map[string]string{"fiscalNumber": "TINIT-ＲSSMRA80A01H501U"}, false},
	} {
		a := &Assertion{Attributes: tc.attrs}
		cf, err := a.TINITFiscalNumber("p")
		var re *RejectError
		switch {
		case tc.ok && (err != nil || cf != "RSSMRA80A01H501U"):
			t.Errorf("%s: %q %v", name, cf, err)
		case !tc.ok && (err == nil || !errors.As(err, &re) || re.Rule != "attributes.fiscal_number" || !strings.HasPrefix(err.Error(), "p: ")):
			t.Errorf("%s: %q %v", name, cf, err)
		}
	}
	for d, ok := range map[string]bool{"": true, "1980-01-01": true, "1980-1-1": false, "01/01/1980": false,
		"1980-02-30": false, "1980-01-01T00:00:00Z": false, "yesterday": false} {
		got, err := (&Assertion{Attributes: map[string]string{"dateOfBirth": d}}).DateOfBirth("p")
		var re *RejectError
		if ok && (err != nil || got != d) || !ok && (err == nil || !errors.As(err, &re) || re.Rule != "attributes.date_of_birth") {
			t.Errorf("dateOfBirth %q: %q %v", d, got, err)
		}
	}
	s := (&Assertion{NameID: "n", NameQualifier: "q", SessionIndex: "s"}).Session("https://idp.example")
	if s["idp"] != "https://idp.example" || s["name_id"] != "n" || s["name_qualifier"] != "q" || s["session_index"] != "s" {
		t.Fatalf("%v", s)
	}
}

// FuzzTINITFiscalNumber: whatever is accepted is "TINIT-" and a valid fiscal code (spaces
// around it and its case ignored, as fiscalcode.Parse does), returned without the prefix,
// upper case.
func FuzzTINITFiscalNumber(f *testing.F) {
	for _, s := range []string{"TINIT-RSSMRA80A01H501U", "RSSMRA80A01H501U", "TINIT-", "TINIT-RSSMRA80A01H501V", "TINIT-\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		cf, err := (&Assertion{Attributes: map[string]string{"fiscalNumber": v}}).TINITFiscalNumber("p")
		rest, prefixed := strings.CutPrefix(v, "TINIT-")
		if err == nil && (!prefixed || strings.ToUpper(strings.TrimSpace(rest)) != cf || len(cf) != 16 || strings.ToUpper(cf) != cf) {
			t.Fatalf("accepted %q as %q", v, cf)
		}
	})
}
