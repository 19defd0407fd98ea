package oidcfed

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// TypeEntityStatement is the JOSE typ of every entity statement (OpenID Federation 1.0 §3).
const TypeEntityStatement = "entity-statement+jwt"

// ContentTypeEntityStatement is the media type of an entity statement answer.
const ContentTypeEntityStatement = "application/entity-statement+jwt"

// maxStatementSize bounds a statement read from the network (bytes).
const maxStatementSize = 64 << 10

// SignatureAlgs are the signature algorithms accepted on anything the federation signs: the
// RSA and ECDSA algorithms of the SPID/CIE OIDC profile. Never none, never HMAC.
var SignatureAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.RS512, jose.PS256, jose.PS512, jose.ES256, jose.ES512}

// Entity types of metadata.
const (
	EntityOP        = "openid_provider"
	EntityRP        = "openid_relying_party"
	EntityFederated = "federation_entity"
)

// Errors of statements and chains; each refusal wraps one of them.
var (
	// ErrMalformed: not a compact JWS with the claims an entity statement must have.
	ErrMalformed = errors.New("oidcfed: malformed entity statement")
	// ErrSignature: the signature does not verify with the keys that must have made it.
	ErrSignature = errors.New("oidcfed: entity statement signature not valid")
	// ErrExpired: exp is past, or iat is in the future.
	ErrExpired = errors.New("oidcfed: entity statement not valid now")
	// ErrNoChain: no trust chain reaches a configured trust anchor.
	ErrNoChain = errors.New("oidcfed: no trust chain to a configured trust anchor")
	// ErrPolicy: a metadata policy is broken or the metadata violates it.
	ErrPolicy = errors.New("oidcfed: metadata policy violation")
	// ErrTrustMark: a trust mark the profile asks for is missing or not valid.
	ErrTrustMark = errors.New("oidcfed: trust mark not valid")
)

// TrustMarkRef is a trust mark as an entity configuration carries it.
type TrustMarkRef struct {
	ID        string `json:"id,omitempty"`
	Type      string `json:"trust_mark_type,omitempty"`
	TrustMark string `json:"trust_mark"`
}

// TypeID is the trust mark's identifier (trust_mark_type, or the older id).
func (t TrustMarkRef) TypeID() string {
	if t.Type != "" {
		return t.Type
	}
	return t.ID
}

// Constraints are a superior's limits on the chain below it.
type Constraints struct {
	MaxPathLength *int `json:"max_path_length,omitempty"`
}

// Policy is a metadata policy: entity type → parameter → operator → value.
type Policy map[string]map[string]map[string]any

// Statement is a decoded entity statement: an entity configuration (iss = sub) or a
// subordinate statement issued by a superior (iss ≠ sub).
type Statement struct {
	Issuer         string                    `json:"iss"`
	Subject        string                    `json:"sub"`
	IssuedAt       int64                     `json:"iat"`
	Expires        int64                     `json:"exp"`
	JWKS           *jose.JSONWebKeySet       `json:"jwks"`
	AuthorityHints []string                  `json:"authority_hints,omitempty"`
	Metadata       map[string]map[string]any `json:"metadata,omitempty"`
	MetadataPolicy Policy                    `json:"metadata_policy,omitempty"`
	TrustMarks     []TrustMarkRef            `json:"trust_marks,omitempty"`
	Constraints    *Constraints              `json:"constraints,omitempty"`
	// TrustMarkIssuers (trust anchors): trust mark type → the entities that may issue it.
	TrustMarkIssuers map[string][]string `json:"trust_mark_issuers,omitempty"`

	// Raw is the compact JWS the statement was parsed from.
	Raw string `json:"-"`
	jws *jose.JSONWebSignature
}

// Configuration reports whether the statement is an entity configuration (about itself).
func (s *Statement) Configuration() bool { return s.Issuer == s.Subject }

// ExpiresAt is exp as a time.
func (s *Statement) ExpiresAt() time.Time { return time.Unix(s.Expires, 0) }

// ParseStatement decodes raw as an entity statement and checks what needs no key: a compact
// JWS with one signature of an allowed algorithm, typ entity-statement+jwt, a kid, the claims
// iss, sub, iat, exp and jwks (every key with a kid), entity identifiers that are URLs, and
// validity at now (iat not later than now+skew, exp later than now-skew). The signature is not
// checked: VerifyWith does that with the keys that must have made it.
func ParseStatement(raw string, now time.Time, skew time.Duration) (*Statement, error) {
	if len(raw) > maxStatementSize {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrMalformed, len(raw), maxStatementSize)
	}
	jws, err := jose.ParseSignedCompact(raw, SignatureAlgs)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if len(jws.Signatures) != 1 {
		return nil, fmt.Errorf("%w: %d signatures", ErrMalformed, len(jws.Signatures))
	}
	h := jws.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != TypeEntityStatement {
		return nil, fmt.Errorf("%w: typ %q, want %q", ErrMalformed, typ, TypeEntityStatement)
	}
	if h.KeyID == "" {
		return nil, fmt.Errorf("%w: no kid in the header", ErrMalformed)
	}
	s := &Statement{Raw: raw, jws: jws}
	if err := json.Unmarshal(jws.UnsafePayloadWithoutVerification(), s); err != nil {
		return nil, fmt.Errorf("%w: claims: %w", ErrMalformed, err)
	}
	switch {
	case s.Issuer == "" || s.Subject == "":
		return nil, fmt.Errorf("%w: iss and sub are required", ErrMalformed)
	case s.IssuedAt == 0 || s.Expires == 0:
		return nil, fmt.Errorf("%w: iat and exp are required", ErrMalformed)
	case s.JWKS == nil || len(s.JWKS.Keys) == 0:
		return nil, fmt.Errorf("%w: jwks is required and not empty", ErrMalformed)
	}
	for _, id := range append([]string{s.Issuer, s.Subject}, s.AuthorityHints...) {
		if err := checkEntityID(id); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
	}
	for i, k := range s.JWKS.Keys {
		if k.KeyID == "" {
			return nil, fmt.Errorf("%w: jwks key %d has no kid", ErrMalformed, i)
		}
		if !k.IsPublic() {
			return nil, fmt.Errorf("%w: jwks key %s is not a public key", ErrMalformed, k.KeyID)
		}
	}
	if iat := time.Unix(s.IssuedAt, 0); iat.After(now.Add(skew)) {
		return nil, fmt.Errorf("%w: %s issued in the future (iat %s)", ErrExpired, s.Subject, iat.UTC().Format(time.RFC3339))
	}
	if exp := s.ExpiresAt(); !exp.After(now.Add(-skew)) {
		return nil, fmt.Errorf("%w: statement by %s about %s expired at %s", ErrExpired, s.Issuer, s.Subject, exp.UTC().Format(time.RFC3339))
	}
	return s, nil
}

// checkEntityID refuses an entity identifier that is not an absolute http(s) URL without
// query or fragment.
func checkEntityID(id string) error {
	u, err := url.Parse(id)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("entity identifier %q is not an http(s) URL without query or fragment", id)
	}
	return nil
}

// VerifyWith checks the statement's signature with the key of keys its kid names.
func (s *Statement) VerifyWith(keys *jose.JSONWebKeySet) error {
	kid := s.jws.Signatures[0].Protected.KeyID
	if keys == nil {
		return fmt.Errorf("%w: no keys to verify %s", ErrSignature, s.Subject)
	}
	found := keys.Key(kid)
	if len(found) == 0 {
		return fmt.Errorf("%w: statement by %s about %s signed with key %q, not among the keys that may sign it", ErrSignature, s.Issuer, s.Subject, kid)
	}
	for _, k := range found {
		if _, err := s.jws.Verify(k); err == nil {
			return nil
		}
	}
	return fmt.Errorf("%w: statement by %s about %s does not verify with key %q", ErrSignature, s.Issuer, s.Subject, kid)
}

// VerifySelf checks an entity configuration's signature with its own jwks.
func (s *Statement) VerifySelf() error {
	if !s.Configuration() {
		return fmt.Errorf("%w: iss %s and sub %s differ in an entity configuration", ErrMalformed, s.Issuer, s.Subject)
	}
	return s.VerifyWith(s.JWKS)
}

// MetadataString is the string parameter name of the entity type's metadata, "" when absent.
func (s *Statement) MetadataString(entityType, name string) string {
	v, _ := s.Metadata[entityType][name].(string)
	return v
}
