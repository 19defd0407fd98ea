// Package jar verifies JWT-Secured Authorization Requests (RFC 9101): an authorization
// request whose parameters travel in a request object, a JWT signed by the client.
//
// Verify accepts a request object only when it is signed with an algorithm of the allow-list
// (request_object_signing_alg_values_supported: ES256, PS256 and EdDSA by default; none and
// the HMACs can never be listed, so a client secret cannot sign one) by one of the client's
// registered keys — inline (jwks) or fetched from its jwks_uri with a bounded HTTP client
// (timeout, size limit, no redirects, https) and cached, fetched again for an unknown kid at
// most once per MinRefresh — and when its claims hold: iss is the client_id, aud names the
// issuer, exp and nbf are present, nbf is no older than MaxLifetime and exp no further than
// MaxLifetime after it (FAPI 2.0 Message Signing), iat is not in the future, client_id, if
// there, is the client's, it carries neither request nor request_uri, and its jti was never
// seen (a PutIfAbsent in the Store until exp, so across every replica).
//
// Merge and Resolve apply RFC 9101 §5 and §6.3: the authorization request's parameters are
// the request object's claims alone; parameters outside it are ignored, except client_id,
// which must name the same client.
//
// Errors are *Error values with the OAuth error code (invalid_request_object,
// invalid_request) and a description for the client; a Store failure is returned as is
// (store.IsOutage: answer 503).
package jar
