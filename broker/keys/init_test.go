package keys

import (
	"crypto/rand"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/internal/store/memory"
)

// Outside dev mode no key set appears by itself: an empty store without a bootstrap, a key
// directory without an active key and a rotation of nothing are ErrNoKeySet, and nothing is
// written. Init is the operator's way to the first key set: an active and a next key per
// algorithm, the files of keys.dir imported; run again, it changes nothing.
func TestNoKeySetUntilInit(t *testing.T) {
	ctx := t.Context()
	st := memStore(t)
	src := &StoreSource{Store: st, CryptoKey: make([]byte, 32)}
	if _, err := src.Load(ctx); !errors.Is(err, ErrNoKeySet) {
		t.Fatalf("Load of an empty store: %v, want ErrNoKeySet", err)
	}
	if _, err := src.Rotate(ctx, time.Now(), time.Hour); !errors.Is(err, ErrNoKeySet) {
		t.Fatalf("Rotate of an empty store: %v, want ErrNoKeySet", err)
	}
	if _, err := st.Get(ctx, StoreKey); err == nil {
		t.Fatal("a refused Load or Rotate wrote a key set")
	}
	dir := t.TempDir()
	files := &FileSource{Dir: dir}
	if _, err := files.Load(ctx); !errors.Is(err, ErrNoKeySet) {
		t.Fatalf("Load of an empty directory: %v, want ErrNoKeySet", err)
	}
	if _, err := files.Rotate(ctx, time.Now(), time.Hour); !errors.Is(err, ErrNoKeySet) {
		t.Fatalf("Rotate of an empty directory: %v, want ErrNoKeySet", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("a refused Load or Rotate wrote %d files", len(entries))
	}

	// The files' keys (an operator's ES256 active key here) are imported, the rest generated.
	own, err := newKeyRecord("ES256", Active, time.Now(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if err := files.write(&Set{Keys: []Record{own}}); err != nil {
		t.Fatal(err)
	}
	seed, err := files.Read(ctx)
	if err != nil || len(seed.Keys) != 1 {
		t.Fatalf("Read: %v %v", seed, err)
	}
	res, err := src.Init(ctx, time.Now(), seed)
	if err != nil || !res.Created || len(res.Set.Keys) != 4 || len(res.Generated) != 3 {
		t.Fatalf("Init: %+v %v, want 4 keys, 3 of them generated", res, err)
	}
	ks, err := src.Load(ctx)
	if err != nil || fingerprint(ks) != fingerprint(res.Set) || ks.find("ES256", Active) < 0 || ks.Keys[ks.find("ES256", Active)].ID != own.ID {
		t.Fatalf("Load after Init: %v, want the imported active key", err)
	}
	again, err := src.Init(ctx, time.Now(), nil)
	if err != nil || again.Created || len(again.Generated) != 0 || fingerprint(again.Set) != fingerprint(ks) {
		t.Fatalf("a second Init: %+v %v, want nothing changed", again, err)
	}

	fres, err := (&FileSource{Dir: t.TempDir()}).Init(ctx, time.Now())
	if err != nil || !fres.Created || len(fres.Generated) != 4 {
		t.Fatalf("FileSource.Init: %+v %v", fres, err)
	}
}

func memStore(t testing.TB) store.Store {
	s := memory.New(memory.Options{})
	t.Cleanup(func() { _ = s.Close() })
	return s
}
