// Package samlx holds the SAML plumbing shared by the Service Provider engine (providers/saml),
// its profiles (providers/spid) and the dev identity providers: namespaces, key and certificate
// files, enveloped XML signatures (exclusive c14n, rsa-sha256, via goxmldsig), the
// HTTP-Redirect binding (DEFLATE plus a query signature) and the auto-submitting HTTP-POST
// form. The identity-provider side needs the same signatures and bindings as the SP side
// without importing the SP, so they live here, below both. Only SAML code imports it; the
// broker never does.
package samlx
