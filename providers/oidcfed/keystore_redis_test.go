package oidcfed

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/inps/sportello/internal/store"
	redisstore "github.com/inps/sportello/internal/store/redis"
	"github.com/inps/sportello/internal/store/redistest"
	"github.com/inps/sportello/providers"
)

var sealKey = bytes.Repeat([]byte{0x5e}, 32)

func redisStore(t *testing.T) store.Store {
	t.Helper()
	srv := redistest.Start(t)
	st, err := redisstore.New(context.Background(), redisstore.Options{URL: srv.URL, Prefix: srv.Prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// replica opens the provider as one broker replica of a Redis deployment would.
func replica(t *testing.T, st store.Store, dev bool) *Provider {
	t.Helper()
	c := &Config{KeysDir: t.TempDir(), generate: dev, id: "oidcfed"}
	c.ApplyDefaults()
	if dev {
		c.WithKeys(&FileKeySource{Dir: c.KeysDir, Generate: true, Bits: 2048})
	}
	p, err := Open(providers.Host{ID: "oidcfed", Issuer: "https://broker.example", Dev: dev, Store: st, SealKey: sealKey}, c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func kids(s *jose.JSONWebKeySet) []string {
	var out []string
	for _, k := range s.Keys {
		out = append(out, k.KeyID)
	}
	return out
}

// TestStoreKeysSharedAndRotatedAcrossReplicas: two replicas on one Redis publish the same
// federation and RP keys, sealed in the store; a rotation (the operator's) reaches both at
// their next refresh, the new active key was already published as next, and the retired one
// stays published and still decrypts.
func TestStoreKeysSharedAndRotatedAcrossReplicas(t *testing.T) {
	st := redisStore(t)
	admin := &StoreKeySource{Store: st, CryptoKey: sealKey, Key: StoreKeyPrefix + "oidcfed", Bits: 2048}
	if created, err := admin.Init(t.Context()); err != nil || !created {
		t.Fatalf("Init = %v, %v", created, err)
	}
	if created, err := admin.Init(t.Context()); err != nil || created {
		t.Fatalf("a second Init = %v, %v; want the set kept", created, err)
	}
	raw, err := st.Get(t.Context(), admin.Key)
	if err != nil {
		t.Fatal(err)
	}
	first, err := admin.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, first.Keys[0].PKCS8) || bytes.Contains(raw, []byte(`"pkcs8"`)) {
		t.Fatal("the key set is in the store unsealed")
	}

	a, b := replica(t, st, false), replica(t, st, false)
	for _, use := range keyUses {
		if ka, kb := kids(a.keySet().Public(use)), kids(b.keySet().Public(use)); len(ka) != 2 || ka[0] != kb[0] || ka[1] != kb[1] {
			t.Fatalf("%s: replicas publish %v and %v; want the same active and next key", use, ka, kb)
		}
	}
	before := map[string][]string{}
	for _, use := range keyUses {
		before[use] = kids(a.keySet().Public(use))
	}
	oldEnc := a.keySet().Active(UseEncryption).ID

	if _, err := admin.Rotate(t.Context(), 0); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*Provider{a, b} {
		if err := p.Refresh(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	for _, use := range keyUses {
		ka, kb := kids(a.keySet().Public(use)), kids(b.keySet().Public(use))
		if len(ka) != 3 || ka[0] != before[use][1] || ka[2] != before[use][0] {
			t.Fatalf("%s after the rotation: published %v; want the former next %s active, a new next, the retired %s", use, ka, before[use][1], before[use][0])
		}
		if ka[0] != kb[0] || ka[1] != kb[1] || ka[2] != kb[2] {
			t.Fatalf("%s: replicas publish %v and %v after the rotation", use, ka, kb)
		}
	}
	if b.keySet().decrypter(oldEnc) == nil {
		t.Fatal("the retired encryption key no longer decrypts")
	}
}

// TestStoreKeysConcurrentRotations: two replicas rotating at once both count (compare-and-swap).
func TestStoreKeysConcurrentRotations(t *testing.T) {
	st := redisStore(t)
	src := func() *StoreKeySource {
		return &StoreKeySource{Store: st, CryptoKey: sealKey, Key: StoreKeyPrefix + "oidcfed", Bits: 2048}
	}
	if _, err := src().Init(t.Context()); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		wg.Go(func() { _, errs[i] = src().Rotate(t.Context(), 24*time.Hour) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	ks, err := src().Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, use := range keyUses {
		if n := len(ks.Public(use).Keys); n != 4 {
			t.Fatalf("%s: %d keys after two rotations; want active, next and two retired", use, n)
		}
	}
}

// TestStoreKeysDevBootstrap: in dev mode the first replica fills the empty store from its
// generated files; the second, with other files, uses the store's.
func TestStoreKeysDevBootstrap(t *testing.T) {
	st := redisStore(t)
	a, b := replica(t, st, true), replica(t, st, true)
	if ka, kb := kids(a.FederationJWKS()), kids(b.FederationJWKS()); ka[0] != kb[0] {
		t.Fatalf("replicas publish federation keys %v and %v", ka, kb)
	}
}

// TestStoreKeysRefusals: outside dev mode an empty store is ErrNoKeys (serve does not make
// keys by itself), a replica with another crypto key cannot open the set, and a rotation
// needs a set.
func TestStoreKeysRefusals(t *testing.T) {
	st := redisStore(t)
	c := &Config{KeysDir: t.TempDir(), id: "oidcfed"}
	c.ApplyDefaults()
	h := providers.Host{ID: "oidcfed", Issuer: "https://broker.example", Store: st, SealKey: sealKey}
	if _, err := Open(h, c, Options{}); !errors.Is(err, ErrNoKeys) {
		t.Fatalf("Open on an empty store: %v; want ErrNoKeys", err)
	}
	src := &StoreKeySource{Store: st, CryptoKey: sealKey, Key: StoreKeyPrefix + "oidcfed", Bits: 2048}
	if _, err := src.Rotate(t.Context(), 0); !errors.Is(err, ErrNoKeys) {
		t.Fatalf("Rotate on an empty store: %v; want ErrNoKeys", err)
	}
	if _, err := src.Init(t.Context()); err != nil {
		t.Fatal(err)
	}
	h.SealKey = bytes.Repeat([]byte{1}, 32)
	if _, err := Open(h, c, Options{}); err == nil {
		t.Fatal("a replica with another crypto key opened the key set")
	}
	// The set sealed for one provider does not open as another's.
	raw, _ := st.Get(t.Context(), src.Key)
	if err := st.Put(t.Context(), StoreKeyPrefix+"other", raw, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := (&StoreKeySource{Store: st, CryptoKey: sealKey, Key: StoreKeyPrefix + "other"}).Load(t.Context()); err == nil {
		t.Fatal("a key set moved to another Store key opened")
	}
}

// TestFederationKeysCLIInTheStore: with the set kept in the store, `federation keys init`
// creates it there once (a second init is refused) and `rotate` rotates it there.
func TestFederationKeysCLIInTheStore(t *testing.T) {
	st := redisStore(t)
	load := func(string) (*Config, error) {
		c := &Config{KeysDir: t.TempDir(), id: "oidcfed"}
		c.KeepKeysInStore(st, sealKey)
		return c, nil
	}
	run := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := CLI(t.Context(), args, &out, &errb, load)
		return code, out.String() + errb.String()
	}
	if code, out := run("keys", "init", "--config", "x.yaml"); code != 0 || !strings.Contains(out, "the store") {
		t.Fatalf("init: %d %s", code, out)
	}
	if code, out := run("keys", "init", "--config", "x.yaml"); code == 0 || !strings.Contains(out, "already") {
		t.Fatalf("a second init: %d %s", code, out)
	}
	src := &StoreKeySource{Store: st, CryptoKey: sealKey, Key: StoreKeyPrefix + "oidcfed"}
	before, err := src.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	next := before.Keys[before.find(UseFederation, KeyNext)].ID
	if code, out := run("keys", "rotate", "--config", "x.yaml"); code != 0 {
		t.Fatalf("rotate: %d %s", code, out)
	}
	after, err := src.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if after.Active(UseFederation).ID != next {
		t.Fatal("rotate did not promote the next federation key")
	}
}
