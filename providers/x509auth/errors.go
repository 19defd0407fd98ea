package x509auth

import (
	"errors"
	"fmt"

	"github.com/inps/sportello/providers"
)

// Reason codes of a refused certificate. They are message-catalogue keys (see Messages).
const (
	ReasonMissing               = "cert.missing"
	ReasonExpired               = "cert.expired"
	ReasonNotYetValid           = "cert.not_yet_valid"
	ReasonRevoked               = "cert.revoked"
	ReasonUnknownCA             = "cert.unknown_ca"
	ReasonWrongPolicy           = "cert.wrong_policy"
	ReasonNoClientAuth          = "cert.no_client_auth"
	ReasonKeyUsage              = "cert.key_usage"
	ReasonRevocationUnavailable = "cert.revocation_unavailable"
	ReasonInvalidFiscalCode     = "cert.invalid_fiscal_code"
	ReasonNoFiscalCode          = "cert.no_fiscal_code"
	// ReasonCACertificate refuses a client certificate with basicConstraints CA:TRUE.
	ReasonCACertificate = "cert.ca_certificate"
	// ReasonCertSign refuses a client certificate whose key usage allows signing certificates
	// or CRLs (keyCertSign, cRLSign).
	ReasonCertSign = "cert.cert_sign"
)

// reject builds the typed refusal: a UserError with the reason code, whose cause wraps
// providers.ErrCredentialRejected and the technical detail.
func reject(code string, cause error) error {
	return &providers.UserError{Code: code, Err: fmt.Errorf("%w: %w", providers.ErrCredentialRejected, cause)}
}

// rejectf is reject with a formatted cause.
func rejectf(code, format string, args ...any) error {
	return reject(code, fmt.Errorf(format, args...))
}

// Reason returns the reason code carried by err, or "" when err is not a certificate refusal.
func Reason(err error) string {
	var ue *providers.UserError
	if errors.As(err, &ue) {
		return ue.Code
	}
	return ""
}
