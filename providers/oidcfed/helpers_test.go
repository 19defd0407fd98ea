package oidcfed

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// testKeys are RSA keys made once for the package's tests (generation is slow).
var (
	testKeysOnce sync.Once
	testKeys     []jose.JSONWebKey
)

func key(t testing.TB, i int) jose.JSONWebKey {
	t.Helper()
	testKeysOnce.Do(func() {
		for range 4 {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			kid, err := thumbprint(k.Public())
			if err != nil {
				panic(err)
			}
			testKeys = append(testKeys, jose.JSONWebKey{Key: k, KeyID: kid, Algorithm: "RS256", Use: "sig"})
		}
	})
	return testKeys[i]
}

func pubSet(keys ...jose.JSONWebKey) *jose.JSONWebKeySet {
	s := &jose.JSONWebKeySet{}
	for _, k := range keys {
		s.Keys = append(s.Keys, k.Public())
	}
	return s
}

var testNow = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)

// claims is a valid entity configuration of id with key k.
func claims(id string, k jose.JSONWebKey) map[string]any {
	return map[string]any{"iss": id, "sub": id, "iat": testNow.Unix(), "exp": testNow.Add(time.Hour).Unix(), "jwks": pubSet(k)}
}

// sign signs c with k and header typ.
func sign(t testing.TB, k jose.JSONWebKey, typ string, c map[string]any) string {
	t.Helper()
	opts := &jose.SignerOptions{}
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: k}, opts)
	if err != nil {
		t.Fatal(err)
	}
	jwt, err := SignJWT(s, c)
	if err != nil {
		t.Fatal(err)
	}
	return jwt
}

// unsigned is a JWS with alg none (go-jose will not make one).
func unsigned(c map[string]any) string {
	h, _ := json.Marshal(map[string]any{"alg": "none", "typ": TypeEntityStatement, "kid": "x"})
	p, _ := json.Marshal(c)
	enc := base64.RawURLEncoding.EncodeToString
	return enc(h) + "." + enc(p) + "."
}

// hmacSigned is a JWS with alg HS256 keyed by the public key's bytes (the key confusion attack).
func hmacSigned(t testing.TB, c map[string]any) string {
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte(strings.Repeat("k", 32))},
		(&jose.SignerOptions{}).WithType(TypeEntityStatement).WithHeader("kid", "x"))
	if err != nil {
		t.Fatal(err)
	}
	jwt, err := SignJWT(s, c)
	if err != nil {
		t.Fatal(err)
	}
	return jwt
}
