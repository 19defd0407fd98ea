package jar_test

import (
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/inps/sportello/broker/jar"
	"github.com/inps/sportello/internal/store/memory"
)

// FuzzVerify feeds arbitrary strings to Verify as a request object of a client with one
// fixed key: it never panics, and whatever it accepts names the client and the issuer and
// merges into parameters whose client_id is the client's.
func FuzzVerify(f *testing.F) {
	now := epoch
	es := newSigner(f, "es", jose.ES256)
	f.Add(es.sign(f, claims(now), nil))
	f.Add(es.sign(f, claims(now), map[string]any{"typ": "JWT"}))
	f.Add("eyJhbGciOiJub25lIn0.eyJpc3MiOiJkZW1vLXJwIn0.")
	f.Add("a.b.c.d.e")
	client := jar.Client{ID: "demo-rp", JWKS: &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{es.public()}}}
	f.Fuzz(func(t *testing.T, request string) {
		clock := now
		v, err := jar.New(jar.Options{Issuer: issuer, Store: memory.New(memory.Options{Now: func() time.Time { return clock }}), Now: func() time.Time { return clock }})
		if err != nil {
			t.Fatal(err)
		}
		claims, err := v.Verify(t.Context(), client, request)
		if err != nil {
			return
		}
		if claims["iss"] != "demo-rp" {
			t.Fatalf("accepted %v", claims)
		}
		params, err := jar.Merge(client.ID, claims)
		if err == nil && params.Get("client_id") != "demo-rp" {
			t.Fatalf("merged %v", params)
		}
	})
}
