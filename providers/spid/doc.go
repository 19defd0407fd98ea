// Package spid is sportello's SPID Service Provider: the SPID profile (AgID's technical rules)
// on the SAML engine of providers/saml. The engine does what every SAML federation needs —
// signed AuthnRequests on both bindings, the strict, fail-closed validation of Responses on
// the raw XML with both signatures verified against the IdP metadata keys only, request
// tracking and the replay cache in the Store, single logout, the signed metadata and the
// IdP registry fed by (refreshed) metadata. This package gives it SPID's knobs (validate.go:
// the SpidL levels, Issuer formats, ForceAuthn from L2, the SPID attributes and error codes
// nr19..nr30, the spid: metadata extensions); the provider's scaffolding (construction,
// routes, metadata handler, ACS and SLO glue, the keys every profile's section has) is the
// engine's profile base (saml.ProfileProvider, saml.SPSection). It keeps what is SPID's own:
// the rest of the configuration section, the identity it builds (TINIT- fiscal number, amr
// per level), Start with the IdP chosen,
// the messages in Italian and English, the chooser's IdP list, the operators' CLI and the SP
// certificate (sigillo), and the AgID trace written through the audit interface.
//
// crewjam/saml is used for its metadata types; its ParseXMLResponse is the benchmark baseline
// (its clock is a package global, which does not fit injected time, and it accepts responses
// SPID must refuse).
//
// The dev identity providers live in the devidp subpackage.
package spid
