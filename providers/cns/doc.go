// Package cns is the CNS (Carta Nazionale dei Servizi, often the health card) login: the card's
// authentication certificate presented in a mutual-TLS handshake, validated by
// providers/x509auth against the CNS trust anchors and the CNS policy 1.3.76.16.2.1 or a
// configured equivalent (some regional cards). It implements providers.CertificateAuthenticator;
// the broker owns the mTLS listener and calls it.
package cns
