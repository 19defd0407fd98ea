package main

import (
	"context"

	"github.com/inps/sportello/broker"
	"github.com/inps/sportello/internal/delegation"
)

// brokerDelegations offers the delegation registry to the broker as a broker.Delegations: the
// delegations a delegate may act on at login (the "act for yourself or for …" question) and
// the check that stops a delegated session's refresh tokens once the delegation ends. The
// adapter lives here, in the wiring, so that neither broker nor delegation imports the other.
func brokerDelegations(reg *delegation.Registry) broker.Delegations { return delegationsAdapter{reg} }

type delegationsAdapter struct{ reg *delegation.Registry }

var _ broker.Delegations = delegationsAdapter{}

// ActiveFor lists the delegations in force now whose delegate is cf, oldest first.
func (a delegationsAdapter) ActiveFor(ctx context.Context, cf string) ([]broker.DelegationChoice, error) {
	if cf == "" {
		return nil, nil // a foreign eIDAS identity no INPS record names: nobody delegated to it
	}
	ds, err := a.reg.ActiveFor(ctx, cf)
	if err != nil {
		return nil, err
	}
	out := make([]broker.DelegationChoice, 0, len(ds))
	for _, d := range ds {
		c := broker.DelegationChoice{ID: d.ID, Type: string(d.Kind), DelegatorFiscalNumber: d.Delegator.FiscalCode,
			DelegatorGivenName: d.Delegator.GivenName, DelegatorFamilyName: d.Delegator.FamilyName}
		if !d.End.IsZero() {
			end := d.End
			c.ExpiresAt = &end
		}
		out = append(out, c)
	}
	return out, nil
}

// Active reports whether the delegation id is still in force.
func (a delegationsAdapter) Active(ctx context.Context, id string) (bool, error) {
	return a.reg.Active(ctx, id)
}
