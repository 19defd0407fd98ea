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

	"github.com/inps/sportello/broker/claims"
	"github.com/inps/sportello/broker/grants"
	"github.com/inps/sportello/broker/keys"
	"github.com/inps/sportello/internal/switches"
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
	// A client sees only the tokens it may introspect: checked before anything is looked up.
	at, err := b.acceptAccessToken(ctx, tok, acceptOptions{check: func(c *claims.Access) error {
		if !cl.mayIntrospect(c.ClientID, c.Audience) || b.switchedOff(switches.KindClient, c.ClientID) {
			return errNotIntrospectable
		}
		return nil
	}})
	switch {
	case err == nil:
		// RFC 9449 §6.2: cnf (in the claims) tells the resource server the key to check.
		typ := oidc.BearerToken
		if at.Confirmation != nil && at.Confirmation.JKT != "" {
			typ = tokenTypeDPoP
		}
		return op.NewResponse(&introspection{Active: true, TokenType: typ, Access: at}), nil
	case errors.Is(err, errInvalidToken):
		// Not an access token of this issuer (or an expired one): perhaps a refresh token.
	case refused(err) || errors.Is(err, errNotIntrospectable):
		return inactive, nil
	default:
		return nil, storeError(err)
	}
	return b.introspectRefresh(ctx, cl, tok)
}

// introspectRefresh answers introspection about what may be a refresh token: active while
// its family holds (neither revoked nor expired), it was not rotated, and its delegation (if
// any) is still in force.
func (b *Broker) introspectRefresh(ctx context.Context, cl *Client, tok string) (*op.Response, error) {
	inactive := op.NewResponse(map[string]any{"active": false})
	rec, err := b.grants.LookupRefresh(ctx, tok)
	if errors.Is(err, grants.ErrUnknown) || errors.Is(err, grants.ErrCorrupt) {
		return inactive, nil
	} else if err != nil {
		return nil, storeError(err)
	}
	if !cl.mayIntrospect(rec.Grant.ClientID, nil) || b.switchedOff(switches.KindClient, rec.Grant.ClientID) {
		return inactive, nil
	}
	if revoked, err := b.grants.FamilyRevoked(ctx, rec.FamilyID); err != nil {
		return nil, storeError(err)
	} else if revoked || !b.now().Before(rec.FamilyExp) {
		return inactive, nil
	}
	if revoked, err := b.grants.PersonRevoked(ctx, rec.Grant.Granted(), rec.Grant.People()...); err != nil {
		return nil, storeError(err)
	} else if revoked {
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
	resp := map[string]any{
		"active":     true,
		"token_type": "refresh_token",
		"client_id":  rec.Grant.ClientID,
		"sub":        rec.Grant.Subject,
		"scope":      scopeString(rec.Grant.Scopes),
		"exp":        rec.FamilyExp.Unix(),
		"iat":        rec.IssuedAt.Unix(),
		"iss":        b.issuer,
	}
	if c := refreshConfirmation(b, &rec.Grant); c != nil {
		resp["cnf"] = c
	}
	return op.NewResponse(resp), nil
}

// refreshConfirmation is the cnf of a refresh token of grant g: the DPoP key a public client's
// refresh token is bound to (RFC 9449 §5), and the certificate of a public client's first
// token request (RFC 8705 §4); nil for a bearer one. A confidential client's refresh token is
// bound to its authentication, not to the certificate its access tokens are bound to.
func refreshConfirmation(b *Broker, g *grants.Grant) *claims.Confirmation {
	c := confirmation(g.DPoPJKT)
	if owner, ok := b.client(g.ClientID); ok && owner.public && g.CertThumbprint != "" {
		if c == nil {
			c = &claims.Confirmation{}
		}
		c.X5TS256 = g.CertThumbprint
	}
	return c
}

// errNotIntrospectable: the introspecting client may not see the token (introspection
// answers it as inactive, like an unknown one).
var errNotIntrospectable = errors.New("token not introspectable by this client")

// introspection is the RFC 7662 answer about an active access token: its claims, active
// and token_type.
type introspection struct {
	Active    bool
	TokenType string
	*claims.Access
}

// MarshalJSON writes the token's claims with active and token_type, in key order.
func (i *introspection) MarshalJSON() ([]byte, error) {
	return claims.Merge(i.Access, map[string]any{"active": i.Active, "token_type": i.TokenType})
}

// UserInfo answers from a valid, unrevoked access token of a user login. A client's own token
// (client_credentials) names no person: it gets no userinfo.
func (b *Broker) UserInfo(ctx context.Context, r *op.Request[oidc.UserInfoRequest]) (*op.Response, error) {
	// A client's own token is refused before anything is looked up.
	c, err := b.acceptAccessToken(ctx, r.Data.AccessToken, acceptOptions{check: func(c *claims.Access) error {
		noteDPoPBound(ctx, c)
		if !namesAPerson(c) {
			return errNotAPerson
		}
		if b.switchedOff(switches.KindClient, c.ClientID) {
			return errTokenOfSwitchedOffClient
		}
		return checkCertBound(ctx, c)
	}})
	if err != nil {
		return nil, userinfoError(err)
	}
	if err := b.checkResourceProof(ctx, c, r.Data.AccessToken); err != nil {
		return nil, err
	}
	if !slices.Contains(strings.Fields(c.Scope), oidc.ScopeOpenID) {
		return nil, op.NewStatusError(errInsufficientScope("the openid scope is required"), http.StatusForbidden)
	}
	return op.NewResponse(&claims.UserInfo{Subject: c.Subject, Person: c.Person}), nil
}

// errNotAPerson: a client's own token presented for a person's userinfo.
var errNotAPerson = errors.New("the access token does not name a person")

// errTokenOfSwitchedOffClient: a token of a client the security team switched off.
var errTokenOfSwitchedOffClient = errors.New("the access token was issued to a client that has been switched off")

// userinfoError maps a refused access token to 401 invalid_token (RFC 6750), a store failure
// to 503.
func userinfoError(err error) error {
	var desc string
	switch {
	case errors.Is(err, errInvalidToken):
		return op.NewStatusError(errInvalidTokenBearer("invalid access token").WithParent(err), http.StatusUnauthorized)
	case errors.Is(err, errNotAPerson):
		desc = "the access token does not name a person"
	case errors.Is(err, errCertMismatch):
		desc = "the access token is bound to a client certificate that was not presented"
	case errors.Is(err, errTokenOfSwitchedOffClient):
		desc = "the access token was issued to a client that has been switched off"
	case errors.Is(err, errAccessRevoked):
		desc = "access token revoked"
	case errors.Is(err, errDelegationEnded):
		desc = "the delegation of this access token has ended"
	case errors.Is(err, errActTooDeep):
		desc = "the actor chain of this access token is too deep"
	default:
		return storeError(err)
	}
	return op.NewStatusError(errInvalidTokenBearer(desc), http.StatusUnauthorized)
}

// namesAPerson tells a token of a person's login (its auth_time, kept by token exchange) from
// a client's own token (client_credentials: sub is the client, no auth_time).
func namesAPerson(c *claims.Access) bool {
	return c.AuthTime != nil && c.Subject != c.ClientID
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
	c, err := b.verifyAccessToken(tok)
	if err != nil {
		return false, nil
	}
	if c.ClientID != cl.id {
		return true, nil
	}
	if err := b.grants.DenyAccess(ctx, c.JTI, time.Unix(c.Expiry, 0)); err != nil {
		return true, err
	}
	b.auditEvent(ctx, "token.revoked", c.Subject, map[string]any{"client_id": cl.id, "type": "access_token"})
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
		hint, err := b.verifyIDTokenHint(idTokenHint)
		if err != nil {
			return "", oidc.ErrInvalidRequest().WithDescription("invalid id_token_hint")
		}
		aud := hint.Audience
		if clientID == "" && len(aud) > 0 {
			clientID = aud[0]
		} else if clientID != "" && !slices.Contains(aud, clientID) {
			return "", oidc.ErrInvalidRequest().WithDescription("id_token_hint was not issued to client_id")
		}
	}
	if redirect == "" {
		return "", nil
	}
	cl, ok := b.client(clientID)
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
func (b *Broker) verifyIDTokenHint(tok string) (*claims.ID, error) {
	var c claims.ID
	if err := b.verifySigned(tok, keys.TypIDToken, &c, func() string { return c.Issuer }); err != nil {
		return nil, err
	}
	return &c, nil
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
