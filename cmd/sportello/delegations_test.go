package main

import (
	"context"
	"testing"
	"time"

	"github.com/inps/sportello/internal/delegation"
	"github.com/inps/sportello/internal/store/memory"
)

func TestChoicesCarryTheDelegatorAndTheEnd(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	st := memory.New(memory.Options{Now: func() time.Time { return now }})
	defer st.Close()
	reg, err := delegation.New(delegation.Options{Store: st, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if err := delegation.SeedDev(ctx, reg); err != nil {
		t.Fatal(err)
	}
	end := now.Add(48 * time.Hour)
	d, err := reg.Register(ctx, delegation.Request{Kind: delegation.KindOnline, End: end,
		Delegator: delegation.Person{FiscalCode: "RSSMRA80A01H501U", GivenName: "Mario", FamilyName: "Rossi"},
		Delegate:  delegation.Person{FiscalCode: delegation.DevDelegateCF}})
	if err != nil {
		t.Fatal(err)
	}
	b := brokerDelegations(reg)
	cs, err := b.ActiveFor(ctx, delegation.DevDelegateCF)
	if err != nil || len(cs) != 2 {
		t.Fatalf("%+v %v", cs, err)
	}
	if c := cs[0]; c.ID != delegation.DevDelegationID || c.Type != "office_aa08" || c.ExpiresAt != nil ||
		c.DelegatorFiscalNumber != delegation.DevDelegatorCF || c.DelegatorGivenName != "Giuseppe" || c.DelegatorFamilyName != "Verdi" {
		t.Fatalf("%+v", c)
	}
	if c := cs[1]; c.ID != d.ID || c.ExpiresAt == nil || !c.ExpiresAt.Equal(end) || c.DelegatorFamilyName != "Rossi" {
		t.Fatalf("%+v", c)
	}
	if err := reg.Revoke(ctx, d.ID, delegation.Operator("op")); err != nil {
		t.Fatal(err)
	}
	if ok, err := b.Active(ctx, d.ID); ok || err != nil {
		t.Fatalf("revoked delegation active: %v %v", ok, err)
	}
	if ok, err := b.Active(ctx, delegation.DevDelegationID); !ok || err != nil {
		t.Fatalf("%v %v", ok, err)
	}
}
