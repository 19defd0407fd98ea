package delegation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/inps/sportello/internal/fiscalcode"
	"github.com/inps/sportello/internal/store"
)

// get reads a record, tombstones included.
func (r *Registry) get(ctx context.Context, id string) (*Delegation, error) {
	if id == "" {
		return nil, ErrNotFound
	}
	b, err := r.st.Get(ctx, recordKey(id))
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("delegation: %w", err)
	}
	var d Delegation
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("delegation: record %s: %w", id, err)
	}
	return &d, nil
}

// Get returns the delegation id, whatever its status, or ErrNotFound.
func (r *Registry) Get(ctx context.Context, id string) (*Delegation, error) {
	d, err := r.get(ctx, id)
	if err != nil {
		return nil, err
	}
	if d.Aborted {
		return nil, ErrNotFound
	}
	return d, nil
}

// Given returns the delegations cf gave (as delegator), history included, oldest first.
func (r *Registry) Given(ctx context.Context, cf string) ([]Delegation, error) {
	return r.list(ctx, cf, givenKey)
}

// Received returns the delegations cf received (as delegate), history included, oldest first.
func (r *Registry) Received(ctx context.Context, cf string) ([]Delegation, error) {
	return r.list(ctx, cf, receivedKey)
}

func (r *Registry) list(ctx context.Context, cf string, key func(string) string) ([]Delegation, error) {
	cf, err := fiscalcode.Parse(cf)
	if err != nil {
		return nil, fmt.Errorf("delegation: %w", err)
	}
	ids, err := r.ids(ctx, key(cf))
	if err != nil {
		return nil, err
	}
	out := make([]Delegation, 0, len(ids))
	for _, id := range ids {
		d, err := r.Get(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue // a reservation not (or never) committed
		}
		if err != nil {
			return nil, err
		}
		out = append(out, *d)
	}
	return out, nil
}

// ActiveFor returns the delegations cf may act on now, as the login question lists them
// (delegator names and fiscal codes included), oldest first.
func (r *Registry) ActiveFor(ctx context.Context, delegateCF string) ([]Delegation, error) {
	all, err := r.Received(ctx, delegateCF)
	if err != nil {
		return nil, err
	}
	now := r.now()
	out := all[:0]
	for _, d := range all {
		if d.ActiveAt(now) {
			out = append(out, d)
		}
	}
	return out, nil
}

// Active reports whether the delegation id is active now (the broker checks it before
// honouring a refresh token of a delegated session). An unknown id is ErrNotFound.
func (r *Registry) Active(ctx context.Context, id string) (bool, error) {
	d, err := r.Get(ctx, id)
	if err != nil {
		return false, err
	}
	return d.ActiveAt(r.now()), nil
}
