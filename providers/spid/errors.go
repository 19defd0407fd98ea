package spid

import (
	"errors"
	"fmt"

	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/spid/internal/samlx"
)

// RejectError is a response refused by a SPID validation rule. Rule names the rule (for tests
// and logs); Detail says what was found; Err, when set, is the cause (a samlx signature class
// for the "*.signature.*" rules). It unwraps to providers.ErrCredentialRejected and to Err.
type RejectError struct {
	Rule   string
	Detail string
	Err    error
}

// Error renders the rule and the detail.
func (e *RejectError) Error() string { return "spid: " + e.Rule + ": " + e.Detail }

// Unwrap classifies every rule violation as a rejected credential, and exposes the cause.
func (e *RejectError) Unwrap() []error {
	if e.Err == nil {
		return []error{providers.ErrCredentialRejected}
	}
	return []error{providers.ErrCredentialRejected, e.Err}
}

func reject(rule, format string, a ...any) error {
	return &RejectError{Rule: rule, Detail: fmt.Sprintf(format, a...)}
}

// signatureClasses name the rule suffix of each class of signature failure, so that the log
// (and a test) tells a tampered response from a foreign key or a forbidden algorithm.
var signatureClasses = []struct {
	err   error
	class string
}{
	{samlx.ErrSignatureMissing, "missing"},
	{samlx.ErrSignatureShape, "shape"},
	{samlx.ErrSignatureAlgorithm, "algorithm"},
	{samlx.ErrSignatureReference, "reference"},
	{samlx.ErrKeyInfoMalformed, "keyinfo"},
	{samlx.ErrKeyInfoUntrusted, "untrusted_key"},
	{samlx.ErrKeyExpired, "expired_key"},
	{samlx.ErrNoTrustedKey, "no_key"},
	{samlx.ErrSignatureInvalid, "invalid"},
}

// signatureReject is the refusal of a signature check under rule ("response.signature",
// "assertion.signature"), refined by the class of err: "assertion.signature.invalid".
func signatureReject(rule string, err error) error {
	for _, c := range signatureClasses {
		if errors.Is(err, c.err) {
			rule += "." + c.class
			break
		}
	}
	return &RejectError{Rule: rule, Detail: err.Error(), Err: err}
}

// StatusError is a well-formed, properly addressed non-success Response from the IdP.
type StatusError struct {
	Code, SubCode, Message string
	// NR is the SPID error code ("nr19".."nr30"), "" when the message carries none.
	NR string
}

// Error renders the status codes and message.
func (e *StatusError) Error() string {
	return fmt.Sprintf("spid: idp status %s/%s %q", e.Code, e.SubCode, e.Message)
}

// Unwrap maps the SPID error code to the providers sentinel.
func (e *StatusError) Unwrap() error {
	switch e.NR {
	case "nr25":
		return providers.ErrCancelled
	case "nr19", "nr22", "nr23":
		return providers.ErrDenied
	case "nr20":
		return providers.ErrLevelNotReached
	case "nr21":
		return providers.ErrLoginExpired
	}
	return providers.ErrDenied
}

// levelError is a valid assertion at a level that does not satisfy the request.
type levelError struct {
	got, want  int
	comparison string
}

// Error renders the levels.
func (e *levelError) Error() string {
	return fmt.Sprintf("spid: level L%d does not satisfy %s L%d", e.got, e.comparison, e.want)
}

// Unwrap classifies the error as a level not reached.
func (e *levelError) Unwrap() error { return providers.ErrLevelNotReached }
