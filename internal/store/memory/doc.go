// Package memory is the in-process Store: the embedded default for dev mode and single-process
// deployments. It keeps values in a sharded map guarded by mutexes, so unrelated keys rarely
// contend. Expiry is exact on every read against the injected clock (Options.Now); a janitor
// goroutine, stopped by Close, reclaims the memory of keys nobody reads again.
//
// State does not survive a restart and is not shared between processes: several broker
// replicas need the redis Store.
package memory
