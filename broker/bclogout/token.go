package bclogout

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Event is the member of the events claim that makes a JWT a logout token.
const Event = "http://schemas.openid.net/event/backchannel-logout"

// TokenType is the typ header of a logout token.
const TokenType = "logout+jwt"

// DefaultAlg signs the logout tokens of a Logout that names no algorithm.
const DefaultAlg = jose.ES256

// Signer signs a logout token's claims as a compact JWS with alg (the one the client's ID
// tokens use: a relying party verifies both alike) and a header carrying typ. The broker's
// key ring is one (keys.Ring.Sign, through SignerFunc).
type Signer interface {
	Sign(ctx context.Context, alg jose.SignatureAlgorithm, typ string, payload []byte) (string, error)
}

// SignerFunc adapts a function to Signer.
type SignerFunc func(ctx context.Context, alg jose.SignatureAlgorithm, typ string, payload []byte) (string, error)

// Sign implements Signer.
func (f SignerFunc) Sign(ctx context.Context, alg jose.SignatureAlgorithm, typ string, payload []byte) (string, error) {
	return f(ctx, alg, typ, payload)
}

// KeySigner is a Signer over one key (a test key, or a deployment with one signing key).
type KeySigner struct {
	Alg jose.SignatureAlgorithm
	Key crypto.Signer
	// KeyID is the kid of the key in the issuer's JWKS.
	KeyID string
}

// Sign implements Signer; an alg other than the key's is an error.
func (s KeySigner) Sign(_ context.Context, alg jose.SignatureAlgorithm, typ string, payload []byte) (string, error) {
	if alg != s.Alg {
		return "", fmt.Errorf("bclogout: the key signs %s, not %s", s.Alg, alg)
	}
	sg, err := jose.NewSigner(jose.SigningKey{Algorithm: s.Alg, Key: jose.JSONWebKey{Key: s.Key, KeyID: s.KeyID}},
		(&jose.SignerOptions{}).WithType(jose.ContentType(typ)))
	if err != nil {
		return "", err
	}
	jws, err := sg.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

// Logout is one logout to deliver to one client.
type Logout struct {
	// ClientID is the relying party, the token's aud.
	ClientID string `json:"client_id"`
	// URI is the client's backchannel_logout_uri.
	URI string `json:"uri"`
	// Subject is the sub the client knows the person by; SessionID the sid of the session
	// that ended. At least one is required; a client registered with
	// backchannel_logout_session_required needs SessionID.
	Subject   string `json:"sub,omitempty"`
	SessionID string `json:"sid,omitempty"`
	// Alg is the algorithm of the client's ID tokens, which its logout tokens use too
	// (default DefaultAlg).
	Alg jose.SignatureAlgorithm `json:"alg,omitempty"`
}

// check validates l; allowHTTP accepts http:// URIs (dev mode).
func (l Logout) check(allowHTTP bool) error {
	if l.ClientID == "" {
		return errors.New("bclogout: a client_id is required")
	}
	if l.Subject == "" && l.SessionID == "" {
		return errors.New("bclogout: a logout token names a sub, a sid or both")
	}
	u, err := url.Parse(l.URI)
	if err != nil || u.Host == "" || u.Fragment != "" || u.User != nil || (u.Scheme != "https" && !(allowHTTP && u.Scheme == "http")) {
		return fmt.Errorf("bclogout: backchannel_logout_uri %q is not an absolute https URL without fragment", l.URI)
	}
	return nil
}

// Claims are the logout token's claims for l, issued by issuer at now, valid for ttl.
func Claims(issuer string, l Logout, jti string, now time.Time, ttl time.Duration) map[string]any {
	c := map[string]any{
		"iss":    issuer,
		"aud":    l.ClientID,
		"iat":    now.Unix(),
		"exp":    now.Add(ttl).Unix(),
		"jti":    jti,
		"events": map[string]any{Event: map[string]any{}},
	}
	if l.Subject != "" {
		c["sub"] = l.Subject
	}
	if l.SessionID != "" {
		c["sid"] = l.SessionID
	}
	return c
}

// Token signs the logout token for l.
func Token(ctx context.Context, s Signer, issuer string, l Logout, jti string, now time.Time, ttl time.Duration) (string, error) {
	b, err := json.Marshal(Claims(issuer, l, jti, now, ttl))
	if err != nil {
		return "", err
	}
	alg := l.Alg
	if alg == "" {
		alg = DefaultAlg
	}
	tok, err := s.Sign(ctx, alg, TokenType, b)
	if err != nil {
		return "", fmt.Errorf("bclogout: sign: %w", err)
	}
	return tok, nil
}
