// Package saml is sportello's SAML 2.0 Service Provider engine, shared by the federations
// that speak SAML to the broker: SPID (providers/spid), CIE ID ("Entra con CIE", the Ministry
// of the Interior's IdP, providers/cieid) and eIDAS through the Italian node FICEP
// (providers/eidas). It does what every one of them needs, the same way:
//
//   - AuthnRequests (SendAuthnRequest): signed on HTTP-Redirect (query signature) or HTTP-POST
//     (enveloped signature, auto-submitting form), a transient NameIDPolicy without
//     AllowCreate, no IsPassive, the SP Issuer with Format entity and NameQualifier, recorded
//     in the Store under an opaque RelayState before anything is sent.
//   - Responses (PeekRequest, Consume): validated on the raw XML before anything is trusted:
//     UTF-8 only, no comments, DOCTYPE or processing instructions, names that survive a round
//     trip, unique IDs, one Assertion and only as the Response's direct child; every
//     attribute of the Response and Assertion, Destination, InResponseTo, Recipient, Audience,
//     validity windows, subject confirmation, level and comparison; the Assertion always
//     signed and the Response signature, if any, verified with the IdP's metadata keys
//     whatever KeyInfo holds (samlx.VerifyEnveloped, on goxmldsig); values read only from the
//     element as signed. The request is used up, and the assertion ID kept until its
//     NotOnOrAfter against replay (put-if-absent, cluster-wide), only for a response that
//     validated and that the provider accepted.
//   - The HTTP-POST Assertion Consumer Service (ServeACS): the form, the peek, Consume, the
//     audit record of every response, the hand-back to the broker and the catalogue keys
//     "<profile>.<key>" (UserErrorKeys, the federation's error codes); the provider package
//     gives its method and the identity a valid Assertion means (ACS).
//   - Single logout (Logout, ServeSLO): signed LogoutRequests and LogoutResponses both ways,
//     on both bindings.
//   - A Store outage is never taken for an unknown request: PeekRequest returns
//     providers.ErrUnavailable (store.IsOutage), not ErrLoginExpired, and ServeSLO answers a
//     LogoutResponse it cannot check with Deps.Unavailable (503, Retry-After), using nothing
//     up, so the same message completes once the store answers.
//   - The SP metadata (BuildMetadata, SP.Metadata), signed, deterministic.
//   - The IdP registry (Registry): metadata files or URLs, signature checked against a
//     configured certificate, periodic refresh, last good copy kept, lazy retry, readiness;
//     a source of exactly one IdP may give it a short name (IdPConfig.ShortName) for the
//     provider package to accept beside its entityID.
//
// # Profiles
//
// A federation is a Profile value, built by its provider package from its configuration; the
// engine reads nothing else about it. Its knobs are exactly where the three federations
// differ:
//
//	knob                  SPID                       CIE ID (providers/cieid)      eIDAS (providers/eidas)
//	LevelURIs             SpidL1..SpidL3             SpidL1..SpidL3                SpidL1..SpidL3
//	LevelAliases          -                          -                             the eIDAS LoA URIs (low,
//	                                                                               substantial, high)
//	ResponseIssuer        optional (absent|entity)   absent                        optional
//	AssertionIssuer       required                   optional                      required
//	ForceAuthnFrom        2 (L2 and L3)              1 (always)                    2
//	Comparisons           minimum, exact             minimum, exact                minimum, exact
//	Attributes            AgID's SPID list           eIDAS minimum set (name,      AgID's SPID list (its ACS
//	                                                 familyName, dateOfBirth,      99 and 100: the eIDAS
//	                                                 fiscalNumber)                 data sets, spidCode)
//	ErrorCodes            nr19..nr30                 the CIE ID manual's (nr21,    nr19..nr30
//	                                                 nr22, nr23, nr25)
//	MetadataNamespaces    spid:                      cie:                          spid:
//	WriteContacts         ContactPerson "other"      ContactPerson "administrative" as SPID
//	                      with spid:IPACode/Public   with cie:Public, IPACode,
//	                      (or VATNumber/Private and  Municipality, ... and Company
//	                      a billing contact)
//
// Per login, the provider package chooses the level and comparison (its minimum, the relying
// party's acr_values), and for eIDAS the AttributeConsumingService (AuthnRequest
// .AttributeService: the minimum data set or the extended one). What a valid Assertion means
// is the provider package's too: Consume (and ServeACS) hands it to an accept function, which
// maps the attributes to a providers.Identity (SPID's TINIT- fiscal number, eIDAS's
// PersonIdentifier) and may still refuse it (Rejectf) — then nothing is consumed. The texts
// of the pages, the chooser entry and the configuration section stay in the provider
// package: the engine's errors are
// RejectError (Rule names the rule), StatusError (the IdP's non-success status, NR its error
// code) and LevelError, each wrapping the providers sentinel it means.
//
// The Profile's Name keeps each federation apart where they share a process: Store keys
// ("<name>:req:", "<name>:assertion:", "<name>:slo:"), audit event types ("<name>.response")
// and the prefix of log lines and error texts.
//
// # The profile base
//
// What a profile's provider does besides its differences is ProfileProvider's, so each
// profile package holds only those (levels, attributes, metadata extensions, identity
// mapping, its own configuration keys and Start):
//
//   - ProfileDeps and HostDeps: the collaborators, as the broker gives them at Open.
//   - NewProfileProvider(ProfileSpec): the SP key loaded, the endpoints not configured
//     derived from the base URL (/<profile>/metadata, /acs, /slo), the engine built with the
//     audit trail (and SPID's trace file, ProfileSpec.Trace) and the session ending of an
//     IdP-initiated logout.
//   - The provider's scaffolding: Routes and Handler (/<profile>/metadata, the ACS with the
//     profile's identity mapping, the SLO endpoint), Metadata, Registry, Run, Refresh,
//     Readiness, EntityID; OnlyIdP and Level for Start; LogoutSession for a profile whose IdP
//     answers single logout (the base is no Logouter by itself: CIE ID's server answers none).
//   - ProfileType: the providers.Type of a profile package.
//   - SPSection: the configuration keys every profile has (entity_id, key_file, cert_file,
//     acs_url, slo_url, idps, the time limits, comparison, min_level), inline in each
//     profile's Config, with their defaults, file paths and checks.
//
// Low-level plumbing (namespaces, keys, enveloped signatures, the two bindings) is in the
// samlx subpackage, shared with the dev identity providers.
package saml
