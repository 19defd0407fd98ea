// Package cie is the CIE (Carta d'Identità Elettronica) login: the card's authentication
// certificate presented in a mutual-TLS handshake, validated by providers/x509auth against the
// CIE trust anchors and the CIE policy 1.3.76.47.4. It implements
// providers.CertificateAuthenticator; the broker owns the mTLS listener and calls it.
package cie
