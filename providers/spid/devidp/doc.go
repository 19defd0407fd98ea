// Package devidp implements the dev-mode SPID identity providers: real SAML IdPs, each with
// its own signing key and metadata, served under /dev/spid/<name>/. They verify the SP's
// AuthnRequest signature against the SP metadata, show a login form (username = fiscal code,
// password, optional level, cancel) and answer with SPID-shaped signed responses: signed
// Assertion and Response, SPID attribute names, fiscalNumber as TINIT-<CF>, the chosen
// AuthnContextClassRef, ErrorCode nr19 on a wrong password and nr25 on cancel.
//
// They exist for demos and end-to-end tests only: never mount them outside dev mode.
package devidp
