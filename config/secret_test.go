package config

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestSecretsNeverPrinted: no way of printing a configuration reveals a secret.
func TestSecretsNeverPrinted(t *testing.T) {
	cfg, err := Parse([]byte(validYAML), testOptions(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{testCryptoKey, testSecretEnv, exampleSubject}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "keys", cfg.Keys, "secret", cfg.Clients[0].Secret)
	y, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	j, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"%v":   fmt.Sprintf("%v", cfg),
		"%+v":  fmt.Sprintf("%+v", *cfg),
		"%#v":  fmt.Sprintf("%#v", *cfg),
		"%s":   fmt.Sprintf("%s", cfg.Keys.CryptoKey),
		"slog": logged.String(),
		"yaml": string(y),
		"json": string(j),
	}
	for how, out := range outputs {
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("%s reveals a secret: %s", how, out)
			}
		}
		if !strings.Contains(out, redacted) {
			t.Errorf("%s does not say [redacted]: %s", how, out)
		}
	}
	if (Secret{}).String() != "" {
		t.Error("an unset secret prints something")
	}
}

// TestSecretErrorsNeverPrintValues: a misplaced secret is not echoed by the error about it.
func TestSecretErrorsNeverPrintValues(t *testing.T) {
	const leaked = "s3cr3t-literal-value-that-must-not-leak"
	inputs := []string{
		strings.Replace(validYAML, "env:SPORTELLO_TEST_CLIENT_SECRET", leaked, 1),
		strings.Replace(validYAML, "env:SPORTELLO_CRYPTO_KEY", "env:SHORT", 1),
		validYAML + "tokens: {access_ttl: " + leaked + "}\n",
		validYAML + "dev: " + leaked + "\n",
	}
	for _, in := range inputs {
		_, err := Parse([]byte(in), testOptions(t, map[string]string{"SHORT": "abc"}))
		if err == nil {
			t.Fatalf("no error for %q", in)
		}
		if strings.Contains(err.Error(), leaked) || strings.Contains(err.Error(), "abc") {
			t.Errorf("error reveals the value: %v", err)
		}
	}
}

func TestDecodeKey(t *testing.T) {
	raw32 := bytes.Repeat([]byte{0xab}, 32)
	tests := []struct {
		name, in string
		want     []byte
		ok       bool
	}{
		{"64 hex digits are hex", hex.EncodeToString(raw32), raw32, true},
		{"base64 of 32 bytes is base64", "q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=", raw32, true},
		{"unpadded URL base64 is base64", "q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s", raw32, true},
		{"32 characters are raw", "this passphrase has 32 letters!!", []byte("this passphrase has 32 letters!!"), true},
		{"31 characters are too short", "this passphrase has 31 letters!", nil, false},
		{"base64 of 16 bytes is too short", "q6urq6urq6urq6urq6urqw==", nil, false},
		{"empty is too short", "", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeKey(tt.in)
			if (err == nil) != tt.ok || !bytes.Equal(got, tt.want) {
				t.Errorf("DecodeKey(%q) = %x, %v", tt.in, got, err)
			}
		})
	}
}

func TestCryptoKey32(t *testing.T) {
	k := Keys{CryptoKey: Secret{Value: testCryptoKey}}
	got, err := k.CryptoKey32()
	if err != nil || hex.EncodeToString(got[:]) != testCryptoKey {
		t.Errorf("32-byte key not used as is: %x %v", got, err)
	}
	long := Keys{CryptoKey: Secret{Value: strings.Repeat("long key material ", 4)}}
	a, err := long.CryptoKey32()
	b, _ := long.CryptoKey32()
	if err != nil || a != b || a == ([32]byte{}) {
		t.Errorf("longer key not derived deterministically: %x %x %v", a, b, err)
	}
	if _, err := (Keys{}).CryptoKey32(); err == nil {
		t.Error("an empty key gives no error")
	}
}

func TestResolverSecretForms(t *testing.T) {
	r := Resolver{Dir: exampleDir(t), Getenv: testEnv(nil)}
	tests := []struct {
		name, ref, want string
		dev, ok         bool
	}{
		{"file: relative to the configuration", "file:secrets/subject_key", exampleSubject, false, true},
		{"file: absolute", "file:" + exampleDir(t) + "/secrets/subject_key", exampleSubject, false, true},
		{"env: variable", "env:SPORTELLO_CRYPTO_KEY", testCryptoKey, false, true},
		{"literal in dev mode", "literal-value", "literal-value", true, true},
		{"literal outside dev mode", "literal-value", "", false, false},
		{"empty reference leaves the secret unset", "", "", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r.Dev = tt.dev
			s := Secret{Ref: tt.ref}
			err := r.Secret(&s, "x")
			if (err == nil) != tt.ok || s.Value != tt.want {
				t.Errorf("Secret(%q) = %q, %v", tt.ref, s.Value, err)
			}
		})
	}
}

// TestPlainYAMLUnmarshal: packages that decode with yaml.v3 directly still get references,
// never resolved values, and the provider's type.
func TestPlainYAMLUnmarshal(t *testing.T) {
	var v struct {
		Key Secret   `yaml:"key"`
		P   Provider `yaml:"p"`
	}
	if err := yaml.Unmarshal([]byte("key: env:X\np: {type: cie, enabled: false, ca: x}\n"), &v); err != nil {
		t.Fatal(err)
	}
	if v.Key.Ref != "env:X" || v.Key.Value != "" || v.P.Type != "cie" || v.P.IsEnabled() {
		t.Errorf("got %+v", v)
	}
	if err := yaml.Unmarshal([]byte("key: [a]\n"), &v); err == nil {
		t.Error("a list secret gives no error")
	}
}
