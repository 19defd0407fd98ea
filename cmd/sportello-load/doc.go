// Command sportello-load drives real protocol traffic against a running sportello (dev mode)
// and reports throughput and latency percentiles per scenario.
//
//	go run ./cmd/sportello-load [--target http://127.0.0.1:8080] [--users 8] [--duration 5s]
//	    [--requests N] [--scenarios discovery,jwks,...] [--paced 0.8] [--markdown] [--testdata DIR]
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
// With --paced F, each of discovery, jwks, client_credentials, introspection and
// token_exchange runs a second time at F times the rate it just reached, open loop: the users
// start operations on a fixed schedule and a latency runs from the scheduled start, so a stall
// shows in p99 instead of slowing the schedule down (no coordinated omission). That row is the
// "p99 at 80 % of peak" of the targets.
//
// The API scenarios use fasthttp's client (keep-alive, pooled, no goroutine per connection):
// on two cores the generator shares the CPU with the broker, and net/http's client cost about
// as much CPU per request as the broker's token endpoint. The browser flows use net/http
// (cookies, redirects, TLS client certificates).
//
// Only loopback targets are accepted: this is a benchmark for one machine, not a tool to point
// at someone else's service. The harness stops by itself; the latency of an operation is
// measured from its first request to its last response.
package main
