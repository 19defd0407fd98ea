package par

import "errors"

// OAuth error codes this package answers with.
const (
	CodeInvalidRequest    = "invalid_request"
	CodeInvalidRequestURI = "invalid_request_uri"
)

// Error is a refusal: Code is the OAuth error code, Description what the client may read.
type Error struct {
	Code        string
	Description string
}

func (e *Error) Error() string {
	if e.Description == "" {
		return "par: " + e.Code
	}
	return "par: " + e.Code + ": " + e.Description
}

// Is makes errors.Is(err, ErrInvalidRequest) hold for every *Error with that code.
func (e *Error) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.Description == "" && t.Code == e.Code
}

// Sentinels to test errors against with errors.Is.
var (
	ErrInvalidRequest    = &Error{Code: CodeInvalidRequest}
	ErrInvalidRequestURI = &Error{Code: CodeInvalidRequestURI}
)

func invalidRequest(desc string) error { return &Error{Code: CodeInvalidRequest, Description: desc} }
func invalidRequestURI(desc string) error {
	return &Error{Code: CodeInvalidRequestURI, Description: desc}
}
