package spid

import (
	"github.com/inps/sportello/providers/saml"
)

// RejectError is a response refused by a validation rule: one of the engine's (see
// providers/saml) or SPID's own on the attributes ("attributes.fiscal_number"). Rule names the
// rule; it unwraps to providers.ErrCredentialRejected.
type RejectError = saml.RejectError

// StatusError is a well-formed, properly addressed non-success Response from the IdP; NR is
// the SPID error code ("nr19".."nr30") of its StatusMessage.
type StatusError = saml.StatusError

// levelError is a valid assertion at a level that does not satisfy the request.
type levelError = saml.LevelError

// reject is a refusal by a SPID rule on a validated assertion.
func reject(rule, format string, a ...any) error { return saml.Rejectf("spid", rule, format, a...) }
