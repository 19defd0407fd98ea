package providers

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Sentinel errors a provider wraps so the broker can map them, once, to pages and OAuth errors.
var (
	// ErrCancelled: the person cancelled the login (OAuth access_denied).
	ErrCancelled = errors.New("login cancelled")
	// ErrDenied: the upstream refused the person (wrong credentials, suspended...). access_denied.
	ErrDenied = errors.New("access denied")
	// ErrBadCredentials: the secret typed was wrong.
	ErrBadCredentials = errors.New("bad credentials")
	// ErrLocked: the account is locked after wrong secrets (a LockedError says until when).
	// A lock is a credential refusal too: a LockedError is ErrBadCredentials as well.
	ErrLocked = errors.New("account locked")
	// ErrLevelNotReached: the level reached is below the level asked
	// (unmet_authentication_requirements).
	ErrLevelNotReached = errors.New("level of assurance not reached")
	// ErrCredentialRejected: a credential failed validation (signature, certificate, ...).
	ErrCredentialRejected = errors.New("credential rejected")
	// ErrLoginExpired: the pending login is unknown or expired.
	ErrLoginExpired = errors.New("login expired")
	// ErrUnavailable: a dependency is down; the person should retry later.
	ErrUnavailable = errors.New("temporarily unavailable")
	// ErrDisabled: the credential is switched off for this person or population.
	ErrDisabled = errors.New("credential disabled")
)

// LockedError says an account is locked until a time.
type LockedError struct {
	Until time.Time
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("locked until %s", e.Until.UTC().Format(time.RFC3339))
}

// Unwrap makes a lock ErrLocked and, a lock being a credential refusal, ErrBadCredentials.
func (e *LockedError) Unwrap() []error { return []error{ErrLocked, ErrBadCredentials} }

// UserError carries a message key for the person (looked up in the broker's catalogue in
// Italian and English) besides the technical cause, which only goes to the log.
type UserError struct {
	// Code is the catalogue key, for example "spid.nr19" or "cert.expired".
	Code string
	// Args fill placeholders of the message.
	Args map[string]string
	// Err is the cause; it is never shown to the person.
	Err error
}

func (e *UserError) Error() string {
	if e.Err == nil {
		return e.Code
	}
	return e.Code + ": " + e.Err.Error()
}

func (e *UserError) Unwrap() error { return e.Err }

// AttemptError is a failed login that got as far as a credential: the method tried and, when
// the credential proved who the person is but the login failed all the same (a level below
// the one asked, say), the level reached and the person. Providers wrap the errors of their
// steps in it, and the broker does where it drives a step itself (the mutual-TLS leg, a
// verified identity it refuses), so that the record of the failure — the login.failure audit
// record and sportello_logins_total — names the credential and the level instead of
// "unknown". It changes nothing else: errors.Is and errors.As see through it, and its text is
// the wrapped error's (the fiscal number never appears in it).
type AttemptError struct {
	// Method is one of the Method constants.
	Method string
	// ACR is the level reached (SpidL1..SpidL3); "" when nobody was verified.
	ACR string
	// FiscalNumber is the person the credential verified; "" when nobody was.
	FiscalNumber string
	// IdP is the identity provider the attempt went to when the identity of a success would
	// name it too (a SPID IdP's entityID, a federation OP): the console counts logins per IdP.
	IdP string
	// Err is the failure.
	Err error
}

func (e *AttemptError) Error() string {
	if e.Err == nil {
		return "login attempt with " + e.Method + " failed"
	}
	return e.Err.Error()
}

func (e *AttemptError) Unwrap() error { return e.Err }

// Attempt wraps err as a failed attempt with method, nobody verified. nil stays nil, and an
// error that already carries an attempt is returned as it is: the innermost attempt, the one
// closest to the credential, is the one that knows most.
func Attempt(method string, err error) error {
	var ae *AttemptError
	if err == nil || errors.As(err, &ae) {
		return err
	}
	return &AttemptError{Method: method, Err: err}
}

// FailureRecorder is implemented by the broker's Finisher. A provider whose own page answers a
// refused attempt and lets the person try again there (the PIN form, shown again with the
// reason) records the refusal with it, so that it is counted and audited like every failed
// login (the login.failure record, sportello_logins_total), by the same error table; the
// pending login stays as it was. err should be an AttemptError (see Attempt).
type FailureRecorder interface {
	RecordFailure(r *http.Request, loginID string, err error)
}
