// Package bclogout is OpenID Connect Back-Channel Logout 1.0 for the broker's relying
// parties: when a session ends, each client with a backchannel_logout_uri gets a logout
// token (a JWT, typ logout+jwt, with iss, aud, iat, exp, jti, sid and/or sub, the
// back-channel logout event, never a nonce) POSTed as the form parameter logout_token.
//
// Deliveries go through a durable queue in the Store, so a replica that crashes loses none:
// Enqueue takes a slot number from a counter (Incr) and writes the entry there
// (PutIfAbsent); every replica's Work scans the slots from the head, claims a due entry with
// a lease (CompareAndSwap on its record: one worker wins), delivers it, and records the
// outcome with another CompareAndSwap from the value it claimed — delivered, failed after
// Options.MaxAttempts, or due again after an exponential backoff. A worker that dies holding
// a lease simply lets it run out, and another takes the entry; a worker whose lease ran out
// finds its last write refused and writes nothing. Since a lease outlives the delivery's
// timeout, two workers never deliver one entry at the same time. A slot that a counter
// handed out but nobody wrote (an Enqueue that died in between, or one still on its way) is
// voided with PutIfAbsent, so a late writer moves to another slot instead of writing behind
// the head. The head advances over finished slots with compare-and-swap. Leases and backoff
// use the workers' clocks, which must agree within a few seconds.
//
// The token is signed at each attempt (a Signer: the broker's key ring, with the algorithm of
// the client's ID tokens) with a fresh
// iat and exp but the entry's one jti, so a relying party that was down for an hour still
// gets a valid token, and one that received a token whose answer was lost sees the same jti
// again.
package bclogout
