package grants

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"time"

	"github.com/inps/sportello/broker/claims"
	"github.com/inps/sportello/providers"
)

// Grant is what a completed login (or a client_credentials request) entitles a client to. It
// travels inside code and refresh-token records.
type Grant struct {
	ClientID string   `json:"client_id"`
	Scopes   []string `json:"scopes"`
	// Subject is the sub claim (the keyed hash of the fiscal code, or the client id for
	// client_credentials).
	Subject  string              `json:"sub"`
	Identity *providers.Identity `json:"identity,omitempty"`
	Nonce    string              `json:"nonce,omitempty"`
	// SessionID is the broker SSO session (sid claim).
	SessionID string `json:"sid,omitempty"`
	// IDTokenClaims and UserinfoClaims are extra claims asked by the claims parameter.
	IDTokenClaims  []string `json:"id_token_claims,omitempty"`
	UserinfoClaims []string `json:"userinfo_claims,omitempty"`
	// Act is the RFC 8693 actor claim when a delegate acts for the subject.
	Act *claims.Act `json:"act,omitempty"`
	// DelegationID names the delegation a delegated grant depends on.
	DelegationID string `json:"delegation_id,omitempty"`
	// GrantedAt is when the login completed (the code was issued), by the broker's clock:
	// RevokePerson revokes the grants obtained up to its mark.
	GrantedAt time.Time `json:"granted_at,omitzero"`
	// DPoPJKT binds the grant's refresh tokens to a client key (RFC 9449 §5: a public
	// client's): a refresh must come with a DPoP proof by the key of this thumbprint.
	DPoPJKT string `json:"dpop_jkt,omitempty"`
	// CertThumbprint is the x5t#S256 of the client certificate the grant's tokens are bound to
	// (RFC 8705 §3): a public client's refresh tokens are presented with that certificate only.
	CertThumbprint string `json:"x5t_s256,omitempty"`
}

// TokenHash is the Store key part of an opaque token: base64url SHA-256, unpadded.
func TokenHash(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plain structs are marshalled here
	}
	return b
}
