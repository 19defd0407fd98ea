// Package dpop checks DPoP proofs (OAuth 2.0 Demonstrating Proof of Possession, RFC 9449):
// the JWT a client sends in the DPoP header to prove that it holds the private key an access
// token is bound to (cnf.jkt).
//
// A Checker applies every rule of RFC 9449 §4.3: one compact JWS, typ dpop+jwt, an
// asymmetric algorithm from an allow-list (ES256, PS256 and EdDSA by default; never none nor
// an HMAC), a public key in the jwk header that verifies the signature, htm equal to the
// request's method, htu equal to the request's URI without query and fragment after
// syntax- and scheme-based normalisation (RFC 3986 §6.2.2, §6.2.3), iat within a bounded
// window, a jti never seen before (through the caller's ReplayCache, which a cluster backs
// with a shared store), ath equal to base64url(SHA-256(access token)) when a token comes with
// the proof, and a server nonce when the Checker has Nonces. It returns the key's RFC 7638
// SHA-256 thumbprint: the value of cnf.jkt for a token being issued, or the one a bound
// token must name.
//
// Nonces are stateless: a nonce is an HMAC of the current time window, so every replica that
// shares the key issues and accepts the same nonces, and the one of the previous window is
// still accepted so that a rotation at a window's edge does not fail a client. A proof
// without a valid nonce fails with a *NonceError carrying the nonce to send back in the
// DPoP-Nonce header, with the error code use_dpop_nonce.
package dpop
