// Package audit writes the audit trail: deliberate JSON-lines records of security events
// (logins, SPID traces, certificate checks, PIN actions, token events), kept apart from the
// ordinary log, and verifies it.
//
// # Record format
//
// Each line is one JSON object:
//
//	{"seq":42,"time":"…","type":"login.success","actor":"…","fields":{…},"prev":"<hex>","hash":"<hex>"}
//
// seq grows by one per record across files and restarts. A record's canonical bytes are the
// line as written without its trailing "hash" member (the object closes where the hash member
// began); hash is the SHA-256 of those bytes and the next record's prev repeats it, so editing,
// removing, inserting or reordering any record breaks the chain at that line. The very first
// record of a trail has prev = 64 zeros. Hashing the bytes as written, rather than a
// re-serialisation, keeps the verifier independent of JSON number and key-order quirks.
//
// # Checkpoints
//
// With a signing key, the Writer appends a checkpoint record (type "audit.checkpoint") every
// CheckpointEvery records or CheckpointInterval, whichever comes first, and on Close. Its
// fields carry an Ed25519 signature over its own seq, prev (the chain head) and time: someone
// who edits a record and recomputes every later hash cannot forge the next checkpoint. Records
// after the last checkpoint are protected by the chain only (an attacker with write access
// could cut them off); ship checkpoints elsewhere too (they are also logged through slog) when
// that matters.
//
// # Files
//
// The file sink rotates by size and by UTC day (path → path.YYYYMMDDTHHMMSS.nnnnnnnnnZ) and
// deletes rotated files older than the retention (default 24 months, the SPID traces rule).
// It resumes the chain from the last record on disk when the process restarts. One process
// writes one file: replicas each need their own path (for example with the host name in it).
//
// Verify checks a set of files (in any order: they are sorted by their first seq) and names the
// first bad line; CLI is "sportello audit verify FILE... --key PUB".
package audit
