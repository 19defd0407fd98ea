package broker

// The broker's Store keys, each spelled once. The strings are part of the stored data's
// format: a new version reads what the previous one wrote (TestStoreKeysAreStable pins them),
// so a key is renamed only with a migration.

// loginKey is a pending login (loginRecord) by its id.
func loginKey(id string) string { return "login:" + id }

// doneKey is a login's outcome handed back to /login/done (doneRecord) by its one-time
// reference.
func doneKey(ref string) string { return "done:" + ref }

// mtlsStepKey is the certificate step (mtlsStep) by the hash of its step token.
func mtlsStepKey(tok string) string { return "mtlsstep:" + tokenHash(tok) }

// errorPageKey is an error page handed from the mTLS origin to the issuer's (errorView).
func errorPageKey(ref string) string { return "errpage:" + ref }

// signInKey is the built-in client's pending sign-in (signInRecord) by its state.
func signInKey(state string) string { return "signin:" + state }

// assertionJTIKey marks a client assertion's jti used, per client (RFC 7523 replay).
func assertionJTIKey(clientID, jti string) string { return "jti:" + clientID + ":" + jti }

// codeKey is an authorization code (codeRecord) by the hash of the code.
func codeKey(h string) string { return "code:" + h }

// legacyCodeUsedKey is where versions before the code retry window recorded a redeemed
// code's tokens (usedCode), by the hash of the code: read only, to revoke them on reuse.
func legacyCodeUsedKey(h string) string { return "codeused:" + h }

// refreshKey is a refresh token (refreshRecord) by its hash.
func refreshKey(h string) string { return "rt:" + h }

// refreshUsedKey marks a refresh token rotated (rotationMarker), by its hash.
func refreshUsedKey(h string) string { return "rtused:" + h }

// familyRevokedKey marks a refresh family revoked (its value is the reason).
func familyRevokedKey(family string) string { return "rtf:" + family }

// deniedAccessKey puts an access token, by its jti, on the deny list.
func deniedAccessKey(jti string) string { return "atrev:" + jti }

// sessionKey is an SSO session (sessionRecord) by the hash of its cookie's secret.
func sessionKey(secretHash string) string { return "sess:" + secretHash }

// upstreamSessionKey indexes an SSO session (its value: the hash of the cookie's secret) by
// its upstream session: for SAML the IdP, NameID and SessionIndex.
func upstreamSessionKey(idp, nameID, sessionIndex string) string {
	return "sessup:" + tokenHash(idp+"\x00"+nameID+"\x00"+sessionIndex)
}
