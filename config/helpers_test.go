package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// Secret values used by the tests; none may ever appear in an error or a printout.
const (
	testCryptoKey  = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	testSecretEnv  = "env-client-secret-value-0123456789"
	exampleSubject = "example-subject-key-0123456789abcdef0123456789abcdef"
)

// testEnv is the injected environment of the tests.
func testEnv(extra map[string]string) func(string) string {
	env := map[string]string{
		"SPORTELLO_CRYPTO_KEY":         testCryptoKey,
		"SPORTELLO_PENSIONI_SECRET":    testSecretEnv,
		"SPORTELLO_TEST_CLIENT_SECRET": testSecretEnv,
	}
	for k, v := range extra {
		env[k] = v
	}
	return func(name string) string { return env[name] }
}

// permissive accepts any provider section.
func permissive(string, *Provider, bool) []error { return nil }

var permissiveTypes = map[string]ProviderValidator{
	"spid": permissive, "cie": permissive, "cns": permissive, "pin": permissive,
}

// exampleDir is the fake deployment directory the production-style tests run in.
func exampleDir(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("testdata", "example"))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func testOptions(t testing.TB, env map[string]string) Options {
	return Options{ProviderTypes: permissiveTypes, Getenv: testEnv(env), Dir: exampleDir(t)}
}

// baseConfig is a valid production configuration as a tree that tests mutate.
func baseConfig() map[string]any {
	return map[string]any{
		"issuer":  "https://login.example.it",
		"listen":  map[string]any{"http": "0.0.0.0:8080"},
		"keys":    map[string]any{"dir": "keys", "crypto_key": "env:SPORTELLO_CRYPTO_KEY"},
		"subject": map[string]any{"key": "file:secrets/subject_key"},
		"clients": []any{
			map[string]any{
				"id":            "rp",
				"secret":        "env:SPORTELLO_TEST_CLIENT_SECRET",
				"redirect_uris": []any{"https://rp.example.it/cb"},
				"scopes":        []any{"openid", "profile", "offline_access"},
			},
			map[string]any{
				"id":            "spa",
				"public":        true,
				"redirect_uris": []any{"https://spa.example.it/cb"},
				"scopes":        []any{"openid"},
			},
		},
		"providers": map[string]any{"spid": map[string]any{"type": "spid"}},
	}
}

// set puts value at a dotted path of tree ("clients.0.secret"); a nil value deletes the key.
func set(tree map[string]any, path string, value any) {
	parts := strings.Split(path, ".")
	var cur any = tree
	for i, p := range parts {
		last := i == len(parts)-1
		switch node := cur.(type) {
		case map[string]any:
			if last {
				if value == nil {
					delete(node, p)
				} else {
					node[p] = value
				}
				return
			}
			if _, ok := node[p]; !ok {
				node[p] = map[string]any{}
			}
			cur = node[p]
		case []any:
			n, err := strconv.Atoi(p)
			if err != nil {
				panic(path)
			}
			if last {
				node[n] = value
				return
			}
			cur = node[n]
		default:
			panic("set: cannot descend into " + path)
		}
	}
}

func mustYAML(t testing.TB, v any) []byte {
	t.Helper()
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// errPaths returns the paths of a Parse/Load error (nil for success).
func errPaths(t testing.TB, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	ve, ok := errors.AsType[*ValidationError](err)
	if !ok {
		t.Fatalf("want a *ValidationError, got %T: %v", err, err)
	}
	var out []string
	for _, e := range ve.Errors {
		fe, ok := e.(*FieldError)
		if !ok {
			t.Fatalf("want *FieldError, got %T: %v", e, e)
		}
		out = append(out, fe.Path)
	}
	return out
}

// wantOnly asserts that err lists exactly the paths want (in any order, duplicates collapsed).
func wantOnly(t *testing.T, err error, want ...string) {
	t.Helper()
	got := slices.Compact(slices.Sorted(slices.Values(errPaths(t, err))))
	want = slices.Compact(slices.Sorted(slices.Values(want)))
	if !slices.Equal(got, want) {
		t.Errorf("error paths = %q, want %q\nerror:\n%v", got, want, err)
	}
}

// wantLocated asserts that every error of err points into the file (a line) or names the
// variable that set the value.
func wantLocated(t *testing.T, err error) {
	t.Helper()
	ve, ok := errors.AsType[*ValidationError](err)
	if !ok {
		return
	}
	for _, e := range ve.Errors {
		if fe, ok := e.(*FieldError); !ok || (fe.Line == 0 && fe.SetBy == "") {
			t.Errorf("unlocated error: %v", e)
		}
	}
}

// yamlNull marshals as a YAML null, for keys that are present but empty ("secret: null").
type yamlNull struct{}

// MarshalYAML implements yaml.Marshaler.
func (yamlNull) MarshalYAML() (any, error) {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, nil
}

// testKeyPEM is a fresh P-256 private key (PKCS#8 PEM), the key of no certificate.
func testKeyPEM(t testing.TB) []byte {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}
