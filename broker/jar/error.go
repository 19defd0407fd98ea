package jar

import "errors"

// OAuth error codes this package answers with (RFC 9101 §7, RFC 6749 §4.1.2.1).
const (
	CodeInvalidRequestObject = "invalid_request_object"
	CodeInvalidRequest       = "invalid_request"
)

// Error is a refusal: Code is the OAuth error code, Description what the client may read,
// Err the cause for the log (a failed jwks_uri fetch, a signature error).
type Error struct {
	Code        string
	Description string
	Err         error
}

func (e *Error) Error() string {
	s := "jar: " + e.Code
	if e.Description != "" {
		s += ": " + e.Description
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrInvalidRequestObject) hold for every *Error with that code.
func (e *Error) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.Description == "" && t.Err == nil && t.Code == e.Code
}

// Sentinels to test errors against with errors.Is.
var (
	ErrInvalidRequestObject = &Error{Code: CodeInvalidRequestObject}
	ErrInvalidRequest       = &Error{Code: CodeInvalidRequest}
)

func invalidObject(desc string, cause error) error {
	return &Error{Code: CodeInvalidRequestObject, Description: desc, Err: cause}
}

func invalidRequest(desc string) error { return &Error{Code: CodeInvalidRequest, Description: desc} }
