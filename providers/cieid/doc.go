// Package cieid is sportello's CIE ID Service Provider, "Entra con CIE": the Ministry of the
// Interior's identity server, where citizens use their Electronic Identity Card with an NFC
// smartphone or the CieID app (or a reader) and the card's PIN. It is a SAML 2.0 federation
// of its own, with its own rules — the CIE ID technical manual (italia/cie-eid-saml-docs) —
// run as a profile on the engine of providers/saml (profile.go says which rule comes from
// where), its provider scaffolding the engine's profile base (saml.ProfileProvider), so this
// package holds only CIE ID's differences:
//
//   - its own SP entity and signed metadata at /cieid/metadata: ContactPerson
//     "administrative" with the cie: extensions (Public/Private, IPACode, IPACategory,
//     VATNumber, FiscalCode, NACE2Code, Municipality, Province, Country) and Company = the
//     Italian OrganizationName; SingleLogoutService on HTTP-Redirect (and POST); one
//     AttributeConsumingService of the eIDAS minimum data set (name, familyName, dateOfBirth,
//     fiscalNumber);
//   - AuthnRequests with ForceAuthn="true" always, Destination the SSO Location, Comparison
//     minimum or exact, SpidL1..SpidL3, no AllowCreate, no IsPassive;
//   - Responses validated as strictly as SPID's (the same engine), with CIE's differences:
//     the Response's Issuer carries no Format;
//   - the CIE ID server's metadata from its production or pre-production URL (environment),
//     refreshed like the SPID registry.
//
// A login's identity has auth_method "cie", as on the certificate path (providers/card), with
// cie_channel "cieid": the same person gets the same sub either way. acr is the level the
// server asserted (L3: the card; L2: the CieID app), amr accordingly.
//
// The dev CIE ID server is a dev IdP of providers/spid/devidp under /dev/cieid.
package cieid
