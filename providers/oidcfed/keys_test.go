package oidcfed

import (
	"crypto/rand"
	"testing"
	"time"
)

func TestKeySetRotation(t *testing.T) {
	dir := t.TempDir()
	src := &FileKeySource{Dir: dir, Generate: true, Bits: 2048, Now: func() time.Time { return testNow }}
	ks, err := src.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	again, err := (&FileKeySource{Dir: dir}).Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if again.Active(UseFederation).ID != ks.Active(UseFederation).ID {
		t.Fatal("the key set was not kept across loads")
	}
	next := ks.Keys[ks.find(UseSigning, KeyNext)].ID
	old := ks.Active(UseSigning).ID
	if err := ks.Rotate(UseSigning, 2048, testNow, rand.Reader); err != nil {
		t.Fatal(err)
	}
	if err := ks.decode(); err != nil {
		t.Fatal(err)
	}
	if ks.Active(UseSigning).ID != next {
		t.Fatal("the next key, published before, is not the one made active")
	}
	pub := ks.Public(UseSigning)
	if len(pub.Keys) != 3 || pub.Keys[0].KeyID != next || len(pub.Key(old)) != 1 {
		t.Fatalf("published %d keys; want active first, next, and the retired %s", len(pub.Keys), old)
	}
	ks.Prune(testNow.Add(48*time.Hour), 24*time.Hour)
	if len(ks.Public(UseSigning).Key(old)) != 0 {
		t.Fatal("the retired key outlived its grace")
	}
	if _, err := (&FileKeySource{Dir: t.TempDir()}).Load(t.Context()); err == nil {
		t.Fatal("a missing key set outside dev mode must be an error")
	}
}
