// Package loginstats counts logins by outcome over the last hour, cluster-wide, for the
// operators' console.
//
// Each replica counts its own logins in memory (a Counter: one bucket per minute, the last
// hour kept) beside the Prometheus counters of /metrics, and a Publisher writes those buckets
// to the Store every few seconds (one key per replica, expiring an hour after its last write,
// and an index of the replicas). Cluster sums the buckets of every replica that counted a
// login in the last hour, this replica's own live ones included: the console shows the whole
// cluster, including a replica that has since stopped, and each replica's contribution is at
// most one publishing interval behind. A login costs no Store round trip; the Store sees one
// write per replica per interval.
package loginstats
