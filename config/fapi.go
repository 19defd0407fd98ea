package config

import "slices"

// ProfileFAPI2 is clients[].profile for the FAPI 2.0 Security Profile.
const ProfileFAPI2 = "fapi2"

// FAPI2AuthMethods are the client authentication methods FAPI 2.0 allows (Security Profile
// §5.3.2.1: private_key_jwt, or mutual TLS per RFC 8705).
var FAPI2AuthMethods = []string{AuthPrivateKeyJWT, AuthTLSClient, AuthSelfSignedTLSClient}

// FAPI2Algorithms are the signature algorithms FAPI 2.0 allows for the client's request
// objects and client assertions (§5.4.1: PS256, ES256 or EdDSA with Ed25519; sportello keeps
// to the two the profile's tests exercise, and signs the client's ID tokens ES256).
var FAPI2Algorithms = []string{"ES256", "PS256"}

// applyFAPI2Defaults fills what FAPI 2.0 makes mandatory and the configuration left unsaid:
// pushed authorization requests for a client that logs people in (§5.3.2.2), certificate-bound
// access tokens unless the client chose DPoP (§5.3.2.1: sender-constrained, by mutual TLS or
// DPoP), ES256 ID tokens, and the authentication
// method its registered credentials point to (jwks_file: private_key_jwt; a CA file:
// tls_client_auth; a pinned certificate: self_signed_tls_client_auth).
func (cl *Client) applyFAPI2Defaults() {
	if len(cl.GrantTypes) == 0 || slices.Contains(cl.GrantTypes, GrantAuthorizationCode) {
		cl.RequirePushedAuthorizationRequests = true
	}
	if cl.TLSClientCertificateBoundAccessTokens == nil && !cl.DPoPBoundAccessTokens {
		bound := true
		cl.TLSClientCertificateBoundAccessTokens = &bound
	}
	if cl.SigningAlg == "" {
		cl.SigningAlg = "ES256"
	}
	if cl.AuthMethod == "" && !cl.Public {
		switch {
		case cl.TLSClientAuthCAFile != "":
			cl.AuthMethod = AuthTLSClient
		case cl.TLSClientCertificateFile != "":
			cl.AuthMethod = AuthSelfSignedTLSClient
		case cl.JWKSFile != "":
			cl.AuthMethod = AuthPrivateKeyJWT
		}
	}
}

// validateProfile refuses a profile it does not know, and for fapi2 whatever the profile
// forbids: a public client (§5.3.2.1: confidential clients only), a shared secret, another
// authentication method, another ID token algorithm. The defaults filled make the rest hold;
// the other rules (PAR with the code grant, the mutual-TLS listener) are checked as for any
// client.
func (c *Config) validateProfile(v *validator, p string, cl *Client) {
	switch cl.Profile {
	case "":
		return
	case ProfileFAPI2:
	default:
		v.add(p+".profile", "unknown profile %q: want fapi2", cl.Profile)
		return
	}
	if cl.Public {
		v.add(p+".public", "a fapi2 client is confidential (FAPI 2.0 §5.3.2.1)")
	} else if !slices.Contains(FAPI2AuthMethods, cl.AuthMethod) {
		v.add(p+".auth_method", "a fapi2 client authenticates with private_key_jwt, tls_client_auth or self_signed_tls_client_auth (FAPI 2.0 §5.3.2.1), not %s", cl.AuthMethod)
	}
	if !cl.CertBound() && !cl.DPoPBoundAccessTokens {
		v.add(p+".tls_client_certificate_bound_access_tokens", "a fapi2 client's access tokens are sender-constrained (FAPI 2.0 §5.3.2.1): remove false, or set dpop_bound_access_tokens")
	}
	if cl.SigningAlg != "ES256" {
		v.add(p+".signing_alg", "a fapi2 client's tokens are signed ES256 (FAPI 2.0 §5.4.1), not %s", cl.SigningAlg)
	}
}

// CertBound is tls_client_certificate_bound_access_tokens: the client's access tokens are
// bound to its TLS client certificate (RFC 8705 §3).
func (cl *Client) CertBound() bool {
	return cl.TLSClientCertificateBoundAccessTokens != nil && *cl.TLSClientCertificateBoundAccessTokens
}
