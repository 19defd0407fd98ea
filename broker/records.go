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

	"github.com/inps/sportello/broker/grants"
)

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

// issueWithFamily creates a token response: access token (with jti when given, bound to the
// DPoP key of thumbprint jkt when given), ID token (scope openid) and a refresh token of the
// family (scope offline_access and the refresh grant allowed).
func (b *Broker) issueWithFamily(ctx context.Context, cl *Client, g *grants.Grant, familyID string, familyExp, now time.Time, withID bool, jti, jkt string) (*oidc.AccessTokenResponse, string, error) {
	at, jti, exp, err := b.accessToken(cl, g, now, atOptions{jti: jti, family: familyID, jkt: jkt})
	if err != nil {
		return nil, "", errServer(err)
	}
	resp := &oidc.AccessTokenResponse{
		AccessToken: at,
		TokenType:   tokenType(jkt),
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
		rt, err := b.grants.IssueRefresh(ctx, g, familyID, familyExp, now)
		if err != nil {
			return nil, "", issueError(err)
		}
		resp.RefreshToken = rt
	}
	return resp, jti, nil
}

// issueError maps a failure to issue a refresh token: the random source (500) or the store
// (503, retry later).
func issueError(err error) error {
	if errors.Is(err, grants.ErrRandom) {
		return errServer(err)
	}
	return storeError(err)
}
