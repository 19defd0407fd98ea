package broker

import "encoding/base64"

// PKCE syntax (RFC 7636). The values come from relying parties: they are checked for shape
// before anything is compared, so a malformed one is refused for what it is.

// validCodeVerifier reports whether v is a code_verifier of RFC 7636 §4.1: 43 to 128
// characters of the unreserved set [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".
func validCodeVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		ch := v[i]
		alnum := 'A' <= ch && ch <= 'Z' || 'a' <= ch && ch <= 'z' || '0' <= ch && ch <= '9'
		if !alnum && ch != '-' && ch != '.' && ch != '_' && ch != '~' {
			return false
		}
	}
	return true
}

// validS256Challenge reports whether c can be an S256 code_challenge (RFC 7636 §4.2):
// BASE64URL(SHA-256(verifier)) without padding, that is exactly 43 characters that decode,
// strictly (no stray bits in the last one, no line breaks), to 32 bytes.
func validS256Challenge(c string) bool {
	if len(c) != 43 {
		return false
	}
	sum, err := base64.RawURLEncoding.Strict().DecodeString(c)
	return err == nil && len(sum) == 32
}
