// Package heartbeat tells which broker replicas are running: each writes its Replica record
// ({id, hostname, version, started, last_seen}) to the shared Store every Interval with a
// TTL, and List returns the replicas whose record has not expired.
//
// Each replica's record is its own key ("heartbeat:{<id>}") with the TTL, so the Store's
// clock (Redis' for Redis) decides what "recently" means, not the replicas' clocks. The Store
// has no key listing, so an index key holds the ids: a replica adds itself when it is missing
// and drops the ids whose record expired; List reads the index, then each record.
package heartbeat
