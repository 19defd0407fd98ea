// Package keys is the broker's signing keyring: the key set (per algorithm one active key,
// one next key published before it signs, and retired keys kept for verification), its
// sources (PEM files in a directory, or the Store sealed with the shared crypto key), the
// operator's Init and Rotate, and the Ring that signs, verifies and serves the JWKS. It knows
// nothing of OAuth: claims are the broker's.
package keys
