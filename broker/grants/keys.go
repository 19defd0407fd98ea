package grants

// The repository's Store keys, each spelled once. The strings are part of the stored data's
// format (TestStoreKeysAreStable pins them): a key is renamed only with a migration.

// codeKey is an authorization code (codeRecord) by the hash of the code.
func codeKey(h string) string { return "code:" + h }

// legacyCodeUsedKey is where versions before the code retry window recorded a redeemed
// code's tokens (Issued), by the hash of the code: read only, to revoke them on reuse.
func legacyCodeUsedKey(h string) string { return "codeused:" + h }

// refreshKey is a refresh token (Refresh) by its hash.
func refreshKey(h string) string { return "rt:" + h }

// refreshUsedKey marks a refresh token rotated (rotationMarker), by its hash.
func refreshUsedKey(h string) string { return "rtused:" + h }

// familyRevokedKey marks a refresh family revoked (its value is the reason).
func familyRevokedKey(family string) string { return "rtf:" + family }

// deniedAccessKey puts an access token, by its jti, on the deny list.
func deniedAccessKey(jti string) string { return "atrev:" + jti }

// personRevokedKey is a person's RevokePerson mark, by broker sub (a keyed hash: no fiscal
// code in a key).
func personRevokedKey(sub string) string { return "rtperson:" + sub }
