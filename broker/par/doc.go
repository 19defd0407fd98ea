// Package par is OAuth 2.0 Pushed Authorization Requests (RFC 9126): a client pushes its
// authorization request's parameters to the pushed authorization request endpoint, with its
// client authentication, and gets back a request_uri
// (urn:ietf:params:oauth:request_uri: and 256 random bits) to send to /authorize with its
// client_id and nothing else.
//
// The parameters are kept in the Store under a hash of the reference (a dump of the store
// holds no usable request_uri), for a short time (DefaultTTL, 60 s, the expires_in of the
// answer), bound to the client that pushed them, and taken once: a second use, an expired
// one, or one by another client is invalid_request_uri — and a try by another client spends
// the request, so that a leaked request_uri is worth nothing to anyone. Every replica sees
// every pushed request, since they live in the shared Store.
//
// Errors are *Error values carrying the OAuth error code (invalid_request,
// invalid_request_uri) and a description safe to show the client; a Store failure is
// returned as is (store.IsOutage: answer 503).
package par
