package claims

import (
	"encoding/json"
	"errors"
)

// Login is how the person proved who they are: present (all of it) in a token of a person's
// login, absent in a client's own token (client_credentials).
type Login struct {
	ACR        string   `json:"acr"`
	AMR        []string `json:"amr"`
	AuthMethod string   `json:"auth_method"`
	SPIDIdP    string   `json:"spid_idp,omitempty"`
	// CIEChannel is how a CIE login used the card: "cieid" (the Ministry's CIE ID server),
	// "certificate" (the card's certificate over mutual TLS) or "oidcfed" (the CIE OP over
	// OpenID Connect Federation).
	CIEChannel string `json:"cie_channel,omitempty"`
	// SPIDOP and CIEOP name the OpenID Provider of a login over OpenID Connect Federation.
	SPIDOP string `json:"spid_op,omitempty"`
	CIEOP  string `json:"cie_op,omitempty"`
	// EIDASCountry is the country (ISO 3166-1 alpha-2) of an eIDAS login's foreign eID.
	EIDASCountry string `json:"eidas_country,omitempty"`
	PINType      string `json:"pin_type,omitempty"`
	// Entitlements are an official's authorisations.
	Entitlements []string `json:"entitlements,omitempty"`
}

// Person is the identity part of a token: the login, the claims the scopes release, and the
// actor when a delegate (or, after token exchange, a service) acts for the subject.
type Person struct {
	*Login
	FiscalNumber string `json:"fiscal_number,omitempty"`
	GivenName    string `json:"given_name,omitempty"`
	FamilyName   string `json:"family_name,omitempty"`
	Birthdate    string `json:"birthdate,omitempty"`
	Email        string `json:"email,omitempty"`
	PhoneNumber  string `json:"phone_number,omitempty"`
	Act          *Act   `json:"act,omitempty"`
}

// Access is the JWT access token (typ at+jwt). Its aud is the resource, never the client
// (client_id names it), so it can never pass for an ID token.
type Access struct {
	Issuer   string   `json:"iss"`
	Subject  string   `json:"sub"`
	Audience Audience `json:"aud"`
	ClientID string   `json:"client_id"`
	Scope    string   `json:"scope"`
	IssuedAt int64    `json:"iat"`
	Expiry   int64    `json:"exp"`
	JTI      string   `json:"jti"`
	// AuthTime is set exactly when Login is: a person's login.
	AuthTime  *int64 `json:"auth_time,omitempty"`
	SessionID string `json:"sid,omitempty"`
	// GrantID is the refresh family of the grant: revoking it stops the token too.
	GrantID string `json:"grant_id,omitempty"`
	// Confirmation binds a sender-constrained token to a key (RFC 7800 §3.1): absent for a
	// bearer token.
	Confirmation *Confirmation `json:"cnf,omitempty"`
	Person
}

// Confirmation is the cnf claim: what a sender-constrained token is bound to.
type Confirmation struct {
	// JKT is the RFC 7638 SHA-256 thumbprint of the client's DPoP public key, base64url
	// (RFC 9449 §6.1).
	JKT string `json:"jkt,omitempty"`
	// X5TS256 is the base64url SHA-256 thumbprint of the DER client certificate the token was
	// issued over mutual TLS to (RFC 8705 §3.1).
	X5TS256 string `json:"x5t#S256,omitempty"`
}

// ID is the ID token (typ JWT).
type ID struct {
	Issuer          string   `json:"iss"`
	Subject         string   `json:"sub"`
	Audience        Audience `json:"aud"`
	AuthorizedParty string   `json:"azp"`
	IssuedAt        int64    `json:"iat"`
	Expiry          int64    `json:"exp"`
	AuthTime        *int64   `json:"auth_time,omitempty"`
	Nonce           string   `json:"nonce,omitempty"`
	SessionID       string   `json:"sid,omitempty"`
	AccessTokenHash string   `json:"at_hash,omitempty"`
	Person
}

// UserInfo is the userinfo answer: the subject and the identity part of its access token.
type UserInfo struct {
	Subject string `json:"sub"`
	Person
}

// Act is the RFC 8693 actor claim: who acts for the subject. A delegate names themselves
// (sub, fiscal_number) and the delegation; a service that exchanged the token names itself
// (sub and client_id) and nests the actor before it.
type Act struct {
	Subject      string      `json:"sub"`
	FiscalNumber string      `json:"fiscal_number,omitempty"`
	ClientID     string      `json:"client_id,omitempty"`
	Delegation   *Delegation `json:"delegation,omitempty"`
	Act          *Act        `json:"act,omitempty"`
}

// Depth is the number of actors in the chain (0 for none); it stops counting past limit.
func (a *Act) Depth(limit int) int {
	n := 0
	for ; a != nil && n <= limit; a = a.Act {
		n++
	}
	return n
}

// Delegation is the delegation a delegate acts under.
type Delegation struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	// ExpiresAt is a Unix time, null for a delegation without an end.
	ExpiresAt *int64 `json:"expires_at"`
}

// Audience is the aud claim: written as an array, read as an array or a single string.
type Audience []string

// UnmarshalJSON accepts a string or an array of strings.
func (a *Audience) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*a = nil
		return nil
	}
	var one string
	if json.Unmarshal(b, &one) == nil {
		*a = Audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("claims: aud is neither a string nor an array of strings")
	}
	*a = many
	return nil
}
