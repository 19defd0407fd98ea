package keys

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/inps/sportello/internal/store"
)

// ErrNoKeySet: there is no usable key set (no active key for an algorithm). Outside dev mode
// nothing generates one by itself: the operator creates it, once, with `sportello keys init`.
var ErrNoKeySet = errors.New("keys: no signing key set")

// usable says whether ks can sign: an active key per supported algorithm; where says where the
// key set was looked for.
func (ks *Set) usable(where string) error {
	for _, alg := range Algorithms {
		if ks.find(alg, Active) < 0 {
			return fmt.Errorf("%w: no active %s key in %s", ErrNoKeySet, alg, where)
		}
	}
	return nil
}

// InitResult is what an Init did.
type InitResult struct {
	// Set is the key set now in place.
	Set *Set
	// Created: this Init wrote the key set; false when one was already in place (nothing
	// changed).
	Created bool
	// Generated are the ids of the keys this Init made; the other keys of Set were there, or
	// imported.
	Generated []string
}

// Init creates the first key set in the directory: an active and a next key per algorithm,
// keeping the key files already there. A directory with both for every algorithm is left as
// it is.
func (f *FileSource) Init(ctx context.Context, now time.Time) (*InitResult, error) {
	ks, err := f.read()
	if err != nil {
		return nil, err
	}
	before := ids(ks)
	changed, err := ks.EnsureComplete(now, f.rand())
	if err != nil || !changed {
		return &InitResult{Set: ks}, err
	}
	if err := f.write(ks); err != nil {
		return nil, err
	}
	return &InitResult{Set: ks, Created: true, Generated: newIDs(ks, before)}, nil
}

// Init creates the key set of an empty store from seed (the key files of keys.dir, possibly
// none), completed with an active and a next key per algorithm. A store that already holds a
// key set keeps it, unread and unchanged: two operators running Init at once end with one key
// set, the first written.
func (s *StoreSource) Init(ctx context.Context, now time.Time, seed *Set) (*InitResult, error) {
	raw, err := s.Store.Get(ctx, StoreKey)
	if err == nil {
		ks, err := s.open(raw)
		return &InitResult{Set: ks}, err
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("keys: %w", err)
	}
	ks := &Set{}
	if seed != nil {
		ks.Keys = slices.Clone(seed.Keys)
	}
	before := ids(ks)
	if _, err := ks.EnsureComplete(now, s.rand()); err != nil {
		return nil, err
	}
	sealed, err := s.seal(ks)
	if err != nil {
		return nil, err
	}
	_, perr := s.Store.PutIfAbsent(ctx, StoreKey, sealed, 0)
	// As at Load: a write whose answer was lost may be applied all the same; what the store
	// holds now is the key set.
	raw, err = s.Store.Get(ctx, StoreKey)
	if err != nil {
		if perr != nil {
			err = perr
		}
		return nil, fmt.Errorf("keys: %w", err)
	}
	got, err := s.open(raw)
	if err != nil {
		return nil, err
	}
	if fingerprint(got) != fingerprint(ks) {
		return &InitResult{Set: got}, nil // another Init was first
	}
	return &InitResult{Set: got, Created: true, Generated: newIDs(got, before)}, nil
}

// ids is the set of key ids of ks.
func ids(ks *Set) map[string]bool {
	out := map[string]bool{}
	for _, k := range ks.Keys {
		out[k.ID] = true
	}
	return out
}

// newIDs are the ids of ks not in before, sorted.
func newIDs(ks *Set, before map[string]bool) []string {
	var out []string
	for _, k := range ks.Keys {
		if !before[k.ID] {
			out = append(out, k.ID)
		}
	}
	slices.Sort(out)
	return out
}
