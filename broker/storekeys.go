package broker

// The broker's Store keys, each spelled once. The other keys belong to the broker's parts:
// codes, refresh families and the deny list to broker/grants, SSO sessions to
// broker/session, the key set to broker/keys. The strings are part of the stored data's
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

// parPrefix namespaces the pushed authorization requests (broker/par: the prefix, then the
// hash of the request_uri).
const parPrefix = "par:"

// jarPrefix namespaces the jti of the request objects accepted (broker/jar: the prefix, then
// the hash of client and jti).
const jarPrefix = "jar:jti:"

// dpopJTIKey marks a DPoP proof's jti used (RFC 9449 §11.1), by the checker's key: the hash of
// the proof key's thumbprint and the jti.
func dpopJTIKey(key string) string { return "dpop:jti:" + key }
