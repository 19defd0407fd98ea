// Package redis is the production Store: state shared by every broker replica, on Redis 6.2
// or later through go-redis' UniversalClient, so one server, Sentinel (a master name) and
// Cluster (several addresses) all work.
//
// Every key is prefixed (default "sportello:"); the caller's hash tags ("pin:{CF}:lock") keep
// working because the prefix holds no braces. Each operation touches one key, so all of them
// are Cluster-safe: Take is GETDEL, PutIfAbsent is SET NX PX, TTL is PTTL, and
// CompareAndSwap and Incr (which sets the ttl only on the counter it creates) are Lua scripts
// run with EVALSHA. TTLs are whole milliseconds, rounded up.
//
// With Options.WaitReplicas every write is followed by WAIT on the primary's connection
// (durable.go); Persistence and Replication report the primaries' AOF and replicas for
// start-up checks and readiness (health.go), and WithoutWait gives a view for state that
// needs no durability.
//
// Errors never carry the password nor the key (keys can hold fiscal codes); they wrap
// store.ErrNotFound, ErrClosed, ErrNotDurable or the go-redis error with %w.
package redis
