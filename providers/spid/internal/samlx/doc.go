// Package samlx holds the SAML plumbing shared by the SPID Service Provider and the dev SPID
// identity providers: namespaces, key and certificate files, enveloped XML signatures
// (exclusive c14n, rsa-sha256, via goxmldsig), the HTTP-Redirect binding (DEFLATE plus a query
// signature) and the auto-submitting HTTP-POST form. It is internal so that the two sides share
// one implementation without the dev IdP importing the SP.
package samlx
