package broker

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/inps/sportello/internal/store"
)

// codeRecord is an authorization code's state (key "code:<hash>"): issued, then taken by a
// token request (Redeemed), then answered (only Answered is left). See CodeExchange.
type codeRecord struct {
	Grant               Grant     `json:"grant,omitzero"`
	RedirectURI         string    `json:"redirect_uri,omitempty"`
	CodeChallenge       string    `json:"code_challenge,omitempty"`
	CodeChallengeMethod string    `json:"code_challenge_method,omitempty"`
	ExpiresAt           time.Time `json:"exp,omitzero"`
	// Redeemed is the token request under way, or the last one that sent no answer.
	Redeemed *codeRedemption `json:"redeemed,omitempty"`
	// Answered is what the answered redemption issued: revoked if the code comes back.
	Answered *usedCode `json:"answered,omitempty"`
}

// codeRedemption is one attempt at redeeming a code, its tokens chosen before they are issued.
type codeRedemption struct {
	usedCode
	Attempt string `json:"attempt"`
	// At is the first redemption of the code: retries never extend the window.
	At time.Time `json:"at"`
}

// usedCode is what a redemption of a code issues: the refresh family and the access token.
// (Versions before the retry window kept it under "codeused:<hash>".)
type usedCode struct {
	FamilyID  string    `json:"family"`
	JTI       string    `json:"jti"`
	AccessExp time.Time `json:"access_exp"`
}

// refreshRecord is one refresh token of a family (key "rt:<hash>"). Rotation marks it used
// ("rtused:<hash>"); the family's revocation flag is "rtf:<family>".
type refreshRecord struct {
	Grant     Grant     `json:"grant"`
	FamilyID  string    `json:"family"`
	FamilyExp time.Time `json:"family_exp"`
	IssuedAt  time.Time `json:"iat"`
}

func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plain structs are marshalled here
	}
	return b
}

func unmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// checkPKCE enforces RFC 7636: S256 only; required for public clients; when a challenge was
// sent, the verifier must match.
func checkPKCE(challenge, method, verifier string, public bool) error {
	if challenge == "" {
		if public {
			return oidc.ErrInvalidGrant().WithDescription("PKCE is required for public clients")
		}
		if verifier != "" {
			return oidc.ErrInvalidGrant().WithDescription("code_verifier sent but no code_challenge was")
		}
		return nil
	}
	if method != string(oidc.CodeChallengeMethodS256) {
		return oidc.ErrInvalidGrant().WithDescription("unsupported code_challenge_method")
	}
	if verifier == "" {
		return oidc.ErrInvalidGrant().WithDescription("code_verifier missing")
	}
	if !validCodeVerifier(verifier) {
		return oidc.ErrInvalidGrant().WithDescription("malformed code_verifier: 43 to 128 unreserved characters (RFC 7636)")
	}
	sum := sha256.Sum256([]byte(verifier))
	got := base64.RawURLEncoding.EncodeToString(sum[:])
	if subtle.ConstantTimeCompare([]byte(got), []byte(challenge)) != 1 {
		return oidc.ErrInvalidGrant().WithDescription("code_verifier does not match code_challenge")
	}
	return nil
}

func (b *Broker) familyRevoked(ctx context.Context, family string) (bool, error) {
	_, err := b.store.Get(ctx, familyRevokedKey(family))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// revokeFamily marks a refresh family revoked: its refresh tokens, and the access tokens that
// carry it as grant_id, stop at once. The mark outlives both (refresh_ttl, access_ttl).
func (b *Broker) revokeFamily(ctx context.Context, family, reason string) error {
	if family == "" {
		return nil
	}
	ttl := max(b.cfg.Tokens.RefreshTTL, b.cfg.Tokens.AccessTTL) + time.Hour
	if err := b.store.Put(ctx, familyRevokedKey(family), []byte(reason), ttl); err != nil {
		b.log.ErrorContext(ctx, "cannot revoke refresh family", "error", err)
		return err
	}
	return nil
}

// denyAccessToken puts one access token on the deny list until it expires.
func (b *Broker) denyAccessToken(ctx context.Context, jti string, exp time.Time) error {
	ttl := exp.Sub(b.now())
	if jti == "" || ttl <= 0 {
		return nil
	}
	if err := b.store.Put(ctx, deniedAccessKey(jti), []byte("1"), ttl+time.Minute); err != nil {
		b.log.ErrorContext(ctx, "cannot revoke access token", "error", err)
		return err
	}
	return nil
}

// accessTokenRevoked reports whether an access token presented back to the broker (verified
// already) was revoked: by itself (its jti on the deny list) or with its grant (grant_id, the
// refresh family). A client_credentials token has no grant_id: one lookup.
func (b *Broker) accessTokenRevoked(ctx context.Context, claims map[string]any) (bool, error) {
	_, err := b.store.Get(ctx, deniedAccessKey(stringClaim(claims, "jti")))
	if err == nil {
		return true, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return false, err
	}
	if family := stringClaim(claims, "grant_id"); family != "" {
		return b.familyRevoked(ctx, family)
	}
	return false, nil
}

// issueWithFamily creates a token response: access token (with jti when given), ID token
// (scope openid) and a refresh token of the family (scope offline_access and the refresh
// grant allowed).
func (b *Broker) issueWithFamily(ctx context.Context, cl *Client, g *Grant, familyID string, familyExp, now time.Time, withID bool, jti string) (*oidc.AccessTokenResponse, string, error) {
	at, jti, exp, err := b.accessToken(cl, g, now, atOptions{jti: jti, family: familyID})
	if err != nil {
		return nil, "", errServer(err)
	}
	resp := &oidc.AccessTokenResponse{
		AccessToken: at,
		TokenType:   oidc.BearerToken,
		ExpiresIn:   uint64(exp.Sub(now) / time.Second),
		Scope:       g.Scopes,
	}
	if withID && slices.Contains(g.Scopes, oidc.ScopeOpenID) {
		idt, err := b.idToken(cl, g, at, now)
		if err != nil {
			return nil, "", errServer(err)
		}
		resp.IDToken = idt
	}
	if slices.Contains(g.Scopes, oidc.ScopeOfflineAccess) && cl.allowsGrant(oidc.GrantTypeRefreshToken) && now.Before(familyExp) {
		rt, err := randomToken(b.rand, 32)
		if err != nil {
			return nil, "", errServer(err)
		}
		rec := refreshRecord{Grant: *g, FamilyID: familyID, FamilyExp: familyExp, IssuedAt: now}
		if err := b.store.Put(ctx, refreshKey(tokenHash(rt)), mustMarshal(rec), familyExp.Sub(now)); err != nil {
			return nil, "", storeError(err)
		}
		resp.RefreshToken = rt
	}
	return resp, jti, nil
}
