package delegation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/inps/sportello/internal/store"
)

// reservationTTL bounds how long a registration may take between its reservation and its
// commit before others may abort it.
const reservationTTL = 2 * time.Minute

func recordKey(id string) string   { return "deleg:{" + id + "}" }
func givenKey(cf string) string    { return "deleg:{" + cf + "}:given" }
func receivedKey(cf string) string { return "deleg:{" + cf + "}:received" }

// entry is one delegation in a person's index: enough to count limits without reading
// records.
type entry struct {
	ID    string    `json:"id"`
	Other string    `json:"cf"` // the other person's fiscal code
	Kind  Kind      `json:"kind"`
	End   time.Time `json:"end,omitzero"`
	// Revoked is set once the record is revoked.
	Revoked bool `json:"revoked,omitempty"`
	// Pending is the reservation deadline; zero once the registration committed.
	Pending time.Time `json:"pending,omitzero"`
}

// index lists a person's delegations, given or received, oldest first.
type index struct {
	Entries []entry `json:"entries"`
}

func decodeIndex(b []byte) (*index, error) {
	ix := &index{}
	if b == nil {
		return ix, nil
	}
	if err := json.Unmarshal(b, ix); err != nil {
		return nil, fmt.Errorf("delegation: index: %w", err)
	}
	return ix, nil
}

// live reports whether e holds a slot at now. A pending entry past its deadline is resolved
// against the record (see the package documentation): committed ones count, others are
// aborted with a tombstone and reported as dropped.
func (r *Registry) live(ctx context.Context, e *entry, now time.Time) (live, drop bool, err error) {
	if e.Revoked || (!e.End.IsZero() && !now.Before(e.End)) {
		return false, false, nil
	}
	if e.Pending.IsZero() || now.Before(e.Pending) {
		return true, false, nil
	}
	d, err := r.get(ctx, e.ID)
	switch {
	case err == nil && d.Aborted:
		return false, true, nil
	case err == nil:
		e.Pending = time.Time{}
		return d.ActiveAt(now), false, nil
	case !errors.Is(err, ErrNotFound):
		return false, false, err
	}
	tomb, _ := json.Marshal(Delegation{ID: e.ID, Aborted: true})
	ok, err := r.st.PutIfAbsent(ctx, recordKey(e.ID), tomb, 0)
	if err != nil {
		return false, false, err
	}
	if ok {
		r.log.WarnContext(ctx, "delegation: aborted a stalled registration", "id", e.ID)
		return false, true, nil
	}
	// The registrant committed between our read and our tombstone.
	return r.live(ctx, e, now)
}

// reserve adds a pending entry to the index at key, unless limit (>0) active non-legal
// entries are already there (then it returns limitErr). Legal representations neither count
// nor are limited. An active entry for the same other person is a duplicate.
func (r *Registry) reserve(ctx context.Context, key string, e entry, limit int, limitErr error) error {
	_, err := store.Update(ctx, r.st, key, 0, func(old []byte) ([]byte, error) {
		ix, err := decodeIndex(old)
		if err != nil {
			return nil, err
		}
		now := r.now()
		kept := ix.Entries[:0:0]
		count := 0
		for _, x := range ix.Entries {
			live, drop, err := r.live(ctx, &x, now)
			if err != nil {
				return nil, err
			}
			if drop {
				continue
			}
			kept = append(kept, x)
			if !live {
				continue
			}
			if x.Other == e.Other {
				return nil, ErrDuplicate
			}
			if !x.Kind.Legal() {
				count++
			}
		}
		if !e.Kind.Legal() && limit > 0 && count >= limit {
			// Before refusing, repair entries whose revocation never reached this index (a
			// crash between the record and the index): revocation is monotonic, so trusting
			// the record here can only free a slot that is really free.
			count = 0
			for i := range kept {
				x := &kept[i]
				live, _, err := r.live(ctx, x, now)
				if err != nil {
					return nil, err
				}
				if live && x.Pending.IsZero() {
					if d, err := r.get(ctx, x.ID); err == nil && !d.ActiveAt(now) {
						x.Revoked, live = !d.RevokedAt.IsZero(), false
					}
				}
				if live && !x.Kind.Legal() {
					count++
				}
			}
			if count >= limit {
				return nil, limitErr
			}
		}
		ix.Entries = append(kept, e)
		return json.Marshal(ix)
	})
	return err
}

// change applies fn to the entry id of the index at key (no-op when absent).
func (r *Registry) change(ctx context.Context, key, id string, fn func(e *entry) (keep bool)) error {
	_, err := store.Update(ctx, r.st, key, 0, func(old []byte) ([]byte, error) {
		ix, err := decodeIndex(old)
		if err != nil {
			return nil, err
		}
		out := ix.Entries[:0:0]
		for _, x := range ix.Entries {
			if x.ID == id && !fn(&x) {
				continue
			}
			out = append(out, x)
		}
		ix.Entries = out
		return json.Marshal(ix)
	})
	return err
}

// ids returns the delegation ids of the index at key, oldest first.
func (r *Registry) ids(ctx context.Context, key string) ([]string, error) {
	b, err := r.st.Get(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("delegation: %w", err)
	}
	ix, err := decodeIndex(b)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(ix.Entries))
	for _, e := range ix.Entries {
		out = append(out, e.ID)
	}
	return out, nil
}
