package saml

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inps/sportello/internal/store/storetest"
	"github.com/inps/sportello/providers/spid/devidp"
)

// metadataServer serves whatever metadata it is given, or fails.
type metadataServer struct {
	mu   sync.Mutex
	body []byte
	fail bool
	hits int
}

func (m *metadataServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.hits++
	if m.fail {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	_, _ = w.Write(m.body)
}

func (m *metadataServer) set(body []byte, fail bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.body, m.fail = body, fail
}

func devMetadata(t testing.TB, name, keyName string) []byte {
	t.Helper()
	idp, err := devidp.New(devidp.Options{Name: name, BaseURL: "https://idp.example",
		KeyFile: testdataDir + keyName + ".key", CertFile: testdataDir + keyName + ".crt",
		SPMetadata: func(context.Context) ([]byte, error) { return nil, nil }})
	if err != nil {
		t.Fatal(err)
	}
	md, err := idp.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	return md
}

func newTestRegistry(t *testing.T, cfgs []IdPConfig, client *http.Client, clk *testClock) *Registry {
	t.Helper()
	r, err := NewRegistry(cfgs, client, clk.Now, slog.New(slog.DiscardHandler), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRegistryKeepsTheLastGoodCopyWhenARefreshFails(t *testing.T) {
	ms := &metadataServer{}
	ms.set(devMetadata(t, "demo", "dev-idp-demo"), false)
	srv := httptest.NewServer(ms)
	defer srv.Close()
	clk := &testClock{t: t0}
	r := newTestRegistry(t, []IdPConfig{{MetadataURL: srv.URL, Binding: "redirect"}}, srv.Client(), clk)
	if err := r.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	ms.set(nil, true)
	if err := r.Refresh(context.Background()); err == nil {
		t.Fatal("a failed refresh reported no error")
	}
	if idp, ok := r.Lookup(context.Background(), "https://idp.example/dev/spid/demo"); !ok || len(idp.Certs) != 1 {
		t.Fatal("the last good copy was dropped")
	}
}

func TestRegistryRefreshPicksUpAKeyRollover(t *testing.T) {
	ms := &metadataServer{}
	ms.set(devMetadata(t, "demo", "dev-idp-demo"), false)
	srv := httptest.NewServer(ms)
	defer srv.Close()
	r := newTestRegistry(t, []IdPConfig{{MetadataURL: srv.URL, Binding: "redirect"}}, srv.Client(), &testClock{t: t0})
	_ = r.Refresh(context.Background())
	before, _ := r.Lookup(context.Background(), "https://idp.example/dev/spid/demo")
	ms.set(devMetadata(t, "demo", "dev-idp-test"), false) // same entity, new key
	_ = r.Refresh(context.Background())
	after, _ := r.Lookup(context.Background(), "https://idp.example/dev/spid/demo")
	if before.Certs[0].Equal(after.Certs[0]) {
		t.Fatal("the new key was not loaded")
	}
}

func TestRegistryLoadsLazilyAndRetriesAfterAFailure(t *testing.T) {
	ms := &metadataServer{}
	ms.set(nil, true)
	srv := httptest.NewServer(ms)
	defer srv.Close()
	clk := &testClock{t: t0}
	r := newTestRegistry(t, []IdPConfig{{MetadataURL: srv.URL, Binding: "post"}}, srv.Client(), clk)
	if _, ok := r.Lookup(context.Background(), "https://idp.example/dev/spid/demo"); ok {
		t.Fatal("found an IdP whose metadata is down")
	}
	ms.set(devMetadata(t, "demo", "dev-idp-demo"), false)
	if _, ok := r.Lookup(context.Background(), "https://idp.example/dev/spid/demo"); ok {
		t.Fatal("retried before the retry interval")
	}
	clk.Advance(6 * time.Second)
	if idp, ok := r.Lookup(context.Background(), "https://idp.example/dev/spid/demo"); !ok || idp.Binding != "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" {
		t.Fatal("not loaded lazily once the metadata came up")
	}
}

func TestRegistryVerifiesTheMetadataSignatureWhenConfigured(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "md.xml")
	md := devMetadata(t, "demo", "dev-idp-demo")
	if err := os.WriteFile(f, md, 0o600); err != nil {
		t.Fatal(err)
	}
	tampered := filepath.Join(dir, "tampered.xml")
	if err := os.WriteFile(tampered, []byte(strings.Replace(string(md), "/sso", "/evil", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, file, cert string
		ok               bool
	}{
		{"signed by the configured key", f, "dev-idp-demo", true},
		{"signed by another key", f, "dev-idp-test", false},
		{"tampered after signing", tampered, "dev-idp-demo", false},
	} {
		r := newTestRegistry(t, []IdPConfig{{MetadataFile: tc.file, Binding: "redirect", MetadataCertFile: testdataDir + tc.cert + ".crt"}},
			http.DefaultClient, &testClock{t: t0})
		if err := r.Refresh(context.Background()); (err == nil) != tc.ok {
			t.Errorf("%s: err = %v", tc.name, err)
		}
	}
}

func TestRegistryReadsAnEntitiesDescriptor(t *testing.T) {
	a := string(devMetadata(t, "demo", "dev-idp-demo"))
	b := string(devMetadata(t, "other", "dev-idp-test"))
	strip := func(s string) string { return s[strings.Index(s, "?>")+2:] }
	all := `<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">` + strip(a) + strip(b) + `</md:EntitiesDescriptor>`
	f := filepath.Join(t.TempDir(), "all.xml")
	if err := os.WriteFile(f, []byte(all), 0o600); err != nil {
		t.Fatal(err)
	}
	r := newTestRegistry(t, []IdPConfig{{MetadataFile: f, Binding: "redirect", Name: ""}}, http.DefaultClient, &testClock{t: t0})
	if err := r.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := r.List(context.Background()); len(got) != 2 || got[0].Name != "Dev IdP demo" {
		t.Fatalf("%+v", got)
	}
}

// The log says "keeping the last good copy" only when there is one.
func TestAShortNameNamesASourceOfOneIdP(t *testing.T) {
	one := filepath.Join(t.TempDir(), "demo.xml")
	if err := os.WriteFile(one, devMetadata(t, "demo", "dev-idp-demo"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := newTestRegistry(t, []IdPConfig{{MetadataFile: one, Binding: "redirect", ShortName: "demo"}}, http.DefaultClient, &testClock{t: t0})
	if err := r.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := r.List(context.Background()); len(got) != 1 || got[0].ShortName != "demo" || got[0].EntityID != "https://idp.example/dev/spid/demo" {
		t.Fatalf("%+v", got)
	}

	// An aggregate (AgID's registry) has no short name per IdP: one name for all is refused.
	a := string(devMetadata(t, "demo", "dev-idp-demo"))
	b := string(devMetadata(t, "other", "dev-idp-test"))
	strip := func(s string) string { return s[strings.Index(s, "?>")+2:] }
	all := filepath.Join(t.TempDir(), "all.xml")
	if err := os.WriteFile(all, []byte(`<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">`+strip(a)+strip(b)+`</md:EntitiesDescriptor>`), 0o600); err != nil {
		t.Fatal(err)
	}
	r = newTestRegistry(t, []IdPConfig{{MetadataFile: all, Binding: "redirect", ShortName: "demo"}}, http.DefaultClient, &testClock{t: t0})
	if err := r.Refresh(context.Background()); err == nil || !strings.Contains(err.Error(), "short_name") {
		t.Fatalf("err = %v", err)
	}
	if got := r.List(context.Background()); len(got) != 0 {
		t.Fatalf("%+v", got)
	}
}

func TestRefreshLogsTheLastGoodCopyOnlyWhenThereIsOne(t *testing.T) {
	ms := &metadataServer{}
	ms.set(nil, true)
	srv := httptest.NewServer(ms)
	t.Cleanup(srv.Close)
	log := &storetest.Buffer{}
	r, err := NewRegistry([]IdPConfig{{MetadataURL: srv.URL, Binding: "redirect"}}, srv.Client(), (&testClock{t: t0}).Now,
		slog.New(slog.NewTextHandler(log, nil)), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	r.refreshLogged(t.Context())
	if out := log.String(); strings.Contains(out, "last good copy") || !strings.Contains(out, "no earlier copy") {
		t.Fatalf("first load failed, log:\n%s", out)
	}
	ms.set(devMetadata(t, "demo", "dev-idp-demo"), false)
	r.refreshLogged(t.Context())
	ms.set(nil, true)
	r.refreshLogged(t.Context())
	if out := log.String(); !strings.Contains(out, "keeping the last good copy") {
		t.Fatalf("refresh failed after a good load, log:\n%s", out)
	}
}

// Each source reports its location, its last good load and its last failure: a failed
// refresh keeps the load time of the copy still in use and names the error.
func TestRegistrySourcesReportTheirLastRefreshAndError(t *testing.T) {
	ms := &metadataServer{}
	ms.set(devMetadata(t, "demo", "dev-idp-demo"), false)
	srv := httptest.NewServer(ms)
	defer srv.Close()
	clk := &testClock{t: t0}
	missing := filepath.Join(t.TempDir(), "absent.xml")
	r := newTestRegistry(t, []IdPConfig{{MetadataURL: srv.URL}, {MetadataFile: missing}}, srv.Client(), clk)
	_ = r.Refresh(context.Background())
	st := r.Sources()
	if len(st) != 2 {
		t.Fatalf("%d sources", len(st))
	}
	if st[0].Location != srv.URL || st[0].File || !st[0].LoadedAt.Equal(t0) || st[0].LastError != nil ||
		len(st[0].EntityIDs) != 1 || st[0].EntityIDs[0] != "https://idp.example/dev/spid/demo" {
		t.Fatalf("url source: %+v", st[0])
	}
	if st[1].Location != missing || !st[1].File || !st[1].LoadedAt.IsZero() || st[1].LastError == nil || len(st[1].EntityIDs) != 0 {
		t.Fatalf("file source never loaded: %+v", st[1])
	}
	clk.Advance(time.Hour)
	ms.set(nil, true)
	_ = r.Refresh(context.Background())
	st = r.Sources()
	if !st[0].LoadedAt.Equal(t0) || !st[0].Tried.Equal(t0.Add(time.Hour)) || st[0].LastError == nil || len(st[0].EntityIDs) != 1 {
		t.Fatalf("url source after a failed refresh: %+v", st[0])
	}
	clk.Advance(time.Hour)
	ms.set(devMetadata(t, "demo", "dev-idp-demo"), false)
	_ = r.Refresh(context.Background())
	if st = r.Sources(); !st[0].LoadedAt.Equal(t0.Add(2*time.Hour)) || st[0].LastError != nil {
		t.Fatalf("url source after it recovered: %+v", st[0])
	}
}

// A reload replaces the sources: one configured as before keeps its loaded copy (nothing
// fetched again), a new one is loaded lazily, a removed one's IdPs are no longer offered.
func TestReplaceSourcesKeepsWhatDidNotChange(t *testing.T) {
	demo, test := &metadataServer{}, &metadataServer{}
	demo.set(devMetadata(t, "demo", "dev-idp-demo"), false)
	test.set(devMetadata(t, "test", "dev-idp-test"), false)
	sd, st := httptest.NewServer(demo), httptest.NewServer(test)
	defer sd.Close()
	defer st.Close()
	clk := &testClock{t: t0}
	r := newTestRegistry(t, []IdPConfig{{MetadataURL: sd.URL}}, sd.Client(), clk)
	ctx := context.Background()
	if err := r.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	hits := demo.hits
	set, err := PrepareSources([]IdPConfig{{MetadataURL: st.URL}, {MetadataURL: sd.URL}})
	if err != nil {
		t.Fatal(err)
	}
	r.ReplaceSources(set)
	if got := r.Configs(); len(got) != 2 || got[0].MetadataURL != st.URL || got[1].MetadataURL != sd.URL {
		t.Fatalf("configs: %+v", got)
	}
	if src := r.Sources()[1]; !src.LoadedAt.Equal(t0) || len(src.EntityIDs) != 1 {
		t.Fatalf("the unchanged source lost its copy: %+v", src)
	}
	if _, ok := r.Lookup(ctx, "https://idp.example/dev/spid/test"); !ok {
		t.Fatal("the new source's IdP is not offered")
	}
	if demo.hits != hits {
		t.Fatal("the unchanged source was fetched again")
	}
	set, _ = PrepareSources([]IdPConfig{{MetadataURL: st.URL}})
	r.ReplaceSources(set)
	if _, ok := r.Lookup(ctx, "https://idp.example/dev/spid/demo"); ok {
		t.Fatal("a removed source's IdP is still offered")
	}
	if _, err := PrepareSources([]IdPConfig{{MetadataURL: sd.URL, MetadataCertFile: filepath.Join(t.TempDir(), "absent.pem")}}); err == nil {
		t.Fatal("a missing metadata certificate was accepted")
	}
}
