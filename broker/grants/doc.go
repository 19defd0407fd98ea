// Package grants is the typed repository of what a login entitles a client to, over the
// Store: authorization codes (issued, redeemed once — a retry of the same redemption allowed
// for a short window — then answered), refresh-token families (issue, rotation with reuse
// detection, revocation of a family, the family's absolute expiry) and the access tokens' deny
// list. Tokens are stored by their SHA-256 hash: the Store never holds a usable token. The
// OAuth rules around them (which client, PKCE, scopes, delegations) are the broker's.
package grants
