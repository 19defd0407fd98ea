package broker

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/inps/sportello/broker/store"
)

// Introspect answers RFC 7662 introspection, only for clients allowed to introspect. Access
// tokens are verified (signature, expiry, revocation); refresh tokens are looked up.
func (b *Broker) Introspect(ctx context.Context, r *op.Request[op.IntrospectionRequest]) (*op.Response, error) {
	c, err := b.VerifyClient(ctx, &op.Request[op.ClientCredentials]{Method: r.Method, URL: r.URL, Header: r.Header, Form: r.Form, Data: r.Data.ClientCredentials})
	if err != nil {
		return nil, err
	}
	cl := b.clientFor(c)
	if !cl.introspect {
		return nil, op.NewStatusError(oidc.ErrUnauthorizedClient().WithDescription("client may not introspect"), http.StatusForbidden)
	}
	inactive := op.NewResponse(map[string]any{"active": false})
	tok := r.Data.IntrospectionRequest.Token
	if claims, err := b.verifyJWT(tok, typAccessToken); err == nil {
		jti, _ := claims["jti"].(string)
		revoked, err := b.accessTokenRevoked(ctx, jti)
		if err != nil {
			return nil, storeError(err)
		}
		if revoked {
			return inactive, nil
		}
		if hold, err := b.tokenDelegationsHold(ctx, claims); err != nil {
			return nil, storeError(err)
		} else if !hold {
			return inactive, nil
		}
		claims["active"] = true
		claims["token_type"] = "Bearer"
		return op.NewResponse(claims), nil
	}
	raw, err := b.store.Get(ctx, "rt:"+tokenHash(tok))
	if errors.Is(err, store.ErrNotFound) {
		return inactive, nil
	} else if err != nil {
		return nil, storeError(err)
	}
	var rec refreshRecord
	if unmarshal(raw, &rec) != nil {
		return inactive, nil
	}
	if revoked, err := b.familyRevoked(ctx, rec.FamilyID); err != nil {
		return nil, storeError(err)
	} else if revoked || !b.now().Before(rec.FamilyExp) {
		return inactive, nil
	}
	if _, err := b.store.Get(ctx, "rtused:"+tokenHash(tok)); err == nil {
		return inactive, nil
	}
	if err := b.checkGrantStillValid(ctx, &rec.Grant); errors.Is(err, errDelegationEnded) {
		return inactive, nil
	} else if err != nil {
		return nil, storeError(err)
	}
	return op.NewResponse(map[string]any{
		"active":     true,
		"token_type": "refresh_token",
		"client_id":  rec.Grant.ClientID,
		"sub":        rec.Grant.Subject,
		"scope":      scopeString(rec.Grant.Scopes),
		"exp":        rec.FamilyExp.Unix(),
		"iat":        rec.IssuedAt.Unix(),
		"iss":        b.issuer,
	}), nil
}

// UserInfo answers from a valid, unrevoked access token of a user login.
func (b *Broker) UserInfo(ctx context.Context, r *op.Request[oidc.UserInfoRequest]) (*op.Response, error) {
	claims, err := b.verifyJWT(r.Data.AccessToken, typAccessToken)
	if err != nil {
		return nil, op.NewStatusError(errInvalidTokenBearer("invalid access token").WithParent(err), http.StatusUnauthorized)
	}
	jti, _ := claims["jti"].(string)
	if revoked, err := b.accessTokenRevoked(ctx, jti); err != nil {
		return nil, storeError(err)
	} else if revoked {
		return nil, op.NewStatusError(errInvalidTokenBearer("access token revoked"), http.StatusUnauthorized)
	}
	if hold, err := b.tokenDelegationsHold(ctx, claims); err != nil {
		return nil, storeError(err)
	} else if !hold {
		return nil, op.NewStatusError(errInvalidTokenBearer("the delegation of this access token has ended"), http.StatusUnauthorized)
	}
	scopes := strings.Fields(stringClaim(claims, "scope"))
	if !slices.Contains(scopes, oidc.ScopeOpenID) {
		return nil, op.NewStatusError(errInsufficientScope("the openid scope is required"), http.StatusForbidden)
	}
	out := map[string]any{}
	for _, k := range []string{"sub", "fiscal_number", "given_name", "family_name", "birthdate", "email", "phone_number",
		"acr", "amr", "auth_method", "spid_idp", "pin_type", "entitlements", "act"} {
		if v, ok := claims[k]; ok {
			out[k] = v
		}
	}
	return op.NewResponse(out), nil
}

func stringClaim(c map[string]any, k string) string {
	s, _ := c[k].(string)
	return s
}

// Revocation answers RFC 7009. A refresh token revokes its whole family; an access token is
// put on the deny list until it expires. Tokens of other clients and unknown tokens are
// ignored (the response is 200 either way, as the RFC says).
func (b *Broker) Revocation(ctx context.Context, r *op.ClientRequest[oidc.RevocationRequest]) (*op.Response, error) {
	cl := b.clientFor(r.Client)
	tok := r.Data.Token
	if r.Data.TokenTypeHint != "access_token" {
		raw, err := b.store.Get(ctx, "rt:"+tokenHash(tok))
		if err == nil {
			var rec refreshRecord
			if unmarshal(raw, &rec) == nil && rec.Grant.ClientID == cl.id {
				b.revokeFamily(ctx, rec.FamilyID, "revoked by client")
				b.auditEvent(ctx, "token.revoked", rec.Grant.Subject, map[string]any{"client_id": cl.id, "type": "refresh_token"})
			}
			return op.NewResponse(struct{}{}), nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, storeError(err)
		}
	}
	if claims, err := b.verifyJWT(tok, typAccessToken); err == nil && stringClaim(claims, "client_id") == cl.id {
		exp, _ := numericClaim(claims, "exp")
		b.denyAccessToken(ctx, stringClaim(claims, "jti"), time.Unix(exp, 0))
		b.auditEvent(ctx, "token.revoked", stringClaim(claims, "sub"), map[string]any{"client_id": cl.id, "type": "access_token"})
	}
	return op.NewResponse(struct{}{}), nil
}

// EndSession is RP-initiated logout: the broker session ends, the upstream session too when
// the provider supports it, and the browser goes back to a registered post-logout URI.
func (b *Broker) EndSession(ctx context.Context, r *op.Request[oidc.EndSessionRequest]) (*op.Redirect, error) {
	// Handled by endSessionHTTP, which needs the cookies; this path is unused.
	return nil, oidc.ErrServerError().WithDescription("end_session is served by the broker handler")
}

// postLogoutTarget validates post_logout_redirect_uri against the client named by
// client_id or by the id_token_hint's audience, and appends state.
func (b *Broker) postLogoutTarget(idTokenHint, clientID, redirect, state string) (string, error) {
	if idTokenHint != "" {
		claims, err := b.verifyIDTokenHint(idTokenHint)
		if err != nil {
			return "", oidc.ErrInvalidRequest().WithDescription("invalid id_token_hint")
		}
		aud := audiences(claims)
		if clientID == "" && len(aud) > 0 {
			clientID = aud[0]
		} else if clientID != "" && !slices.Contains(aud, clientID) {
			return "", oidc.ErrInvalidRequest().WithDescription("id_token_hint was not issued to client_id")
		}
	}
	if redirect == "" {
		return "", nil
	}
	cl, ok := b.clients[clientID]
	if !ok || !slices.Contains(cl.postLogout, redirect) {
		return "", oidc.ErrInvalidRequest().WithDescription("post_logout_redirect_uri is not registered")
	}
	if state == "" {
		return redirect, nil
	}
	u, err := url.Parse(redirect)
	if err != nil {
		return "", oidc.ErrInvalidRequest().WithDescription("bad post_logout_redirect_uri")
	}
	q := u.Query()
	q.Set("state", state)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// verifyIDTokenHint accepts an ID token of this issuer even if expired (OIDC RP-Initiated
// Logout allows it), but its signature must verify.
func (b *Broker) verifyIDTokenHint(tok string) (map[string]any, error) {
	return b.verifySignatureOnly(tok, typIDToken)
}

func audiences(c map[string]any) []string {
	switch v := c["aud"].(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, a := range v {
			if s, ok := a.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// Discovery is served pre-serialised by discoveryHTTP; this satisfies op.Server.
func (b *Broker) Discovery(context.Context, *op.Request[struct{}]) (*op.Response, error) {
	var v map[string]any
	_ = json.Unmarshal(b.discovery, &v)
	return op.NewResponse(v), nil
}

// Keys is served pre-serialised by jwksHTTP; this satisfies op.Server.
func (b *Broker) Keys(context.Context, *op.Request[struct{}]) (*op.Response, error) {
	var v map[string]any
	_ = json.Unmarshal(b.keys.ring().jwks, &v)
	return op.NewResponse(v), nil
}
