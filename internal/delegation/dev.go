package delegation

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// The dev-mode people: Giuseppe Verdi delegates Laura Bianchi (see testdata/dev).
const (
	DevDelegatorCF = "VRDGPP40C15L219U" // Giuseppe Verdi
	DevDelegateCF  = "BNCLRA85M41F205C" // Laura Bianchi
	// DevDelegationID is the id of the dev delegation, stable so demos can name it.
	DevDelegationID = "dev0000000000000000000001"
)

// SeedDev registers the dev-mode delegation: Giuseppe Verdi has delegated Laura Bianchi on
// form AA08, 40 days ago (so he may revoke it online), with no end. It is idempotent: an
// existing dev delegation (even revoked) is left alone.
func SeedDev(ctx context.Context, reg *Registry) error {
	if _, err := reg.Get(ctx, DevDelegationID); err == nil {
		return nil
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	now := reg.now()
	d := Delegation{ID: DevDelegationID, Kind: KindOfficeAA08,
		Delegator:    Person{FiscalCode: DevDelegatorCF, GivenName: "Giuseppe", FamilyName: "Verdi"},
		Delegate:     Person{FiscalCode: DevDelegateCF, GivenName: "Laura", FamilyName: "Bianchi", Email: "laura.bianchi@example.it"},
		Start:        now.Add(-40 * 24 * time.Hour).Truncate(time.Second),
		RegisteredBy: "dev-seed", Reference: "AA08/DEV/1"}
	if err := reg.persist(ctx, &d); err != nil {
		return fmt.Errorf("delegation: dev seed: %w", err)
	}
	return nil
}
