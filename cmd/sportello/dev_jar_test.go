package main

import (
	"bytes"
	"crypto"
	"encoding/json"
	"os"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/inps/sportello/config"
)

// demo-jar, added beside dev.yaml, passes the same validation as a file's client, and its
// committed private key is the one of its jwks_file.
func TestDevJARClientIsValid(t *testing.T) {
	cfg, err := config.DevConfig("127.0.0.1:8080", "127.0.0.1:8443", t.TempDir(), config.Options{ProviderTypes: configValidators(), Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	cl := devJARClient("../../testdata/dev")
	cfg.Clients = append(cfg.Clients, cl)
	cfg.ApplyDefaults()
	for _, err := range cfg.Validate() {
		if strings.HasPrefix(err.Error(), "clients") {
			t.Error(err)
		}
	}
	var set jose.JSONWebKeySet
	var private jose.JSONWebKey
	for name, v := range map[string]any{cl.JWKSFile: &set, "../../testdata/dev/demo-jar.private.jwk.json": &private} {
		raw, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, v); err != nil {
			t.Fatal(err)
		}
	}
	pub := private.Public()
	want, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 1 || set.Keys[0].KeyID != private.KeyID {
		t.Fatalf("jwks_file keys %+v", set.Keys)
	}
	if got, _ := set.Keys[0].Thumbprint(crypto.SHA256); !bytes.Equal(got, want) {
		t.Fatal("the committed private key is not the one of the jwks_file")
	}
}
