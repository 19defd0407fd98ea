package seal

import (
	"bytes"
	"errors"
	"testing"
)

var key = bytes.Repeat([]byte{7}, 32)

func TestSealOpens(t *testing.T) {
	sealed, err := Seal(key, "k", []byte("secret"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("secret")) {
		t.Fatal("the sealed value shows the plain text")
	}
	got, err := Open(key, "k", sealed)
	if err != nil || string(got) != "secret" {
		t.Fatalf("Open = %q, %v", got, err)
	}
}

func TestOpenRefuses(t *testing.T) {
	sealed, err := Seal(key, "k", []byte("secret"), nil)
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(sealed)
	flipped[len(flipped)-1] ^= 1
	other := bytes.Repeat([]byte{8}, 32)
	for name, tc := range map[string]struct {
		key      []byte
		storeKey string
		sealed   []byte
		want     error
	}{
		"another Store key":  {key, "other", sealed, ErrOpen},
		"another crypto key": {other, "k", sealed, ErrOpen},
		"altered":            {key, "k", flipped, ErrOpen},
		"too short":          {key, "k", sealed[:5], ErrOpen},
		"empty":              {key, "k", nil, ErrOpen},
		"short crypto key":   {key[:31], "k", sealed, ErrShortKey},
	} {
		if _, err := Open(tc.key, tc.storeKey, tc.sealed); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", name, err, tc.want)
		}
	}
	if _, err := Seal(key[:31], "k", nil, nil); !errors.Is(err, ErrShortKey) {
		t.Errorf("Seal with a short key: %v", err)
	}
}

func FuzzOpen(f *testing.F) {
	// A fixed nonce: the fuzzing workers run this function again, and the one genuine value
	// must be the same bytes in each of them.
	sealed, _ := Seal(key, "k", []byte("secret"), bytes.NewReader(make([]byte, 12)))
	f.Add(sealed)
	f.Add([]byte{})
	f.Add(make([]byte, 12))
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, err := Open(key, "k", b); err == nil && !bytes.Equal(b, sealed) {
			t.Fatalf("a forged value opened: %q", got)
		}
	})
}
