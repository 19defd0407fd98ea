package saml

import (
	"errors"
	"fmt"
	"slices"

	"github.com/beevik/etree"
)

// Profile is what one federation's rules add to SAML 2.0 Web Browser SSO: the knobs where
// SPID, CIE ID and eIDAS through FICEP differ, and nothing else. Everything not named here is
// the engine's and holds for every profile (signatures, structure, addressing, validity,
// request tracking, replay). A Profile is a plain value, built once by the provider package
// from its configuration; the engine never changes it.
type Profile struct {
	// Name prefixes error texts and log messages ("spid: ..."), audit event types
	// ("spid.response") and Store keys ("spid:req:..."). Lower case, no spaces.
	Name string
	// LevelURIs are the AuthnContextClassRef of each level, lowest first: LevelURIs[0] is
	// level 1. A response naming any other class is refused; a request asks LevelURIs[n-1].
	LevelURIs []string
	// LevelAliases are further AuthnContextClassRef values a Response may carry for a level
	// (eIDAS through FICEP: the eIDAS levels of assurance, low 1, substantial 2, high 3).
	// Requests always ask LevelURIs.
	LevelAliases map[string]int
	// ResponseIssuer and AssertionIssuer say what the Format attribute of each Issuer may be.
	ResponseIssuer, AssertionIssuer IssuerFormat
	// ForceAuthnFrom is the lowest level whose AuthnRequests carry ForceAuthn="true" (1:
	// always); 0 sets it only when the login asks for it.
	ForceAuthnFrom int
	// Comparisons are the RequestedAuthnContext comparisons an AuthnRequest may ask
	// ("minimum", "exact"...). A request asking another is not sent.
	Comparisons []string
	// Attributes are the attribute names the federation defines; BuildMetadata refuses a
	// RequestedAttribute named otherwise.
	Attributes []string
	// ErrorCodes are the federation's error codes, as carried in a non-success StatusMessage
	// ("ErrorCode nr19"), and what each means to the broker. When a message matches several,
	// the last in this list wins.
	ErrorCodes []ErrorCode
	// MetadataNamespaces are declared on the SP metadata's EntityDescriptor, in this order,
	// for the federation's extensions.
	MetadataNamespaces []Namespace
	// WriteContacts writes the md:ContactPerson elements of the SP metadata (with the
	// federation's md:Extensions) into the EntityDescriptor, after md:Organization.
	WriteContacts func(ed *etree.Element)
}

// IssuerFormat is what an Issuer's Format attribute may be.
type IssuerFormat int

const (
	// IssuerFormatOptional: absent, or urn:oasis:names:tc:SAML:2.0:nameid-format:entity.
	IssuerFormatOptional IssuerFormat = iota
	// IssuerFormatRequired: exactly the entity format.
	IssuerFormatRequired
	// IssuerFormatAbsent: no Format attribute at all.
	IssuerFormatAbsent
)

// ErrorCode is one federation error code and the providers sentinel it maps to
// (providers.ErrCancelled, ErrDenied, ErrLevelNotReached, ErrLoginExpired...).
type ErrorCode struct {
	Code string
	Err  error
}

// Namespace is one namespace declaration: xmlns:Prefix="URI".
type Namespace struct {
	Prefix, URI string
}

// Validate checks that the profile can be used: a name, at least one level, at least one
// comparison, at least one attribute, and a contact writer (every federation asks for one).
func (p *Profile) Validate() error {
	var errs []error
	if p.Name == "" {
		errs = append(errs, errors.New("profile without a name"))
	}
	if len(p.LevelURIs) == 0 || slices.Contains(p.LevelURIs, "") {
		errs = append(errs, errors.New("profile without level URIs"))
	}
	if len(p.Comparisons) == 0 {
		errs = append(errs, errors.New("profile without comparisons"))
	}
	if len(p.Attributes) == 0 {
		errs = append(errs, errors.New("profile without attributes"))
	}
	if p.WriteContacts == nil {
		errs = append(errs, errors.New("profile without a contact writer"))
	}
	if p.ForceAuthnFrom < 0 || p.ForceAuthnFrom > len(p.LevelURIs) {
		errs = append(errs, fmt.Errorf("ForceAuthnFrom %d outside the levels", p.ForceAuthnFrom))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("saml: %w", err)
	}
	return nil
}

// LevelOf returns the level of an AuthnContextClassRef, 0 when the profile has no such class.
func (p *Profile) LevelOf(uri string) int {
	if i := slices.Index(p.LevelURIs, uri); i >= 0 {
		return i + 1
	}
	if l := p.LevelAliases[uri]; l >= 1 && l <= len(p.LevelURIs) {
		return l
	}
	return 0
}

// LevelURI returns the AuthnContextClassRef of level (1-based), "" outside the profile's levels.
func (p *Profile) LevelURI(level int) string {
	if level < 1 || level > len(p.LevelURIs) {
		return ""
	}
	return p.LevelURIs[level-1]
}

// forceAuthn says whether an AuthnRequest at level carries ForceAuthn="true".
func (p *Profile) forceAuthn(level int, asked bool) bool {
	return asked || (p.ForceAuthnFrom > 0 && level >= p.ForceAuthnFrom)
}

// errorCode finds the federation error code in a StatusMessage: "ErrorCode nr19" in any
// letter case and spacing, or the bare code.
func (p *Profile) errorCode(msg string) (string, error) {
	code, cause := "", error(nil)
	for _, ec := range p.ErrorCodes {
		if matchesErrorCode(msg, ec.Code) {
			code, cause = ec.Code, ec.Err
		}
	}
	return code, cause
}
