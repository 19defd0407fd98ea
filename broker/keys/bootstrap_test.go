package keys

import (
	"errors"
	"testing"

	"github.com/inps/sportello/internal/store/storetest"
)

// The first start on a store whose replicas lag: the bootstrap write of the key set runs but
// its answer is an error (a durable write the replicas did not acknowledge in time, a cut
// connection). The broker uses the key set the store holds (it reaches the replicas with
// their next sync) instead of refusing to start, and a second replica gets the same keys. A
// write that never ran still fails, with its own error.
func TestKeySetBootstrapSurvivesAnUnacknowledgedWrite(t *testing.T) {
	st := memStore(t)
	cut := storetest.NewCutStore(st)
	cut.After(storetest.Once("PutIfAbsent", StoreKey))
	ks, err := (&StoreSource{Store: cut, CryptoKey: make([]byte, 32), Bootstrap: &FileSource{Dir: t.TempDir(), Generate: true}}).Load(t.Context())
	if err != nil {
		t.Fatalf("bootstrap whose write lost its answer: %v", err)
	}
	again, err := (&StoreSource{Store: st, CryptoKey: make([]byte, 32), Bootstrap: &FileSource{Dir: t.TempDir(), Generate: true}}).Load(t.Context())
	if err != nil || fingerprint(again) != fingerprint(ks) {
		t.Fatalf("another replica got other keys: %v", err)
	}

	lost := storetest.NewCutStore(memStore(t))
	lost.Before(storetest.Once("PutIfAbsent", StoreKey))
	_, err = (&StoreSource{Store: lost, CryptoKey: make([]byte, 32), Bootstrap: &FileSource{Dir: t.TempDir(), Generate: true}}).Load(t.Context())
	if !errors.Is(err, storetest.ErrCut) {
		t.Fatalf("a bootstrap write that never ran: %v, want its error", err)
	}
}
