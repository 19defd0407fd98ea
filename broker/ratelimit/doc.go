// Package ratelimit limits requests across every broker instance: fixed-window counters in the
// shared store.Store, one key per (subject, window), and an http.Handler middleware keyed by
// OAuth client id and by source address.
//
// Wire it with ByPath around the broker's handler; DefaultRoutes suggests limits for the token,
// introspection, revocation, authorize, login, SPID ACS and PIN form endpoints.
//
// # Algorithm and costs
//
// Allow does one store Incr on the key "ratelimit:{<hash>}:<window start>", where <hash> is a
// truncated SHA-256 of the caller's key: the key is hash-tagged (one Cluster slot), bounded in
// length and free of client-chosen braces, and Redis never holds a raw address or client id.
// The counter is created with a TTL of the window plus a second and is never touched again
// once the window has passed, so memory is bounded by the number of active subjects.
//
// On Redis that is one EVALSHA round trip per check (the store's atomic Incr-with-TTL script);
// the middleware checks two rules (client, address), so two round trips, about 0.1 ms each on
// a local network. Counters need no durability: give the limiter a Store without
// WaitReplicas, or every check also waits for replicas. On the memory store a check is a map
// update under a lock, per process only (dev mode, single instance).
//
// A fixed window lets a burst of up to twice the limit through across a window boundary;
// that is the price of one round trip (a sliding-window approximation would read the
// previous window too). Choose windows accordingly (for example 600 token requests per
// minute per client).
//
// # Failure
//
// When the store fails, Allow returns the error; the middleware then lets the request through
// (fail open, logged) unless FailClosed is set: a rate limiter must not turn a Redis hiccup
// into an outage of its own, and the endpoints behind it answer 503 by themselves when they
// need the store.
package ratelimit
