// Package eidas is sportello's Service Provider towards the Italian eIDAS node (FICEP, run by
// AgID), through which citizens of other EU countries log in with their own country's eID.
// The node is an identity provider of the SPID federation and speaks SPID-shaped SAML
// (AgID/eidas-italian-node), so this is SPID's profile on the engine of providers/saml
// (profile.go) with eIDAS's differences, its provider scaffolding the engine's profile base
// (saml.ProfileProvider):
//
//   - its own SP entity and signed SPID-shaped metadata at /eidas/metadata, with AgID's eIDAS
//     AttributeConsumingServices: index 99, the natural-person minimum data set (name,
//     familyName, dateOfBirth, spidCode), and 100, the full set (also address, gender,
//     placeOfBirth); attribute_set picks the one asked;
//   - levels: a Response may name the eIDAS levels of assurance (low, substantial, high) for
//     SpidL1..L3; min_level 2 (substantial) by default, so "low" is refused unless a
//     configuration allows L1 and a relying party asks it;
//   - the identity: spidCode carries the eIDAS PersonIdentifier (CC/IT/...), with names and
//     date of birth; there is usually no codice fiscale. The sub is derived from the
//     PersonIdentifier (providers.Identity.PersonIdentifier: stable, never equal to a
//     fiscal-code sub) and fiscal_number is absent, unless a Linker (links, links_file) names
//     the person's INPS record: then both are that record's, as with the PIN.
//
// A login may name the person's country: eidas_country on /authorize (the provider is a
// providers.Hinter), an ISO 3166-1 alpha-2 code the node offers (countries), sent to the node
// as country beside the AuthnRequest so that it skips its country choice.
//
// Single logout runs with the node as with a SPID IdP (Logout on end_session, the node's
// LogoutRequest and LogoutResponse at /eidas/slo).
//
// auth_method is "eidas", eidas_country the country of the eID. The dev eIDAS node is a dev
// IdP of providers/spid/devidp under /dev/eidas.
package eidas
