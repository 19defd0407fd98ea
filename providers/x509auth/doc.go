// Package x509auth validates the client certificates of Italian smart cards (CIE and CNS) and
// extracts the holder's identity from them. It is the one place with X.509 code: providers/card
// configures it for its CIE and CNS types and wraps it as providers.CertificateAuthenticator.
//
// A Validator checks, deny by default: that the leaf is no authority's certificate (neither
// basicConstraints CA:TRUE nor the keyCertSign or cRLSign key usage), the chain to the configured
// trust anchors with x509.Certificate.Verify, built from the configured intermediates only
// (whatever else the client sends is ignored: a card sends its leaf, and a card that could sign
// would otherwise vouch for anyone), with the clientAuth usage and the injected clock, the
// explicit clientAuth extended key usage and the digitalSignature key usage of the leaf (without
// nonRepudiation, the mark of a card's signature certificate), the certificate policy of the
// leaf, the fiscal code (CNS common name prefix before the first "/", else the subject
// serialNumber without TINIT- or IT:, check letter validated), and revocation of every
// certificate of the chain below the anchor by CRL and OCSP. Only CRLs and OCSP responses are
// cached (in memory, until their nextUpdate); nothing about a certificate is cached between
// logins.
//
// Every refusal is a *providers.UserError whose Code is one of the Reason constants and whose
// cause wraps providers.ErrCredentialRejected; Messages has the texts in Italian and English.
//
// Subpackages: devca serves the dev PKI's CRLs and a real OCSP responder; tsl imports an ETSI
// TS 119 612 trusted list into a PEM bundle of trust anchors.
package x509auth
