package keys

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

func newRing(t *testing.T) (*Ring, *StoreSource) {
	t.Helper()
	src := &StoreSource{Store: memStore(t), CryptoKey: make([]byte, 32), Bootstrap: &FileSource{Dir: t.TempDir(), Generate: true}}
	r := &Ring{Source: src, Grace: time.Hour}
	if _, err := r.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	return r, src
}

func jwksIDs(t *testing.T, r *Ring) []string {
	t.Helper()
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(r.JWKS(), &set); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, k := range set.Keys {
		out = append(out, k.KeyID)
	}
	return out
}

func kidOf(t *testing.T, tok string) string {
	t.Helper()
	jws, err := jose.ParseSigned(tok, Algorithms)
	if err != nil {
		t.Fatal(err)
	}
	return jws.Signatures[0].Header.KeyID
}

func stateKey(ks *Set, alg jose.SignatureAlgorithm, state string) string {
	if i := ks.find(alg, state); i >= 0 {
		return ks.Keys[i].ID
	}
	return ""
}

// The next key is published before it signs; after a rotation it signs, and the retired key
// still verifies until the grace has passed, when it leaves the JWKS and stops verifying.
func TestRingRotation(t *testing.T) {
	ctx := t.Context()
	r, src := newRing(t)
	ks, _ := src.Load(ctx)
	active, next := stateKey(ks, jose.ES256, Active), stateKey(ks, jose.ES256, Next)
	if ids := jwksIDs(t, r); len(ids) != 4 || !slices.Contains(ids, next) {
		t.Fatalf("JWKS %v: want active and next keys of both algorithms, the next one included", ids)
	}
	old, err := r.Sign(jose.ES256, TypAccessToken, []byte(`{"n":1}`))
	if err != nil || kidOf(t, old) != active {
		t.Fatalf("Sign: %v, signed by %s, want the active key %s", err, kidOf(t, old), active)
	}
	if _, err := src.Rotate(ctx, time.Now(), time.Hour); err != nil {
		t.Fatal(err)
	}
	var told []string
	r.Changed = func(a []string) { told = a }
	if changed, err := r.Reload(ctx); err != nil || !changed {
		t.Fatalf("Reload after a rotation: %v %v", changed, err)
	}
	if !slices.Contains(told, next) {
		t.Fatalf("Changed told %v, want the promoted key %s", told, next)
	}
	fresh, _ := r.Sign(jose.ES256, TypAccessToken, []byte(`{"n":2}`))
	if kidOf(t, fresh) != next {
		t.Fatal("a rotation did not promote the next key")
	}
	if ids := jwksIDs(t, r); len(ids) != 6 || ids[0] == active {
		t.Fatalf("JWKS after rotation %v: want 6 keys, the retired one not first", ids)
	}
	if p, err := r.Verify(old, TypAccessToken); err != nil || string(p) != `{"n":1}` {
		t.Fatalf("a token of the retired key: %q %v", p, err)
	}
	r.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	if _, err := r.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if ids := jwksIDs(t, r); len(ids) != 4 || slices.Contains(ids, active) {
		t.Fatalf("JWKS past the grace %v: the retired key is still published", ids)
	}
	if _, err := r.Verify(old, TypAccessToken); !errors.Is(err, ErrInvalid) {
		t.Fatalf("a token of a pruned key: %v, want ErrInvalid", err)
	}
}

// Verify refuses what the ring did not sign as asked: another typ, a tampered signature, a
// key it does not publish, garbage; Sign refuses an algorithm it has no key for.
func TestRingVerifyRefuses(t *testing.T) {
	r, _ := newRing(t)
	other, _ := newRing(t)
	at, err := r.Sign(jose.ES256, TypAccessToken, []byte(`{"sub":"a"}`))
	if err != nil {
		t.Fatal(err)
	}
	foreign, _ := other.Sign(jose.ES256, TypAccessToken, []byte(`{"sub":"a"}`))
	tampered := at[:len(at)-4] + "AAAA"
	for name, c := range map[string]struct{ tok, typ string }{
		"an ID token where an access token is wanted": {mustSign(t, r, TypIDToken), TypAccessToken},
		"an access token where an ID token is wanted": {at, TypIDToken},
		"a tampered signature":                        {tampered, TypAccessToken},
		"another ring's key":                          {foreign, TypAccessToken},
		"garbage":                                     {"a.b.c", TypAccessToken},
		"empty":                                       {"", TypAccessToken},
	} {
		if _, err := r.Verify(c.tok, c.typ); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	if _, err := r.Sign("HS256", TypAccessToken, []byte(`{}`)); !errors.Is(err, ErrNoSigner) {
		t.Errorf("Sign with an unsupported algorithm: %v, want ErrNoSigner", err)
	}
}

func mustSign(t *testing.T, r *Ring, typ string) string {
	t.Helper()
	tok, err := r.Sign(jose.RS256, typ, []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Verify takes whatever a client presents: anything not signed by the ring as asked is
// ErrInvalid, never a panic, and a token it signed verifies to its payload.
func FuzzVerify(f *testing.F) {
	r := &Ring{Source: &StoreSource{Store: memStore(f), CryptoKey: make([]byte, 32), Bootstrap: &FileSource{Dir: f.TempDir(), Generate: true}}}
	if _, err := r.Reload(f.Context()); err != nil {
		f.Fatal(err)
	}
	good, err := r.Sign(jose.ES256, TypAccessToken, []byte(`{"sub":"a"}`))
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{good, good + "x", "a.b.c", "", "..", "e30.e30.", "eyJhbGciOiJub25lIn0.e30.",
		"eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCJ9.e30.c2ln"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		payload, err := r.Verify(tok, TypAccessToken)
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Fatalf("Verify: %v, want ErrInvalid", err)
		}
		if tok == good && (err != nil || string(payload) != `{"sub":"a"}`) {
			t.Fatalf("the ring's own token: %q %v", payload, err)
		}
	})
}
