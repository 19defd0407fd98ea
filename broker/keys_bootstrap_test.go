package broker

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/inps/sportello/broker/store"
)

// appliedButFailed applies PutIfAbsent and then reports a failure, as a Redis write does
// when the replicas do not acknowledge it in time (ErrNotDurable: the primary applied it).
type appliedButFailed struct{ store.Store }

var errUnacknowledged = errors.New("write not acknowledged by enough replicas")

func (s appliedButFailed) PutIfAbsent(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	_, _ = s.Store.PutIfAbsent(ctx, key, value, ttl)
	return false, errUnacknowledged
}

// The first start on a store whose replicas lag: the bootstrap write of the key set is applied
// but reported failed. The broker uses the key set the store holds (it reaches the replicas
// with their next sync) instead of refusing to start, and a second replica gets the same keys.
func TestKeySetBootstrapSurvivesAnUnacknowledgedWrite(t *testing.T) {
	st := memStore(t)
	dir := t.TempDir()
	src := &StoreKeySource{Store: appliedButFailed{st}, CryptoKey: make([]byte, 32), Bootstrap: &FileKeySource{Dir: dir, Generate: true}}
	ks, err := src.Load(t.Context())
	if err != nil {
		t.Fatalf("bootstrap with an unacknowledged write: %v", err)
	}
	again, err := (&StoreKeySource{Store: st, CryptoKey: make([]byte, 32), Bootstrap: &FileKeySource{Dir: t.TempDir(), Generate: true}}).Load(t.Context())
	if err != nil || fingerprint(again) != fingerprint(ks) {
		t.Fatalf("another replica got other keys: %v", err)
	}
	// A write that was not applied at all still fails, with its own error.
	_, err = (&StoreKeySource{Store: refusing{st}, CryptoKey: make([]byte, 32), Bootstrap: &FileKeySource{Dir: t.TempDir(), Generate: true}}).Load(context.Background())
	if !errors.Is(err, errUnacknowledged) {
		t.Fatalf("a lost bootstrap write: %v, want its error", err)
	}
}

// refusing fails every PutIfAbsent without applying it and finds nothing.
type refusing struct{ store.Store }

func (refusing) Get(context.Context, string) ([]byte, error) { return nil, store.ErrNotFound }
func (refusing) PutIfAbsent(context.Context, string, []byte, time.Duration) (bool, error) {
	return false, errUnacknowledged
}
