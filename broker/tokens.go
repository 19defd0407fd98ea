package broker

import (
	"bytes"
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

	"github.com/inps/sportello/broker/grants"
	"github.com/inps/sportello/broker/keys"
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

// identityClaims returns the token-contract claims of a grant for the given scopes.
func identityClaims(g *grants.Grant, scopes []string, extra []string) map[string]any {
	c := map[string]any{}
	id := g.Identity
	if id == nil {
		return c
	}
	has := func(s string) bool { return slices.Contains(scopes, s) || slices.Contains(extra, s) }
	c["acr"] = id.ACR
	c["amr"] = id.AMR
	c["auth_method"] = id.Method
	if id.SPIDIdP != "" {
		c["spid_idp"] = id.SPIDIdP
	}
	if id.PINType != "" {
		c["pin_type"] = id.PINType
	}
	if len(id.Entitlements) > 0 {
		c["entitlements"] = id.Entitlements
	}
	if has("fiscal_number") {
		c["fiscal_number"] = id.FiscalNumber
	}
	if has("profile") || has("given_name") {
		setIf(c, "given_name", id.GivenName)
	}
	if has("profile") || has("family_name") {
		setIf(c, "family_name", id.FamilyName)
	}
	if has("profile") || has("birthdate") {
		setIf(c, "birthdate", id.Birthdate)
	}
	if has("email") {
		setIf(c, "email", id.Email)
	}
	if has("phone") || has("phone_number") {
		setIf(c, "phone_number", id.PhoneNumber)
	}
	if g.Act != nil {
		c["act"] = g.Act
	}
	return c
}

func setIf(m map[string]any, k, v string) {
	if v != "" {
		m[k] = v
	}
}

// signJWT signs claims with the active key of alg and header typ.
func (b *Broker) signJWT(alg jose.SignatureAlgorithm, typ string, claims map[string]any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	return b.keys.Sign(alg, typ, payload)
}

// errInvalidToken covers every reason a presented token is not acceptable.
var errInvalidToken = keys.ErrInvalid

// verifyJWT checks a token signed by this issuer: signature by a published key, typ, issuer
// and expiry. It returns the claims.
func (b *Broker) verifyJWT(tok, wantTyp string) (map[string]any, error) {
	claims, err := b.verifySignatureOnly(tok, wantTyp)
	if err != nil {
		return nil, err
	}
	exp, ok := numericClaim(claims, "exp")
	if !ok || !b.now().Before(time.Unix(exp, 0)) {
		return nil, fmt.Errorf("%w: expired", errInvalidToken)
	}
	return claims, nil
}

// verifySignatureOnly checks signature, typ and issuer, not expiry.
func (b *Broker) verifySignatureOnly(tok, wantTyp string) (map[string]any, error) {
	payload, err := b.keys.Verify(tok, wantTyp)
	if err != nil {
		return nil, err
	}
	var claims map[string]any
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&claims); err != nil {
		return nil, errInvalidToken
	}
	if iss, _ := claims["iss"].(string); iss != b.issuer {
		return nil, fmt.Errorf("%w: issuer", errInvalidToken)
	}
	return claims, nil
}

func numericClaim(c map[string]any, k string) (int64, bool) {
	switch v := c[k].(type) {
	case json.Number:
		n, err := v.Int64()
		return n, err == nil
	case float64:
		return int64(v), true
	case int64:
		return v, true
	}
	return 0, false
}

// atOptions are what a caller fixes of an access token.
type atOptions struct {
	// jti is used as is when set (the code flow records it before issuing).
	jti string
	// family is the refresh family of the grant, carried as grant_id so that revoking the
	// family (RFC 7009, reuse detection, a replayed code) stops the access tokens too.
	family string
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
	claims := identityClaims(g, g.Scopes, nil)
	claims["iss"] = b.issuer
	claims["sub"] = g.Subject
	claims["aud"] = []string{b.accessAud}
	claims["client_id"] = cl.id
	claims["iat"] = now.Unix()
	claims["exp"] = exp.Unix()
	claims["jti"] = jti
	claims["scope"] = strings.Join(g.Scopes, " ")
	if g.Identity != nil {
		claims["auth_time"] = g.Identity.AuthTime.Unix()
	}
	if g.SessionID != "" {
		claims["sid"] = g.SessionID
	}
	if o.family != "" {
		claims["grant_id"] = o.family
	}
	tok, err = b.signJWT(cl.alg, keys.TypAccessToken, claims)
	return tok, jti, exp, err
}

// idToken builds and signs an ID token.
func (b *Broker) idToken(cl *Client, g *grants.Grant, accessTok string, now time.Time) (string, error) {
	claims := identityClaims(g, g.Scopes, g.IDTokenClaims)
	claims["iss"] = b.issuer
	claims["sub"] = g.Subject
	claims["aud"] = []string{cl.id}
	claims["azp"] = cl.id
	claims["iat"] = now.Unix()
	claims["exp"] = now.Add(b.cfg.Tokens.IDTTL).Unix()
	if g.Identity != nil {
		claims["auth_time"] = g.Identity.AuthTime.Unix()
	}
	if g.Nonce != "" {
		claims["nonce"] = g.Nonce
	}
	if g.SessionID != "" {
		claims["sid"] = g.SessionID
	}
	if accessTok != "" {
		claims["at_hash"] = atHash(accessTok, cl.alg)
	}
	return b.signJWT(cl.alg, keys.TypIDToken, claims)
}

// atHash is the OIDC at_hash: the left half of the SHA-256 digest (both ES256 and RS256 use
// SHA-256).
func atHash(tok string, _ jose.SignatureAlgorithm) string {
	sum := sha256.Sum256([]byte(tok))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}
