package bridge

import (
	"context"

	"github.com/inps/sportello/broker"
	"github.com/inps/sportello/broker/delegation"
)

// Delegations adapts reg to broker.Delegations.
func Delegations(reg *delegation.Registry) broker.Delegations { return adapter{reg} }

type adapter struct{ reg *delegation.Registry }

var _ broker.Delegations = adapter{}

// ActiveFor lists the delegations in force now whose delegate is cf, oldest first.
func (a adapter) ActiveFor(ctx context.Context, cf string) ([]broker.DelegationChoice, error) {
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
func (a adapter) Active(ctx context.Context, id string) (bool, error) { return a.reg.Active(ctx, id) }
