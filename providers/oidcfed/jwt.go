package oidcfed

import (
	"encoding/json"

	jose "github.com/go-jose/go-jose/v4"
)

// SignJWT signs claims (marshalled to JSON) with s as a compact JWS.
func SignJWT(s jose.Signer, claims any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	obj, err := s.Sign(payload)
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}

// NewStatementSigner signs entity statements (typ entity-statement+jwt) with key, RS256.
func NewStatementSigner(key jose.JSONWebKey) (jose.Signer, error) {
	return jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key},
		(&jose.SignerOptions{}).WithType(TypeEntityStatement))
}

// StatementSigner signs entity statements with the set's active federation key.
func (ks *KeySet) StatementSigner() (jose.Signer, error) {
	return ks.signer(UseFederation, TypeEntityStatement)
}
