// Package verify is the small library a downstream INPS service uses to verify a sportello
// access token (RFC 9068, typ at+jwt) and read from it who acts, for whom, and how strongly
// they proved it.
//
// A Verifier fetches the issuer's discovery document and JWKS once, caches the keys, and
// fetches them again when the cache is older than Options.RefreshInterval or when a token
// names a key it does not know (at most once per Options.MinRefreshInterval, so a flood of
// forged key ids cannot turn it into a JWKS hammer); a key rotation in the middle therefore
// goes unnoticed by the service. It accepts ES256 and RS256 signatures only, checks typ,
// iss, aud, exp and nbf (with a small leeway), and returns a Token with the token contract's
// claims: Assurance (acr, level, amr, method, SPID IdP, auth_time) and, for a delegate acting
// for a citizen, Delegation (the delegate, the delegation's id, type and end). Tokens from
// token exchange carry nested act claims: ActorChain lists them.
//
// DPoP-bound tokens (RFC 9449: a cnf.jkt claim naming the thumbprint of the client's key)
// are good only with a proof of possession: Verify refuses them (ErrProofRequired), and
// VerifyDPoP accepts one only with a valid DPoP proof signed by that key, for this request's
// method and URI, carrying the token's hash (ath), fresh and never seen before; a bearer
// token presented as DPoP is refused too (ErrNotBound). The proofs are checked by package
// dpop (Options.DPoP), whose replay cache the service backs with storage its replicas share.
//
// Certificate-bound tokens (RFC 8705 §3: a cnf.x5t#S256 claim naming the SHA-256 thumbprint
// of the client's TLS certificate) are good only over mutual TLS with that certificate:
// Verify refuses them (ErrCertificateRequired), VerifyWithCertificate takes the connection's
// client certificate and refuses another (ErrCertificateMismatch); CheckCertificate applies
// the same rule to a token already verified.
//
// Middleware is an example http.Handler middleware: 401 with
// WWW-Authenticate: Bearer error="invalid_token" for a missing or bad token, 403 with
// error="insufficient_user_authentication" when the level is below what the handler needs; it
// checks a certificate-bound token against the client certificate of the TLS connection;
// with Options.DPoP it takes Authorization: DPoP with the DPoP header too, and answers
// error="invalid_dpop_proof" or error="use_dpop_nonce" (with DPoP-Nonce) for a bad proof.
package verify
