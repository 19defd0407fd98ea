// Command sportello-load drives real protocol traffic against a running sportello (dev mode)
// and reports throughput and latency percentiles per scenario.
//
//	go run ./cmd/sportello-load [--target http://127.0.0.1:8080] [--users 8] [--duration 5s]
//	    [--requests N] [--scenarios discovery,jwks,...] [--markdown] [--testdata DIR]
//
// Scenarios (each runs on its own, one after the other, with --users virtual users for
// --duration or until --requests operations, whichever comes first):
//
//   - reference_static: the discovery bytes from a bare net/http server inside the harness,
//     the ceiling of the load generator on this machine, to read the other figures against;
//   - discovery, jwks: GET of the discovery document and of the key set;
//   - client_credentials: demo-service with client_secret_basic;
//   - code_exchange: authorization codes are obtained first (unmeasured CIE logins over
//     mTLS), then the timed phase redeems them with PKCE;
//   - refresh: each user rotates its own refresh token chain;
//   - introspection: demo-service introspects a user's access token;
//   - token_exchange: demo-service exchanges a user's access token for audience inps-pensioni;
//   - pin_login: a full PIN login of Giovanna Ferrari (authorize, form, callback with code),
//     bounded by the Argon2id cost;
//   - cie_login: a full CIE login of Mario Rossi over mutual TLS, a new TLS handshake each;
//   - spid_login: a full SPID L2 login through the dev IdP "demo" (AuthnRequest, the IdP's
//     form, the signed Response posted to the ACS, callback with code).
//
// Only loopback targets are accepted: this is a benchmark for one machine, not a tool to point
// at someone else's service. The harness stops by itself; the latency of an operation is
// measured from its first request to its last response.
package main
