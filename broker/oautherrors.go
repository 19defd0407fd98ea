package broker

import "github.com/zitadel/oidc/v3/pkg/oidc"

// OAuth error codes zitadel's oidc package does not predefine.
func errUnsupportedResponseType() *oidc.Error {
	return &oidc.Error{ErrorType: "unsupported_response_type", Description: "only response_type=code is supported"}
}

// errRequestURINotSupported is OIDC Core §6.2's answer to a request_uri that is not a pushed
// request's (a pushed request never holds one).
func errRequestURINotSupported() *oidc.Error {
	return &oidc.Error{ErrorType: "request_uri_not_supported", Description: "request_uri is not supported"}
}

// errInvalidRequestURI is RFC 9126's invalid_request_uri (an unknown, expired, used or
// another client's pushed request).
func errInvalidRequestURI() *oidc.Error { return &oidc.Error{ErrorType: "invalid_request_uri"} }

// errInvalidRequestObject is RFC 9101's invalid_request_object.
func errInvalidRequestObject() *oidc.Error { return &oidc.Error{ErrorType: "invalid_request_object"} }

func errTemporarilyUnavailable() *oidc.Error {
	return &oidc.Error{ErrorType: "temporarily_unavailable", Description: "the service is temporarily unavailable; try again later"}
}

// errInvalidTokenBearer is RFC 6750's invalid_token.
func errInvalidTokenBearer(desc string) *oidc.Error {
	return &oidc.Error{ErrorType: "invalid_token", Description: desc}
}

func errInsufficientScope(desc string) *oidc.Error {
	return &oidc.Error{ErrorType: "insufficient_scope", Description: desc}
}

func errUnmetAuthRequirements() *oidc.Error {
	return &oidc.Error{ErrorType: "unmet_authentication_requirements", Description: "the level of assurance asked was not reached"}
}
