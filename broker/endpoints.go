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

	"github.com/inps/sportello/broker/grants"
	"github.com/inps/sportello/broker/keys"
)

// Introspect answers RFC 7662 introspection, only for clients allowed to introspect, and only
// about tokens they may see (mayIntrospect): any other token is {"active": false}, as an
// unknown one. Access tokens are verified (signature, expiry, revocation, delegation);
// refresh tokens are looked up.
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
	if claims, err := b.verifyJWT(tok, keys.TypAccessToken); err == nil {
		if !cl.mayIntrospect(stringClaim(claims, "client_id"), audiences(claims)) {
			return inactive, nil
		}
		if live, err := b.accessTokenLive(ctx, claims); err != nil {
			return nil, storeError(err)
		} else if !live {
			return inactive, nil
		}
		claims["active"] = true
		claims["token_type"] = "Bearer"
		return op.NewResponse(claims), nil
	}
	rec, err := b.grants.LookupRefresh(ctx, tok)
	if errors.Is(err, grants.ErrUnknown) || errors.Is(err, grants.ErrCorrupt) {
		return inactive, nil
	} else if err != nil {
		return nil, storeError(err)
	}
	if !cl.mayIntrospect(rec.Grant.ClientID, nil) {
		return inactive, nil
	}
	if revoked, err := b.grants.FamilyRevoked(ctx, rec.FamilyID); err != nil {
		return nil, storeError(err)
	} else if revoked || !b.now().Before(rec.FamilyExp) {
		return inactive, nil
	}
	if used, err := b.grants.RefreshUsed(ctx, tok); err != nil {
		return nil, storeError(err)
	} else if used {
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

// accessTokenLive is the check of an access token presented back to the broker (verified
// already): neither it nor its grant revoked, every delegation of its act chain still on.
func (b *Broker) accessTokenLive(ctx context.Context, claims map[string]any) (bool, error) {
	if revoked, err := b.accessTokenRevoked(ctx, claims); err != nil || revoked {
		return false, err
	}
	return b.tokenDelegationsHold(ctx, claims)
}

// UserInfo answers from a valid, unrevoked access token of a user login. A client's own token
// (client_credentials) names no person: it gets no userinfo.
func (b *Broker) UserInfo(ctx context.Context, r *op.Request[oidc.UserInfoRequest]) (*op.Response, error) {
	claims, err := b.verifyJWT(r.Data.AccessToken, keys.TypAccessToken)
	if err != nil {
		return nil, op.NewStatusError(errInvalidTokenBearer("invalid access token").WithParent(err), http.StatusUnauthorized)
	}
	if !namesAPerson(claims) {
		return nil, op.NewStatusError(errInvalidTokenBearer("the access token does not name a person"), http.StatusUnauthorized)
	}
	if revoked, err := b.accessTokenRevoked(ctx, claims); err != nil {
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

// namesAPerson tells a token of a person's login (its auth_time, kept by token exchange) from
// a client's own token (client_credentials: sub is the client, no auth_time).
func namesAPerson(claims map[string]any) bool {
	_, login := claims["auth_time"]
	return login && stringClaim(claims, "sub") != stringClaim(claims, "client_id")
}

func stringClaim(c map[string]any, k string) string {
	s, _ := c[k].(string)
	return s
}

// Revocation answers RFC 7009. A refresh token revokes its whole family, and with it the
// access tokens of the family; an access token is put on the deny list until it expires. The
// hint only orders the search: a token of the other type is found too (§2.1). Tokens of other
// clients and unknown tokens are ignored (200 either way, as the RFC says); a store failure
// is 503, never a 200 that revoked nothing.
func (b *Broker) Revocation(ctx context.Context, r *op.ClientRequest[oidc.RevocationRequest]) (*op.Response, error) {
	cl := b.clientFor(r.Client)
	tok := r.Data.Token
	done := op.NewResponse(struct{}{})
	if r.Data.TokenTypeHint == "access_token" {
		if found, err := b.revokeAccessToken(ctx, cl, tok); err != nil {
			return nil, storeError(err)
		} else if found {
			return done, nil
		}
	}
	if found, err := b.revokeRefreshToken(ctx, cl, tok); err != nil {
		return nil, storeError(err)
	} else if found {
		return done, nil
	}
	if _, err := b.revokeAccessToken(ctx, cl, tok); err != nil {
		return nil, storeError(err)
	}
	return done, nil
}

// revokeRefreshToken revokes the family of tok if it is a refresh token; found reports
// whether it is one (of whichever client).
func (b *Broker) revokeRefreshToken(ctx context.Context, cl *Client, tok string) (found bool, err error) {
	rec, err := b.grants.LookupRefresh(ctx, tok)
	if errors.Is(err, grants.ErrUnknown) {
		return false, nil
	} else if errors.Is(err, grants.ErrCorrupt) {
		return true, nil
	} else if err != nil {
		return false, err
	}
	if rec.Grant.ClientID != cl.id {
		return true, nil
	}
	if err := b.grants.RevokeFamily(ctx, rec.FamilyID, "revoked by client"); err != nil {
		return true, err
	}
	b.auditEvent(ctx, "token.revoked", rec.Grant.Subject, map[string]any{"client_id": cl.id, "type": "refresh_token", "family": rec.FamilyID})
	return true, nil
}

// revokeAccessToken puts tok on the deny list if it is an access token of this issuer; found
// reports whether it is one (of whichever client).
func (b *Broker) revokeAccessToken(ctx context.Context, cl *Client, tok string) (found bool, err error) {
	claims, err := b.verifyJWT(tok, keys.TypAccessToken)
	if err != nil {
		return false, nil
	}
	if stringClaim(claims, "client_id") != cl.id {
		return true, nil
	}
	exp, _ := numericClaim(claims, "exp")
	if err := b.grants.DenyAccess(ctx, stringClaim(claims, "jti"), time.Unix(exp, 0)); err != nil {
		return true, err
	}
	b.auditEvent(ctx, "token.revoked", stringClaim(claims, "sub"), map[string]any{"client_id": cl.id, "type": "access_token"})
	return true, nil
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
	return b.verifySignatureOnly(tok, keys.TypIDToken)
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
	_ = json.Unmarshal(b.keys.JWKS(), &v)
	return op.NewResponse(v), nil
}
