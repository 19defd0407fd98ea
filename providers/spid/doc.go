// Package spid is sportello's SPID Service Provider: signed SP metadata, signed AuthnRequests
// on the HTTP-Redirect and HTTP-POST bindings, an Assertion Consumer Service that validates
// every rule of AgID's technical rules on the raw XML before trusting anything, single logout,
// an identity-provider registry fed by (refreshed) metadata, and the AgID trace written through
// the audit interface.
//
// Validation is fail-closed and independent of crewjam/saml's ServiceProvider: a strict
// structural pass over the document (one Response, at most one Assertion, known children only,
// no comments, no DOCTYPE, unique IDs), both signatures verified with goxmldsig against the IdP
// metadata keys only, and every value read from the element as signed. crewjam/saml is used for
// its metadata types; its ParseXMLResponse is the benchmark baseline (its clock is a package
// global, which does not fit injected time, and it accepts responses SPID must refuse).
//
// The dev identity providers live in the devidp subpackage.
package spid
