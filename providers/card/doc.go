// Package card is the smart-card logins, two provider types over providers/x509auth: CIE
// (Carta d'Identità Elettronica, policy 1.3.76.47.4) and CNS (Carta Nazionale dei Servizi,
// often the health card, policy 1.3.76.16.2.1 or a configured equivalent for some regional
// cards). The card's authentication certificate is presented in a mutual-TLS handshake and
// validated against the type's trust anchors. Both are providers.CertificateAuthenticator;
// the broker owns the mTLS listener and calls them.
package card
