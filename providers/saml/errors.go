package saml

import (
	"errors"
	"fmt"

	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/saml/samlx"
)

// RejectError is a response refused by a validation rule. Rule names the rule (for tests and
// logs); Detail says what was found; Err, when set, is the cause (a samlx signature class for
// the "*.signature.*" rules). It unwraps to providers.ErrCredentialRejected and to Err.
type RejectError struct {
	Rule   string
	Detail string
	Err    error
	// profile is the Name of the profile that refused, the prefix of Error.
	profile string
}

// Error renders the profile, the rule and the detail.
func (e *RejectError) Error() string { return prefixOr(e.profile) + e.Rule + ": " + e.Detail }

// Unwrap classifies every rule violation as a rejected credential, and exposes the cause.
func (e *RejectError) Unwrap() []error {
	if e.Err == nil {
		return []error{providers.ErrCredentialRejected}
	}
	return []error{providers.ErrCredentialRejected, e.Err}
}

func prefixOr(name string) string {
	if name == "" {
		name = "saml"
	}
	return name + ": "
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
	// NR is the federation's error code found in Message (Profile.ErrorCodes: SPID's
	// "nr19".."nr30"), "" when the message carries none.
	NR string
	// cause is the sentinel Profile.ErrorCodes gives NR.
	cause   error
	profile string
}

// Error renders the status codes and message.
func (e *StatusError) Error() string {
	return fmt.Sprintf("%sidp status %s/%s %q", prefixOr(e.profile), e.Code, e.SubCode, e.Message)
}

// Unwrap maps the error code to its providers sentinel; a status without a known code is a
// denial.
func (e *StatusError) Unwrap() error {
	if e.cause != nil {
		return e.cause
	}
	return providers.ErrDenied
}

// LevelError is a valid assertion at a level that does not satisfy the request.
type LevelError struct {
	Got, Want  int
	Comparison string
	profile    string
}

// Error renders the levels.
func (e *LevelError) Error() string {
	return fmt.Sprintf("%slevel L%d does not satisfy %s L%d", prefixOr(e.profile), e.Got, e.Comparison, e.Want)
}

// Unwrap classifies the error as a level not reached.
func (e *LevelError) Unwrap() error { return providers.ErrLevelNotReached }

// withProfile names the profile in the refusals the validator made.
func withProfile(err error, name string) error {
	var re *RejectError
	var se *StatusError
	var le *LevelError
	switch {
	case errors.As(err, &re):
		re.profile = name
	case errors.As(err, &se):
		se.profile = name
	case errors.As(err, &le):
		le.profile = name
	}
	return err
}
