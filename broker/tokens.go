package broker

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/inps/sportello/broker/claims"
	"github.com/inps/sportello/broker/grants"
	"github.com/inps/sportello/broker/keys"
	"github.com/inps/sportello/providers"
)

// subjectFor derives the sub claim: HMAC-SHA256 of the fiscal code under the subject key, so
// the same person has the same sub whatever credential they use, and the fiscal code cannot
// be recovered from it without the key.
func subjectFor(key []byte, fiscalNumber string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("sportello/sub/v1:"))
	m.Write([]byte(strings.ToUpper(fiscalNumber)))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// subjectOf is the sub of an identity: its fiscal code's (subjectFor); for a foreign eIDAS
// identity without one, HMAC-SHA256 of its PersonIdentifier under the subject key, prefixed
// "sportello/sub/eidas/v1:" — an input no fiscal-code subject can have (theirs all begin
// "sportello/sub/v1:"), so the two never collide.
func subjectOf(key []byte, id *providers.Identity) string {
	if id.FiscalNumber != "" || id.PersonIdentifier == "" {
		return subjectFor(key, id.FiscalNumber)
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte("sportello/sub/eidas/v1:"))
	m.Write([]byte(id.PersonIdentifier))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// randomToken returns n random bytes, base64url-encoded.
func randomToken(r io.Reader, n int) (string, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// tokenHash is the store key part for an opaque token: the store never holds a usable token.
func tokenHash(tok string) string { return grants.TokenHash(tok) }

// person returns the token-contract claims of a grant's identity for the given scopes (and
// the claims the claims parameter asked for, extra): the login always, the rest as released.
func person(g *grants.Grant, scopes []string, extra []string) claims.Person {
	var p claims.Person
	id := g.Identity
	if id == nil {
		return p
	}
	has := func(s string) bool { return slices.Contains(scopes, s) || slices.Contains(extra, s) }
	p.Login = &claims.Login{ACR: id.ACR, AMR: id.AMR, AuthMethod: id.Method, SPIDIdP: id.SPIDIdP, CIEChannel: id.CIEChannel,
		SPIDOP: id.SPIDOP, CIEOP: id.CIEOP, EIDASCountry: id.EIDASCountry, PINType: id.PINType}
	if len(id.Entitlements) > 0 {
		p.Entitlements = id.Entitlements
	}
	if has("fiscal_number") {
		p.FiscalNumber = id.FiscalNumber // absent (omitempty) for an unlinked eIDAS identity
	}
	if has("profile") || has("given_name") {
		p.GivenName = id.GivenName
	}
	if has("profile") || has("family_name") {
		p.FamilyName = id.FamilyName
	}
	if has("profile") || has("birthdate") {
		p.Birthdate = id.Birthdate
	}
	if has("email") {
		p.Email = id.Email
	}
	if has("phone") || has("phone_number") {
		p.PhoneNumber = id.PhoneNumber
	}
	p.Act = g.Act
	return p
}

// authTime is the auth_time claim of a grant: its login's, none for a client's own token.
func authTime(g *grants.Grant) *int64 {
	if g.Identity == nil {
		return nil
	}
	t := g.Identity.AuthTime.Unix()
	return &t
}

// signJWT signs claims with the active key of alg and header typ.
func (b *Broker) signJWT(alg jose.SignatureAlgorithm, typ string, c any) (string, error) {
	payload, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	return b.keys.Sign(alg, typ, payload)
}

// errInvalidToken covers every reason a presented token is not acceptable.
var errInvalidToken = keys.ErrInvalid

// verifyAccessToken checks an access token signed by this issuer: signature by a published
// key, typ at+jwt, issuer and expiry. It returns the claims.
func (b *Broker) verifyAccessToken(tok string) (*claims.Access, error) {
	var c claims.Access
	if err := b.verifySigned(tok, keys.TypAccessToken, &c, func() string { return c.Issuer }); err != nil {
		return nil, err
	}
	if !b.now().Before(time.Unix(c.Expiry, 0)) {
		return nil, fmt.Errorf("%w: expired", errInvalidToken)
	}
	return &c, nil
}

// verifySigned checks signature, typ and issuer (not expiry) and decodes the claims into v;
// iss reads the decoded issuer.
func (b *Broker) verifySigned(tok, wantTyp string, v any, iss func() string) error {
	payload, err := b.keys.Verify(tok, wantTyp)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(payload, v); err != nil {
		return errInvalidToken
	}
	if iss() != b.issuer {
		return fmt.Errorf("%w: issuer", errInvalidToken)
	}
	return nil
}

// atOptions are what a caller fixes of an access token.
type atOptions struct {
	// jti is used as is when set (the code flow records it before issuing).
	jti string
	// family is the refresh family of the grant, carried as grant_id so that revoking the
	// family (RFC 7009, reuse detection, a replayed code) stops the access tokens too.
	family string
	// jkt binds the token to the DPoP key of this thumbprint (cnf.jkt, RFC 9449 §6.1).
	jkt string
}

// accessToken builds and signs an RFC 9068 access token. Its aud is the resource
// (tokens.access_audience), never the client: the client id goes in client_id, so an access
// token can never pass for the client's ID token (RFC 9068 §5).
func (b *Broker) accessToken(cl *Client, g *grants.Grant, now time.Time, o atOptions) (tok, jti string, exp time.Time, err error) {
	jti = o.jti
	if jti == "" {
		if jti, err = randomToken(b.rand, 16); err != nil {
			return "", "", time.Time{}, err
		}
	}
	exp = now.Add(b.cfg.Tokens.AccessTTL)
	c := b.accessClaims(cl, g, now, exp, jti, o.family)
	if o.jkt != "" { // DPoP (RFC 9449 §6.1), beside a certificate binding when there is one
		if c.Confirmation == nil {
			c.Confirmation = &claims.Confirmation{}
		}
		c.Confirmation.JKT = o.jkt
	}
	tok, err = b.signJWT(cl.alg, keys.TypAccessToken, c)
	return tok, jti, exp, err
}

// accessClaims are the claims of an access token for grant g.
func (b *Broker) accessClaims(cl *Client, g *grants.Grant, now, exp time.Time, jti, family string) *claims.Access {
	var cnf *claims.Confirmation
	if g.CertThumbprint != "" {
		cnf = &claims.Confirmation{X5TS256: g.CertThumbprint}
	}
	return &claims.Access{
		Confirmation: cnf,
		Issuer:       b.issuer,
		Subject:      g.Subject,
		Audience:     claims.Audience{b.accessAud},
		ClientID:     cl.id,
		Scope:        strings.Join(g.Scopes, " "),
		IssuedAt:     now.Unix(),
		Expiry:       exp.Unix(),
		JTI:          jti,
		AuthTime:     authTime(g),
		SessionID:    g.SessionID,
		GrantID:      family,
		Person:       person(g, g.Scopes, nil),
	}
}

// idToken builds and signs an ID token.
func (b *Broker) idToken(cl *Client, g *grants.Grant, accessTok string, now time.Time) (string, error) {
	return b.signJWT(cl.alg, keys.TypIDToken, b.idClaims(cl, g, accessTok, now))
}

// idClaims are the claims of an ID token for grant g (at_hash of accessTok, when one).
func (b *Broker) idClaims(cl *Client, g *grants.Grant, accessTok string, now time.Time) *claims.ID {
	c := &claims.ID{
		Issuer:          b.issuer,
		Subject:         g.Subject,
		Audience:        claims.Audience{cl.id},
		AuthorizedParty: cl.id,
		IssuedAt:        now.Unix(),
		Expiry:          now.Add(b.cfg.Tokens.IDTTL).Unix(),
		AuthTime:        authTime(g),
		Nonce:           g.Nonce,
		SessionID:       g.SessionID,
		Person:          person(g, g.Scopes, g.IDTokenClaims),
	}
	if accessTok != "" {
		c.AccessTokenHash = atHash(accessTok, cl.alg)
	}
	return c
}

// atHash is the OIDC at_hash: the left half of the SHA-256 digest (both ES256 and RS256 use
// SHA-256).
func atHash(tok string, _ jose.SignatureAlgorithm) string {
	sum := sha256.Sum256([]byte(tok))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}
