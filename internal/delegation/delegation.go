package delegation

import (
	"errors"
	"time"
)

// Kind is how a delegation was registered.
type Kind string

// Kinds of delegation.
const (
	// KindOnline is registered online by the delegator.
	KindOnline Kind = "online"
	// KindOfficeAA08 is registered at an office on form AA08, the delegator present.
	KindOfficeAA08 Kind = "office_aa08"
	// KindOfficeAA09 is filed at an office on form AA09 by the delegate, with a doctor's
	// certificate of the delegator's impediment.
	KindOfficeAA09 Kind = "office_aa09"
	// KindLegalAA10 is a legal representation filed on form AA10 (see Role).
	KindLegalAA10 Kind = "legal_aa10"
)

// Kinds lists every kind, in the order forms show them.
var Kinds = []Kind{KindOnline, KindOfficeAA08, KindOfficeAA09, KindLegalAA10}

// Legal reports whether k is a legal representation, to which no limit applies.
func (k Kind) Legal() bool { return k == KindLegalAA10 }

// Office reports whether k is registered at an office by an operator.
func (k Kind) Office() bool {
	return k == KindOfficeAA08 || k == KindOfficeAA09 || k == KindLegalAA10
}

func (k Kind) valid() bool {
	return k == KindOnline || k.Office()
}

// Role is the legal representative's role in a legal_aa10 delegation.
type Role string

// Roles of legal representatives.
const (
	RoleTutore                 Role = "tutore"
	RoleCuratore               Role = "curatore"
	RoleAmministratoreSostegno Role = "amministratore_di_sostegno"
	RoleGenitore               Role = "genitore"
)

// Roles lists every role.
var Roles = []Role{RoleTutore, RoleCuratore, RoleAmministratoreSostegno, RoleGenitore}

func (r Role) valid() bool {
	for _, x := range Roles {
		if r == x {
			return true
		}
	}
	return false
}

// Person is one side of a delegation.
type Person struct {
	// FiscalCode is the validated codice fiscale, upper case.
	FiscalCode string `json:"fiscal_code"`
	GivenName  string `json:"given_name,omitempty"`
	FamilyName string `json:"family_name,omitempty"`
	// Email is where the delegate is notified, when known.
	Email string `json:"email,omitempty"`
}

// Name is "Given Family", or the fiscal code when no name is known.
func (p Person) Name() string {
	switch {
	case p.GivenName != "" && p.FamilyName != "":
		return p.GivenName + " " + p.FamilyName
	case p.GivenName+p.FamilyName != "":
		return p.GivenName + p.FamilyName
	}
	return p.FiscalCode
}

// Delegation is one record of the registry. Records are never deleted.
type Delegation struct {
	ID        string `json:"id"`
	Kind      Kind   `json:"kind"`
	Role      Role   `json:"role,omitempty"`
	Delegator Person `json:"delegator"`
	Delegate  Person `json:"delegate"`
	// Start is when it was registered (active at once).
	Start time.Time `json:"start"`
	// End is when it ends; zero means no end.
	End time.Time `json:"end,omitzero"`
	// RegisteredBy is the operator for office kinds, "online" otherwise.
	RegisteredBy string `json:"registered_by"`
	// Reference is the office's protocol number or the doctor's certificate reference.
	Reference string    `json:"reference,omitempty"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
	// RevokedBy is "online" (the delegator) or "operator:<id>".
	RevokedBy string `json:"revoked_by,omitempty"`

	// Aborted marks a tombstone left where a stalled registration would have committed.
	Aborted bool `json:"aborted,omitempty"`
}

// Status values returned by Delegation.Status.
const (
	StatusActive  = "active"
	StatusRevoked = "revoked"
	StatusExpired = "expired"
)

// ActiveAt reports whether the delegation lets the delegate act at t.
func (d *Delegation) ActiveAt(t time.Time) bool { return d.Status(t) == StatusActive }

// Status is active, revoked or expired at t.
func (d *Delegation) Status(t time.Time) string {
	switch {
	case !d.RevokedAt.IsZero():
		return StatusRevoked
	case !d.End.IsZero() && !t.Before(d.End):
		return StatusExpired
	}
	return StatusActive
}

// Actor is who revokes: the delegator online, or an operator at an office.
type Actor struct {
	// FiscalCode is the delegator's fiscal code for an online revocation.
	FiscalCode string
	// Operator names the office operator; when set the revocation is an office one.
	Operator string
	// Reason is the office's note (form reference, request), kept in the audit trail.
	Reason string
}

// Online is the delegator acting online with their own credentials.
func Online(fiscalCode string) Actor { return Actor{FiscalCode: fiscalCode} }

// Operator is an office operator.
func Operator(id string) Actor { return Actor{Operator: id} }

func (a Actor) String() string {
	if a.Operator != "" {
		return "operator:" + a.Operator
	}
	return "online"
}

// Request registers a delegation.
type Request struct {
	Kind Kind
	// Role is required for legal_aa10 and refused otherwise.
	Role      Role
	Delegator Person
	Delegate  Person
	// End is optional (zero: no end); it must be in the future.
	End time.Time
	// Operator is required for office kinds and refused for online ones.
	Operator string
	// Reference is the office's protocol or, for AA09, the doctor's certificate (required).
	Reference string
}

// Errors of the registry. Invalid fiscal codes wrap fiscalcode.ErrInvalid.
var (
	// ErrLimitDelegator: the delegator already has an active delegate.
	ErrLimitDelegator = errors.New("delegation: the delegator already has an active delegate")
	// ErrLimitDelegate: the delegate already holds the maximum number of delegations.
	ErrLimitDelegate = errors.New("delegation: the delegate already holds 3 active delegations")
	// ErrRevokeWindow: an online delegation cannot be revoked online in its first 30 days.
	ErrRevokeWindow = errors.New("delegation: an online delegation is revocable online only after 30 days")
	// ErrProtectedPerson: a person under legal protection cannot revoke online.
	ErrProtectedPerson = errors.New("delegation: a person under legal protection cannot revoke online")
	// ErrSelfDelegation: delegator and delegate are the same person.
	ErrSelfDelegation = errors.New("delegation: a person cannot delegate themselves")
	// ErrNotFound: no such delegation.
	ErrNotFound = errors.New("delegation: not found")
	// ErrForbidden: the actor may not act on this delegation (not its delegator).
	ErrForbidden = errors.New("delegation: not allowed")
	// ErrNotActive: the delegation is already revoked or expired.
	ErrNotActive = errors.New("delegation: not active")
	// ErrDuplicate: the same delegator already delegates the same delegate.
	ErrDuplicate = errors.New("delegation: already delegated to this person")
	// ErrInvalid: a malformed request (kind, role, end date, operator, reference).
	ErrInvalid = errors.New("delegation: invalid request")
)
