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

// Signer signs a logout token's claims as a compact JWS whose header carries typ.
type Signer interface {
	Sign(ctx context.Context, typ string, payload []byte) (string, error)
}

// KeySigner is a Signer over one key (the broker's current ID-token key, or a test key).
type KeySigner struct {
	Alg jose.SignatureAlgorithm
	Key crypto.Signer
	// KeyID is the kid of the key in the issuer's JWKS.
	KeyID string
}

// Sign implements Signer.
func (s KeySigner) Sign(_ context.Context, typ string, payload []byte) (string, error) {
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
	tok, err := s.Sign(ctx, TokenType, b)
	if err != nil {
		return "", fmt.Errorf("bclogout: sign: %w", err)
	}
	return tok, nil
}
