// Package pin is the INPS PIN domain: the broker's own credential, from the request to the
// revocation. It keeps every record in a store.Store (JSON under "pin:{<CF>}:...", the fiscal code
// being a Redis Cluster hash tag, so one person's keys share a slot) and runs the rules INPS
// publishes for its PIN on inps.it: issuance (online, Contact Center, office), activation within 90
// days, the forced change of the 16-character PIN at first access (with the rules of CheckNewPIN
// and the PIN history), expiry and guided renewal, the progressive lockout (checked before any
// Argon2id computation, atomic across broker instances, fed by wrong PINs and wrong activation data
// alike), conversion from ordinario to dispositivo, lost PIN and revocation, the PIN telefonico for
// the Contact Center, and the officials' authorisations, which belong to the person and are
// exported as entitlements for any credential.
//
// No PIN ever appears in a log line, an error or an audit record: PINs are hashed with Argon2id
// (per-record salt, optional server-side pepper) and compared in constant time. The only places
// a clear PIN leaves the Service are the notifications that deliver it and the return values of
// the operations that must show it once (office envelope, PIN telefonico).
package pin
