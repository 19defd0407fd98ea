// Package members keeps a bounded list of member ids in the Store beside one record per
// member, for the per-replica publications every replica makes (heartbeats, login counts):
// a replica joins the list when it writes its record, and an id whose record has expired is
// dropped from the list by the next join. The list is one JSON array under one key, changed
// by compare-and-swap (store.Update), so concurrent joins never lose a member.
package members

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/inps/sportello/internal/store"
)

// ErrCorrupt is a list that is not a JSON array of strings; the next Join rebuilds it.
var ErrCorrupt = errors.New("members: the list is damaged")

// List is the member list at Key; Record names a member's record, Valid tells the ids a
// member may have (any other id read from the Store is dropped, so a damaged entry cannot
// make a reader fetch keys outside its namespace), Max bounds the list.
type List struct {
	Key    string
	Record func(id string) string
	Valid  func(id string) bool
	Max    int
}

// Read returns the ids in the list (nil when there is none); a damaged list is ErrCorrupt.
func (l List) Read(ctx context.Context, s store.Store) ([]string, error) {
	raw, err := s.Get(ctx, l.Key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("members: %s: %w", l.Key, err)
	}
	return l.decode(raw)
}

// Join makes sure the list names self, written after self's record: when it already does,
// nothing is written; otherwise the list is rewritten with self, and without every member
// whose record has expired, sorted and cut to Max. A damaged list is rebuilt from self (the
// other replicas put themselves back at their next Join).
func (l List) Join(ctx context.Context, s store.Store, self string) error {
	ids, err := l.Read(ctx, s)
	if err == nil && slices.Contains(ids, self) {
		return nil
	}
	if err != nil && !errors.Is(err, ErrCorrupt) {
		return err // the Store: the caller tries again at its next write
	}
	_, err = store.Update(ctx, s, l.Key, 0, func(old []byte) ([]byte, error) {
		ids, err := l.decode(old)
		if err != nil {
			ids = nil
		}
		kept := []string{self}
		for _, id := range ids {
			if id == self {
				continue
			}
			if _, err := s.Get(ctx, l.Record(id)); errors.Is(err, store.ErrNotFound) {
				continue // expired: dropped from the list
			} else if err != nil {
				return nil, err
			}
			kept = append(kept, id)
		}
		if l.Max > 0 && len(kept) > l.Max {
			kept = kept[:l.Max]
		}
		slices.Sort(kept)
		return json.Marshal(kept)
	})
	if err != nil {
		return fmt.Errorf("members: %s: %w", l.Key, err)
	}
	return nil
}

func (l List) decode(raw []byte) ([]string, error) {
	if raw == nil {
		return nil, nil
	}
	var ids []string
	if err := json.Unmarshal(raw, &ids); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return slices.DeleteFunc(ids, func(id string) bool { return !l.Valid(id) }), nil
}
