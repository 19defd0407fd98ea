// Package ratelimit limits requests across every broker instance: a generic cell rate
// algorithm (GCRA) bucket per subject in the shared store.Store, and an http.Handler
// middleware keyed by OAuth client id and by source address.
//
// Wire it with ByPath around the broker's handler; DefaultRoutes suggests limits for the token,
// introspection, revocation, authorize, login, SPID ACS and PIN form endpoints.
//
// # Algorithm and costs
//
// A rule of N requests per window W lets N requests through at once, then one every W/N:
// the long-run rate is exactly N per W, and there is no window boundary at which twice the
// limit passes in an instant (as with fixed-window counters). A refused request
// waits W/N at most (Retry-After), not the rest of a window, and is not counted.
//
// Allow is one store Throttle (store.Rate.GCRA) on the key "ratelimit:{<hash>}", where <hash>
// is a truncated SHA-256 of the caller's key: the key is hash-tagged (one Cluster slot),
// bounded in length and free of client-chosen braces, and Redis never holds a raw address or
// client id. The key holds one time and expires when the bucket is full again, so memory is
// bounded by the number of active subjects. Time is the store's clock (Redis: the server's
// TIME), so instances with skewed clocks still agree.
//
// On Redis that is one EVALSHA round trip per check; the middleware checks two rules (client,
// address), so two round trips, about 0.1 ms each on a local network. Buckets need no
// durability: give the limiter a Store without WaitReplicas, or every check also waits for
// replicas. On the memory store a check is a map update under a lock, per process only (dev
// mode, single instance).
//
// # Failure
//
// When the store fails, Allow returns the error; the middleware then lets the request through
// (fail open, logged) unless FailClosed is set: a rate limiter must not turn a Redis hiccup
// into an outage of its own, and the endpoints behind it answer 503 by themselves when they
// need the store.
package ratelimit
