package oidcfed

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/internal/store/seal"
)

// StoreKeyPrefix starts the Store key of a provider's key set; the provider id follows.
const StoreKeyPrefix = "oidcfed:keys:"

// StoreKeySource keeps the key set in the Store, sealed with the broker's crypto key as the
// broker's own signing keys are (internal/store/seal), so every replica uses the same keys and
// a rotation reaches all of them at their next Load (within a minute: Refresh reloads). The
// set is created once by the operator (`sportello federation keys init`, Init); in dev mode an
// empty store is filled from Bootstrap by whichever replica starts first.
type StoreKeySource struct {
	Store     store.Store
	CryptoKey []byte
	// Key is the Store key of the set: StoreKeyPrefix and the provider id.
	Key string
	// Bootstrap, when set, gives the set of an empty store at Load; without it an empty store
	// is ErrNoKeys.
	Bootstrap KeySource
	// Bits is the RSA key size of generated keys (default 3072).
	Bits int
	// Now and Rand default to the clock and crypto/rand.
	Now  func() time.Time
	Rand io.Reader
}

// Load returns the set in the store, bootstrapping an empty store when Bootstrap is set.
func (s *StoreKeySource) Load(ctx context.Context) (*KeySet, error) {
	raw, err := s.Store.Get(ctx, s.Key)
	if errors.Is(err, store.ErrNotFound) {
		if s.Bootstrap == nil {
			return nil, fmt.Errorf("%w in the store (create it with sportello federation keys init)", ErrNoKeys)
		}
		ks, err := s.Bootstrap.Load(ctx)
		if err != nil {
			return nil, err
		}
		if raw, err = s.putIfAbsent(ctx, ks); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, fmt.Errorf("oidcfed: keys: %w", err)
	}
	return s.open(raw)
}

// Init creates a complete set in an empty store and reports whether it did; a store that
// already holds a set keeps it: two operators running Init at once end with one set.
func (s *StoreKeySource) Init(ctx context.Context) (bool, error) {
	if _, err := s.Store.Get(ctx, s.Key); err == nil {
		return false, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return false, fmt.Errorf("oidcfed: keys: %w", err)
	}
	ks := &KeySet{}
	if _, err := ks.EnsureComplete(s.bits(), s.now(), s.rand()); err != nil {
		return false, err
	}
	raw, err := s.putIfAbsent(ctx, ks)
	if err != nil {
		return false, err
	}
	got, err := s.open(raw)
	if err != nil {
		return false, err
	}
	return got.Active(UseFederation).ID == ks.Active(UseFederation).ID, nil
}

// Rotate rotates every use of the set with compare-and-swap (a replica's concurrent rotation
// is not lost) and drops retired keys past grace.
func (s *StoreKeySource) Rotate(ctx context.Context, grace time.Duration) (*KeySet, error) {
	var out *KeySet
	_, err := store.Update(ctx, s.Store, s.Key, 0, func(old []byte) ([]byte, error) {
		if old == nil {
			return nil, fmt.Errorf("%w in the store (create it with sportello federation keys init)", ErrNoKeys)
		}
		ks, err := s.open(old)
		if err != nil {
			return nil, err
		}
		now := s.now()
		// A next key is what the rotation promotes: a set without one gets it first.
		if _, err := ks.EnsureComplete(s.bits(), now, s.rand()); err != nil {
			return nil, err
		}
		for _, use := range keyUses {
			if err := ks.Rotate(use, s.bits(), now, s.rand()); err != nil {
				return nil, err
			}
		}
		ks.Prune(now, grace)
		if err := ks.decode(); err != nil {
			return nil, err
		}
		out = ks
		return s.seal(ks)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// putIfAbsent writes ks when the store has no set and returns what the store holds after.
func (s *StoreKeySource) putIfAbsent(ctx context.Context, ks *KeySet) ([]byte, error) {
	sealed, err := s.seal(ks)
	if err != nil {
		return nil, err
	}
	_, perr := s.Store.PutIfAbsent(ctx, s.Key, sealed, 0)
	// A failed write may be applied all the same (an answer lost): whatever set the store
	// holds now is the one.
	raw, err := s.Store.Get(ctx, s.Key)
	if err != nil {
		if perr != nil {
			err = perr
		}
		return nil, fmt.Errorf("oidcfed: keys: %w", err)
	}
	return raw, nil
}

func (s *StoreKeySource) seal(ks *KeySet) ([]byte, error) {
	plain, err := json.Marshal(ks)
	if err != nil {
		return nil, err
	}
	sealed, err := seal.Seal(s.CryptoKey, s.Key, plain, s.rand())
	if err != nil {
		return nil, fmt.Errorf("oidcfed: keys: %w", err)
	}
	return sealed, nil
}

func (s *StoreKeySource) open(raw []byte) (*KeySet, error) {
	plain, err := seal.Open(s.CryptoKey, s.Key, raw)
	if err != nil {
		return nil, fmt.Errorf("oidcfed: keys: cannot open the key set (is the crypto key the same on every replica?): %w", err)
	}
	ks := &KeySet{}
	if err := json.Unmarshal(plain, ks); err != nil {
		return nil, fmt.Errorf("oidcfed: keys: %w", err)
	}
	if err := ks.decode(); err != nil {
		return nil, err
	}
	return ks, nil
}

func (s *StoreKeySource) bits() int {
	if s.Bits == 0 {
		return 3072
	}
	return s.Bits
}

func (s *StoreKeySource) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *StoreKeySource) rand() io.Reader {
	if s.Rand != nil {
		return s.Rand
	}
	return rand.Reader
}
