// Package delegation is the registry of delegations of digital identity (circolare INPS
// 127/2021, messaggio 3305/2021): a citizen delegates a trusted person to act for them with all
// their powers towards INPS. It holds the records (kept forever: revoked and expired
// delegations stay as history), enforces the limits and the revocation rights, notifies the
// delegate, and serves the citizens' pages ("Le mie deleghe", /deleghe/), the operators' API
// (/admin/delegations/) and the "sportello delegation" command.
//
// # Rules
//
//   - Kinds: online (registered by the delegator), office_aa08 (delegator present at an
//     office), office_aa09 (filed by the delegate with a doctor's certificate), legal_aa10
//     (a legal representative: tutore, curatore, amministratore di sostegno, genitore).
//   - Active from registration; an optional end (no end = no end).
//   - One active delegate per delegator; at most three active delegations per delegate;
//     neither limit counts or applies to legal representations.
//   - Revocation: at an office at any time; online by the delegator, except within 30 days
//     of an online registration, and never online by a person under legal protection (one
//     with an active legal_aa10 representation as delegator).
//
// # Storage and atomicity
//
// Keys carry Redis Cluster hash tags so that every check that must be atomic reads and
// writes one key:
//
//	deleg:{<id>}              the record (JSON), the commit point of a registration
//	deleg:{<CF>}:given        the delegator's index: one entry per delegation given
//	deleg:{<CF>}:received     the delegate's index: one entry per delegation received
//
// The delegator's index is authoritative for the one-delegate limit, the delegate's index
// for the three-delegations limit; each is changed only with compare-and-swap (store.Update).
// A registration touches both, so it follows a reservation protocol:
//
//  1. reserve a pending entry (with a deadline, two minutes ahead) in the delegator's index
//     with CAS, refusing when the limit is reached (pending entries count);
//  2. reserve in the delegate's index with CAS; if refused, remove the first reservation;
//  3. commit by writing the record with put-if-absent;
//  4. clear the pending marks (best effort).
//
// A pending entry whose deadline passed (its registrant crashed or stalled) is resolved by
// whoever meets it: if the record exists the registration committed and the entry counts;
// otherwise a tombstone is written at the record's key with put-if-absent, so a late
// registrant's commit fails and the reservation is dropped. Exactly one of the two wins.
// Revocation writes the record first (the record is the truth for Active) and then marks the
// index entries. A crash in between leaves an entry that looks active: a registration that
// would be refused by the limit re-reads the records of the entries it counted and frees
// those already revoked (revocation is monotonic, so this never frees a slot in use), and a
// repeated revocation repairs both indexes. The error is always on the safe side: a slot
// briefly counted, never a slot too many.
package delegation
