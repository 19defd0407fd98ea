package pin

import (
	"errors"
	"fmt"

	"github.com/inps/sportello/providers"
)

// Domain errors. Each wraps the providers sentinel the broker maps it to; the pages of pinweb
// explain each one.
var (
	// ErrFirstAccess: the right 16-character PIN; the holder must now choose their own PIN.
	ErrFirstAccess = fmt.Errorf("pin: first access, a new PIN must be chosen: %w", providers.ErrDenied)
	// ErrExpired: the right PIN, but it expired; the guided renewal sets a new one.
	ErrExpired = fmt.Errorf("pin: expired, renewal needed: %w", providers.ErrDenied)
	// ErrActivationExpired: the PIN was not activated in time and must be requested again.
	ErrActivationExpired = fmt.Errorf("pin: not activated in time: %w", providers.ErrDenied)
	// ErrNotActive: the PIN waits for the phone confirmation of the request.
	ErrNotActive = fmt.Errorf("pin: not active yet: %w", providers.ErrDenied)
	// ErrRevoked: the PIN was revoked.
	ErrRevoked = fmt.Errorf("pin: revoked: %w", providers.ErrDenied)
	// ErrLoginDisabled: PIN login is switched off for the holder's population.
	ErrLoginDisabled = fmt.Errorf("pin: login disabled for this population: %w", providers.ErrDisabled)
	// ErrNotEligible: the eligibility policy refuses a new PIN to this person.
	ErrNotEligible = errors.New("pin: not eligible for a PIN")
	// ErrNoPIN: no PIN record (never shown to the person by recovery answers).
	ErrNoPIN = errors.New("pin: no PIN for this fiscal code")
	// ErrHasPIN: the person already holds a working PIN.
	ErrHasPIN = errors.New("pin: a PIN already exists for this fiscal code")
	// ErrInvalidInput: a malformed fiscal code, PIN or field.
	ErrInvalidInput = errors.New("pin: invalid input")
	// ErrWeakPIN: the new PIN breaks a rule (see NewPINRule).
	ErrWeakPIN = errors.New("pin: new PIN refused")
	// ErrBadState: the operation does not apply to the PIN's state.
	ErrBadState = errors.New("pin: operation not allowed in this state")
	// ErrOverloaded: too many PIN verifications at once for the memory budget; try again.
	ErrOverloaded = fmt.Errorf("pin: too many verifications in progress, try again shortly: %w", providers.ErrUnavailable)
	// ErrBusy: another attempt on the same account is being verified.
	ErrBusy = fmt.Errorf("pin: another attempt in progress: %w", providers.ErrBadCredentials)
	// ErrRecovery: the recovery code is wrong or expired.
	ErrRecovery = errors.New("pin: recovery code invalid or expired")
	// ErrDocument: the conversion document is refused (type or size).
	ErrDocument = errors.New("pin: document refused")
	// ErrNoConvenzione: authorisations need the municipality's convenzione.
	ErrNoConvenzione = errors.New("pin: no convenzione recorded for the municipality")
	// ErrRateLimited: too many PIN telefonico checks by one operator in a minute.
	ErrRateLimited = errors.New("pin: too many checks, slow down")
	// ErrNeedsStrongLogin: the PIN telefonico needs a SPID, CIE or CNS session.
	ErrNeedsStrongLogin = fmt.Errorf("pin: a SPID, CIE or CNS login is needed: %w", providers.ErrLevelNotReached)
)

// RuleError says which new-PIN rule was broken; it wraps ErrWeakPIN.
type RuleError struct {
	// Rule is one of the Rule* constants.
	Rule string
}

// Error names the broken rule.
func (e *RuleError) Error() string { return "pin: new PIN refused: " + e.Rule }

// Unwrap returns ErrWeakPIN.
func (e *RuleError) Unwrap() error { return ErrWeakPIN }

// New-PIN rules (see CheckNewPIN), each named by the refusal that breaks it.
const (
	RuleLength       = "length"
	RuleAlphanumeric = "alphanumeric"
	// RuleRepeated: a character 3 or more times in a row (11111111, AAA).
	RuleRepeated = "repeated"
	// RuleVariety: fewer than 4 different characters (12121212).
	RuleVariety = "variety"
	// RuleSequence: 4 or more characters in ascending or descending order (1234, DCBA).
	RuleSequence   = "sequence"
	RuleFiscalCode = "fiscal_code"
	RuleName       = "name"
	// RuleBirthdate: the holder's date of birth in a common form.
	RuleBirthdate = "birthdate"
	// RuleSame: the new PIN is the one typed as current.
	RuleSame = "same_as_old"
	// RuleRecent: the new PIN is one of the holder's last Config.PINHistory PINs.
	RuleRecent = "recent"
)
