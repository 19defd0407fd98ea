package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inps/sportello/internal/store/redis"
	"github.com/inps/sportello/internal/store/redistest"
	"github.com/inps/sportello/internal/switches"
	"github.com/inps/sportello/providers/spid/devidp"
)

// exampleDeployment deploys config/example.yaml, edited by edit, beside the fake files of
// config/testdata/example; it returns the configuration's path.
func exampleDeployment(t *testing.T, edit func(yaml string) string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../../config/testdata/example")); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("../../config/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "sportello.yaml")
	if err := os.WriteFile(path, []byte(edit(string(data))), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SPORTELLO_CRYPTO_KEY", strings.Repeat("ab", 32))
	t.Setenv("SPORTELLO_PENSIONI_SECRET", "pensioni-secret-not-real-0123456789")
	for _, k := range []string{"SPORTELLO_ISSUER", "SPORTELLO_HTTP_ADDR", "SPORTELLO_MTLS_ADDR", "SPORTELLO_REDIS_URL", "SPORTELLO_STORE", "SPORTELLO_KEYS_DIR", "SPORTELLO_AUDIT_FILE"} {
		t.Setenv(k, "")
	}
	return path
}

func checkConfig(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"check-config"}, args...), &out, &errb)
	return code, errb.String()
}

// errorPaths are the paths check-config reported, one per line ("path: message").
func errorPaths(out string) []string {
	var paths []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if p, _, ok := strings.Cut(line, ": "); ok && !strings.HasSuffix(line, "error(s)") {
			paths = append(paths, p)
		}
	}
	return paths
}

// check-config loads every SPID metadata source as serve would, and names the one that
// fails: an unreachable URL, a file that is not metadata. --offline skips the URLs only.
func TestCheckConfigLoadsTheIdPMetadata(t *testing.T) {
	idp, err := devidp.New(devidp.Options{Name: "demo", BaseURL: "https://idp.example",
		KeyFile: "../../testdata/spid/dev-idp-demo.key", CertFile: "../../testdata/spid/dev-idp-demo.crt",
		SPMetadata: func(context.Context) ([]byte, error) { return nil, nil }})
	if err != nil {
		t.Fatal(err)
	}
	md, err := idp.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(md) }))
	defer srv.Close()
	dead := httptest.NewTLSServer(http.NotFoundHandler())
	dead.Close() // a port nobody listens on
	saved := metadataClient
	metadataClient = srv.Client()
	t.Cleanup(func() { metadataClient = saved })
	path := exampleDeployment(t, func(y string) string {
		return strings.Replace(y, `      - metadata_url: https://registry.spid.gov.it/entities-idp?&output=xml
        binding: redirect
`, `      - metadata_url: `+srv.URL+`
      - metadata_url: `+dead.URL+`/metadata
      - metadata_file: spid/idp.xml
      - metadata_file: spid/not-metadata.xml
`, 1)
	})
	dir := filepath.Dir(path)
	if err := os.WriteFile(filepath.Join(dir, "spid", "idp.xml"), md, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "spid", "not-metadata.xml"), []byte("<html>login</html>"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out := checkConfig(t, path)
	if got := errorPaths(out); code != 1 || strings.Join(got, " ") != "providers.spid.idps[1].metadata_url providers.spid.idps[3].metadata_file" {
		t.Fatalf("exit %d, errors at %v, want idps[1].metadata_url and idps[3].metadata_file:\n%s", code, got, out)
	}
	code, out = checkConfig(t, "--offline", path)
	if got := errorPaths(out); code != 1 || strings.Join(got, " ") != "providers.spid.idps[3].metadata_file" {
		t.Fatalf("--offline: exit %d, errors at %v, want idps[3].metadata_file only:\n%s", code, got, out)
	}
}

// check-config reads keys.dir as serve would: the memory store signs with the files there,
// so an empty directory or a damaged key file is an error; on Redis the key set lives in the
// store ("sportello keys init" imports the files, if any), so an empty directory is fine there.
func TestCheckConfigReadsTheSigningKeys(t *testing.T) {
	redisPath := exampleDeployment(t, func(y string) string { return y })
	if code, out := checkConfig(t, "--offline", redisPath); code != 0 {
		t.Fatalf("redis store with an empty keys.dir: exit %d\n%s", code, out)
	}
	path := exampleDeployment(t, func(y string) string { return strings.Replace(y, "  type: redis\n", "  type: memory\n", 1) })
	code, out := checkConfig(t, "--offline", path)
	if got := errorPaths(out); code != 1 || strings.Join(got, " ") != "keys.dir keys.dir" || !strings.Contains(out, "no active ES256 key") || !strings.Contains(out, "no active RS256 key") || !strings.Contains(out, "sportello keys init") {
		t.Fatalf("memory store with an empty keys.dir: exit %d\n%s", code, out)
	}
	var rot bytes.Buffer
	if c := run(context.Background(), []string{"keys", "init", "--config", path}, &rot, &rot); c != 0 {
		t.Fatalf("keys init: %d\n%s", c, rot.String())
	}
	if code, out := checkConfig(t, "--offline", path); code != 0 {
		t.Fatalf("memory store with its keys: exit %d\n%s", code, out)
	}
	keys := filepath.Join(filepath.Dir(path), "keys")
	if err := os.WriteFile(filepath.Join(keys, "es256-next.pem"), []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out := checkConfig(t, "--offline", path); code != 1 || !strings.Contains(out, "keys.dir") || !strings.Contains(out, "es256-next.pem") {
		t.Fatalf("a damaged key file: exit %d\n%s", code, out)
	}
}

// An enabled oidcfed section needs its key set, as serve does: with the memory store
// check-config names keys_dir until "sportello federation keys init" made it; with Redis the
// set is in the store, as the signing keys are, and keys_dir is not read. Online it also
// resolves the OPs' chains (the example's are unreachable here).
func TestCheckConfigFederationKeys(t *testing.T) {
	enable := func(y string) string {
		return strings.Replace(y, "    type: oidcfed\n    enabled: false\n", "    type: oidcfed\n", 1)
	}
	if code, out := checkConfig(t, "--offline", exampleDeployment(t, enable)); code != 0 {
		t.Fatalf("redis store, keys in the store: %d %s", code, out)
	}
	path := exampleDeployment(t, func(y string) string {
		return strings.Replace(enable(y), "  type: redis\n", "  type: memory\n", 1)
	})
	code, out := checkConfig(t, "--offline", path)
	if code != 1 || !strings.Contains(out, "providers.oidc.keys_dir: oidcfed: no federation key set") {
		t.Fatalf("without keys: %d %s", code, out)
	}
	var o, e bytes.Buffer
	if code := run(context.Background(), []string{"federation", "keys", "init", "--config", path}, &o, &e); code != 0 {
		t.Fatalf("federation keys init: %d %s", code, e.String())
	}
	if code := run(context.Background(), []string{"keys", "init", "--config", path}, &o, &e); code != 0 {
		t.Fatalf("keys init: %d %s", code, e.String())
	}
	if code, out := checkConfig(t, "--offline", path); code != 0 {
		t.Fatalf("with keys: %d %s", code, out)
	}
	saved := metadataClient
	metadataClient = &http.Client{Transport: http.NewFileTransport(http.Dir(t.TempDir()))} // every fetch 404s
	t.Cleanup(func() { metadataClient = saved })
	code, out = checkConfig(t, path)
	if code != 1 || !strings.Contains(out, "providers.oidc.openid_providers:") || !strings.Contains(out, "https://id.example-op.it") {
		t.Fatalf("online with unreachable OPs: %d %s", code, out)
	}
}

// check-config warns about every console override in force in the shared Store — kind, id,
// reason, operator, expiry — without failing the check; an unreachable Store is a warning too.
func TestCheckConfigWarnsAboutTheConsoleOverridesInForce(t *testing.T) {
	srv := redistest.Start(t)
	path := exampleDeployment(t, func(y string) string {
		y = strings.Replace(y, "url: rediss://redis.inps.example.it:6380/0", "url: "+srv.URL, 1)
		y = strings.Replace(y, "    password: file:secrets/redis_password\n", "", 1)
		return strings.Replace(y, `prefix: "sportello:"`, `prefix: "`+srv.Prefix+`"`, 1)
	})
	st, err := redis.New(context.Background(), redis.Options{URL: srv.URL, Prefix: srv.Prefix})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sw := &switches.Switches{Store: st}
	if code, out, errs := runCLI("check-config", "--offline", path); code != 0 || strings.Contains(out, "warning") {
		t.Fatalf("no override: exit %d\n%s%s", code, out, errs)
	}
	until := time.Now().Add(2 * time.Hour).UTC().Truncate(time.Second)
	for _, c := range []switches.Change{
		{Kind: switches.KindIdP, ID: "https://idp.example/metadata", Reason: "signing key leaked", Actor: "op-rossi", ExpiresAt: &until},
		{Kind: switches.KindClient, ID: "portale", Reason: "leaking tokens", Actor: "op-bianchi"},
	} {
		if _, err := sw.Set(t.Context(), c); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errs := runCLI("check-config", "--offline", path)
	if code != 0 {
		t.Fatalf("overrides made the check fail: exit %d\n%s%s", code, out, errs)
	}
	if !strings.Contains(out, "warning: 2 console override(s) in force") {
		t.Fatalf("no warning:\n%s", out)
	}
	for _, want := range [][]string{
		{"idp", "https://idp.example/metadata", "signing key leaked", "op-rossi", until.Format(time.RFC3339)},
		{"client", "portale", "leaking tokens", "op-bianchi", "never"},
	} {
		found := false
		for _, line := range strings.Split(out, "\n") {
			all := true
			for _, w := range want {
				all = all && strings.Contains(line, w)
			}
			found = found || all
		}
		if !found {
			t.Errorf("no line with %q:\n%s", want, out)
		}
	}
	dead := exampleDeployment(t, func(y string) string {
		y = strings.Replace(y, "url: rediss://redis.inps.example.it:6380/0", "url: redis://127.0.0.1:1/0", 1)
		return strings.Replace(y, "    password: file:secrets/redis_password\n", "", 1)
	})
	if code, out, errs := runCLI("check-config", "--offline", dead); code != 0 || !strings.Contains(out, "console overrides not checked") {
		t.Fatalf("unreachable Store: exit %d\n%s%s", code, out, errs)
	}
}
