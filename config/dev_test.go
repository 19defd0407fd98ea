package config

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func devOptions(env map[string]string) Options {
	return Options{ProviderTypes: permissiveTypes, Getenv: testEnv(env)}
}

// TestDevConfigHonoursTheDevContract checks the clients and addresses dev mode documents
// (testdata/dev/README.md).
func TestDevConfigHonoursTheDevContract(t *testing.T) {
	data := t.TempDir()
	cfg, err := DevConfig("127.0.0.1:18080", "127.0.0.1:18443", data, devOptions(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Dev || cfg.Issuer != "http://127.0.0.1:18080" || cfg.Listen.HTTP != "127.0.0.1:18080" ||
		cfg.Listen.MTLS != "127.0.0.1:18443" || cfg.Listen.MTLSURL != "https://127.0.0.1:18443" {
		t.Errorf("addresses: issuer %q listen %+v", cfg.Issuer, cfg.Listen)
	}
	if cfg.Keys.Dir != filepath.Join(data, "keys") || cfg.Store.Type != "memory" {
		t.Errorf("keys.dir %q store %q", cfg.Keys.Dir, cfg.Store.Type)
	}
	if st, err := os.Stat(cfg.Keys.Dir); err != nil || !st.IsDir() {
		t.Errorf("keys dir not created: %v", err)
	}
	byID := map[string]Client{}
	for _, c := range cfg.Clients {
		byID[c.ID] = c
	}
	redirects := []string{"http://127.0.0.1:9000/callback", "http://localhost:9000/callback"}
	rpScopes := []string{"openid", "profile", "email", "phone", "fiscal_number", "offline_access"}
	codeGrants := []string{GrantAuthorizationCode, GrantRefreshToken}

	rp := byID["demo-rp"]
	if rp.Public || rp.Secret.Value != "demo-secret" || rp.AuthMethod != AuthSecretBasic ||
		!slices.Equal(rp.RedirectURIs, redirects) || !slices.Equal(rp.Scopes, rpScopes) || !slices.Equal(rp.GrantTypes, codeGrants) {
		t.Errorf("demo-rp = %+v", rp)
	}
	spa := byID["demo-spa"]
	if !spa.Public || spa.Secret.IsSet() || spa.AuthMethod != AuthNone ||
		!slices.Equal(spa.RedirectURIs, redirects) || !slices.Equal(spa.Scopes, rpScopes) || !slices.Equal(spa.GrantTypes, codeGrants) {
		t.Errorf("demo-spa = %+v", spa)
	}
	svc := byID["demo-service"]
	if svc.Public || svc.Secret.Value != "demo-service-secret" || !svc.Introspect ||
		!slices.Equal(svc.GrantTypes, []string{GrantClientCredentials, GrantTokenExchange}) ||
		!slices.Equal(svc.Scopes, []string{"openid", "profile", "fiscal_number", "inps:services"}) ||
		!slices.Equal(svc.ExchangeAudiences, []string{"inps-pensioni", "inps-isee"}) {
		t.Errorf("demo-service = %+v", svc)
	}
	op := byID["demo-operator"]
	if op.Secret.Value != "demo-operator-secret" || !slices.Equal(op.GrantTypes, []string{GrantClientCredentials}) ||
		!slices.Contains(op.Scopes, "pin:office") || !slices.Contains(op.Scopes, "delegation:office") {
		t.Errorf("demo-operator = %+v", op)
	}
	dp := byID["demo-dpop"]
	if !dp.Public || dp.Secret.IsSet() || dp.AuthMethod != AuthNone || !dp.DPoPBoundAccessTokens ||
		!slices.Equal(dp.RedirectURIs, redirects) || !slices.Equal(dp.Scopes, rpScopes) || !slices.Equal(dp.GrantTypes, codeGrants) {
		t.Errorf("demo-dpop = %+v", dp)
	}
	if len(cfg.Clients) != 5 {
		t.Errorf("%d clients", len(cfg.Clients))
	}
}

// TestDevSecretsSurviveARestart: the crypto and subject keys are generated once, 0600, and
// reused, so sessions and subs stay valid across restarts.
func TestDevSecretsSurviveARestart(t *testing.T) {
	data := t.TempDir()
	opts := devOptions(nil)
	random := make([]byte, 64)
	for i := range random {
		random[i] = byte(i)
	}
	opts.Rand = bytes.NewReader(random)
	first, err := DevConfig("127.0.0.1:8080", "", data, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{DevCryptoKeyFile, DevSubjectKeyFile} {
		st, err := os.Stat(filepath.Join(data, name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", name, st.Mode().Perm())
		}
	}
	key, err := first.Keys.CryptoKey.Key()
	if err != nil || !bytes.Equal(key, random[:32]) {
		t.Errorf("crypto key = %x, %v", key, err)
	}
	opts.Rand = bytes.NewReader(bytes.Repeat([]byte{9}, 64)) // would give other keys
	second, err := DevConfig("127.0.0.1:8080", "", data, opts)
	if err != nil {
		t.Fatal(err)
	}
	if first.Keys.CryptoKey.Value != second.Keys.CryptoKey.Value || first.Subject.Key.Value != second.Subject.Key.Value {
		t.Error("a restart changed the dev secrets")
	}
	if first.Keys.CryptoKey.Value == first.Subject.Key.Value {
		t.Error("crypto and subject keys are the same")
	}
	entries, _ := os.ReadDir(data)
	for _, e := range entries {
		if e.Name() != "keys" && e.Name() != DevCryptoKeyFile && e.Name() != DevSubjectKeyFile {
			t.Errorf("stray file %s in the data directory", e.Name())
		}
	}
}

func TestDevConfigOverrides(t *testing.T) {
	t.Run("SPORTELLO_REDIS_URL swaps the store for Redis", func(t *testing.T) {
		cfg, err := DevConfig("127.0.0.1:8080", "", t.TempDir(), devOptions(map[string]string{"SPORTELLO_REDIS_URL": "redis://127.0.0.1:6379/0"}))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Store.Type != "redis" || cfg.Store.Redis.URL != "redis://127.0.0.1:6379/0" {
			t.Errorf("store = %+v", cfg.Store)
		}
	})
	t.Run("the --http address wins over the environment", func(t *testing.T) {
		cfg, err := DevConfig("127.0.0.1:7000", "", t.TempDir(), devOptions(map[string]string{"SPORTELLO_HTTP_ADDR": "127.0.0.1:1"}))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Listen.HTTP != "127.0.0.1:7000" || cfg.Issuer != "http://127.0.0.1:7000" {
			t.Errorf("listen.http %q issuer %q", cfg.Listen.HTTP, cfg.Issuer)
		}
	})
	t.Run("empty addresses keep dev.yaml's", func(t *testing.T) {
		cfg, err := DevConfig("", "", t.TempDir(), devOptions(nil))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Listen.HTTP != "127.0.0.1:8080" || cfg.Listen.MTLS != "127.0.0.1:8443" {
			t.Errorf("listen = %+v", cfg.Listen)
		}
	})
	t.Run("a data directory is required", func(t *testing.T) {
		if _, err := DevConfig("127.0.0.1:8080", "", "", devOptions(nil)); err == nil {
			t.Error("no error")
		}
	})
	t.Run("a corrupted key file is reported", func(t *testing.T) {
		data := t.TempDir()
		if err := os.WriteFile(filepath.Join(data, DevCryptoKeyFile), []byte("short\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := DevConfig("127.0.0.1:8080", "", data, devOptions(nil))
		wantOnly(t, err, "keys.crypto_key")
	})
}

func TestWarningsListInsecureSettings(t *testing.T) {
	cfg, err := DevConfig("127.0.0.1:8080", "", t.TempDir(), devOptions(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"dev mode is on: insecure settings are allowed; never use it in production",
		"issuer is plain http",
		"clients[0].secret is a literal secret",
		"clients[2].secret is a literal secret",
		"clients[3].secret is a literal secret",
	}
	if got := cfg.Warnings(); !slices.Equal(got, want) {
		t.Errorf("Warnings = %q", got)
	}
	prod, err := Parse([]byte(validYAML), testOptions(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	if w := prod.Warnings(); w != nil {
		t.Errorf("production warnings = %q", w)
	}
}

// demo-rp's backchannel_logout_uri follows the --http port, always on a loopback host (the
// only http a logout token may take, even in dev mode).
func TestDevBackchannelLogoutURIFollowsTheHTTPPort(t *testing.T) {
	for addr, want := range map[string]string{
		"127.0.0.1:18080": "http://127.0.0.1:18080/dev/rp/backchannel-logout",
		"localhost:18081": "http://localhost:18081/dev/rp/backchannel-logout",
		"0.0.0.0:18082":   "http://127.0.0.1:18082/dev/rp/backchannel-logout",
		"[::1]:18083":     "http://[::1]:18083/dev/rp/backchannel-logout",
	} {
		cfg, err := DevConfig(addr, "", t.TempDir(), devOptions(nil))
		if err != nil {
			t.Fatalf("%s: %v", addr, err)
		}
		got := ""
		for _, c := range cfg.Clients {
			if c.ID == "demo-rp" {
				got = c.BackchannelLogoutURI
			}
		}
		if got != want {
			t.Errorf("--http %s: demo-rp's backchannel_logout_uri %q, want %q", addr, got, want)
		}
	}
}
