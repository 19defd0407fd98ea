// Package providers is the seam between the broker and the credentials it federates.
//
// It holds the verified Identity every credential produces, the small Provider contract and the
// capability interfaces a concrete provider implements (a redirecting login such as SAML, a
// client-certificate authenticator, a password-style form). The broker imports this package and
// never a concrete provider; cmd/sportello builds the providers and injects them.
package providers
