// Command genjar writes the dev client demo-jar's key pair into testdata/dev: its public keys
// (demo-jar.jwks.json, the client's jwks_file: its client assertions, private_key_jwt, and its
// request objects, RFC 9101) and the private key (demo-jar.private.jwk.json), a dev-only key
// committed so that outside testers can sign as demo-jar. It touches no other file.
//
// Run it from the module root: go run ./testdata/dev/genjar [-out testdata/dev].
// The key is fresh on every run; commit the two files it writes.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	jose "github.com/go-jose/go-jose/v4"
)

var outDir = flag.String("out", "testdata/dev", "directory of the files written")

// kid names the key in both files: request objects and client assertions carry it.
const kid = "demo-jar-1"

func main() {
	flag.Parse()
	if err := run(*outDir); err != nil {
		fmt.Fprintln(os.Stderr, "genjar:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	private := jose.JSONWebKey{Key: key, KeyID: kid, Algorithm: string(jose.ES256), Use: "sig"}
	public := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{private.Public()}}
	if err := write(filepath.Join(dir, "demo-jar.jwks.json"), public, 0o644); err != nil {
		return err
	}
	return write(filepath.Join(dir, "demo-jar.private.jwk.json"), private, 0o644)
}

func write(name string, v any, mode os.FileMode) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(name, append(b, '\n'), mode)
}
