// Package claims types the tokens the broker signs (the token contract): the access token
// (RFC 9068), the ID token, the userinfo answer, and the RFC 8693 actor chain with the
// delegation a delegate acts under. The JSON of each is the contract: a claim is present
// exactly when the contract says, with the same name and form.
package claims
