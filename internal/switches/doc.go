// Package switches holds the security team's cluster-wide overrides: an identity provider
// (kind "idp", id its entityID; a CIE or CNS certification authority, id the hexadecimal
// SHA-256 of its certificate), a provider ("provider", id its configured name) or a client
// ("client", id its client_id) switched off on every replica at once, with the reason, the
// operator who did it, when, and an optional expiry.
//
// The configuration stays the source of what exists; a switch only overrides it. Switching
// something back on removes its override (the audit trail keeps who did what), so List shows
// exactly the overrides in force.
//
// # Storage
//
// All switches live in one Store key (Key) as one JSON document, changed by compare-and-swap
// (store.Update). A change is therefore applied whole or not at all: when the Store is
// unreachable Set fails and nothing changed. Expired switches are ignored by every reader
// and dropped at the next write.
//
// # Reading on every request
//
// A Reader keeps the document in memory and reloads it every Refresh (at most MaxRefresh, so
// a change reaches every replica within seconds); Disabled answers from memory, never with a
// Store round trip. When a reload fails the Reader keeps the switches it last read (a Store
// outage neither switches everything off nor silently switches everything back on) and
// reports the failure through Err.
package switches
