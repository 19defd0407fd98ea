package par_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/url"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/inps/sportello/broker/jar"
	"github.com/inps/sportello/broker/par"
	"github.com/inps/sportello/internal/store/memory"
)

// TestAPushedRequestObject rehearses the FAPI 2.0 front channel as the broker will wire it:
// the pushed authorization request endpoint verifies the signed request object (jar), pushes
// its parameters (par), and /authorize, given only client_id and request_uri, redeems them.
func TestAPushedRequestObject(t *testing.T) {
	ctx := t.Context()
	s := memory.New(memory.Options{})
	defer s.Close()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	client := jar.Client{ID: "demo-rp", JWKS: &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1", Use: "sig"}}}}
	objects, err := jar.New(jar.Options{Issuer: "https://login.inps.it", Store: s})
	if err != nil {
		t.Fatal(err)
	}
	requests := newRequests(t, s)
	now := time.Now()
	claims, _ := json.Marshal(map[string]any{"iss": "demo-rp", "aud": "https://login.inps.it", "client_id": "demo-rp", "jti": "r1",
		"nbf": now.Unix(), "exp": now.Add(time.Minute).Unix(), "response_type": "code", "scope": "openid",
		"redirect_uri": "https://rp.example/cb", "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method": "S256"})
	sg, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}}, (&jose.SignerOptions{}).WithType("oauth-authz-req+jwt"))
	jws, _ := sg.Sign(claims)
	obj, _ := jws.CompactSerialize()

	// POST /par (client authenticated as demo-rp): the object's parameters are what is pushed.
	form := url.Values{"client_id": {"demo-rp"}, "request": {obj}, "scope": {"ignored outside the object"}}
	params, err := objects.Resolve(ctx, client, form)
	if err != nil {
		t.Fatal(err)
	}
	pushed, err := requests.Push(ctx, "demo-rp", params)
	if err != nil {
		t.Fatal(err)
	}
	// GET /authorize?client_id=demo-rp&request_uri=...
	q := url.Values{"client_id": {"demo-rp"}, "request_uri": {pushed.RequestURI}}
	uri, clientID, ok, err := par.FromAuthorize(q)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	got, err := requests.Redeem(ctx, clientID, uri)
	if err != nil {
		t.Fatal(err)
	}
	if got.Get("scope") != "openid" || got.Get("redirect_uri") != "https://rp.example/cb" || got.Get("client_id") != "demo-rp" || got.Has("request") {
		t.Fatalf("authorize sees %v", got)
	}
	// The same object pushed again is a replay.
	if _, err := objects.Resolve(ctx, client, form); !errors.Is(err, jar.ErrInvalidRequestObject) {
		t.Fatalf("a request object pushed twice: %v", err)
	}
}
