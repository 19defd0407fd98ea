package broker

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/inps/sportello/broker/claims"
	"github.com/inps/sportello/broker/keys"
	"github.com/inps/sportello/internal/switches"
)

// TokenExchange implements RFC 8693 for downstream services: a service client presents a
// user's access token (subject_token) and gets an access token for another audience. The
// policy: the client must be allowed the grant (checked by the op router) and the audience
// (clients[].exchange_audiences); scopes may only narrow; the new token keeps sub, acr, amr
// and adds the client as actor, nesting any earlier act (RFC 8693 §4.1).
func (b *Broker) TokenExchange(ctx context.Context, r *op.ClientRequest[oidc.TokenExchangeRequest]) (*op.Response, error) {
	cl := b.clientFor(r.Client)
	req := r.Data
	audience, err := exchangeAudience(cl, req)
	if err != nil {
		return nil, err
	}
	proof, err := tokenProof(ctx, cl)
	if err != nil {
		return nil, err
	}
	// The exchanged token nests one more actor: the subject token's chain must leave room.
	subject, err := b.acceptAccessToken(ctx, req.SubjectToken, acceptOptions{maxActDepth: maxActDepth - 1})
	if err != nil {
		return nil, subjectTokenError(err)
	}
	// A token of a client the security team switched off is of no use either.
	if b.switchedOff(switches.KindClient, subject.ClientID) {
		return nil, oidc.ErrInvalidGrant().WithDescription("subject_token was issued to a client that has been switched off")
	}
	if err := mayActFor(cl, subject); err != nil {
		return nil, err
	}
	scopes, err := exchangeScopes(cl, strings.Fields(subject.Scope), req.Scopes)
	if err != nil {
		return nil, err
	}
	thumb, err := b.certBinding(ctx, cl)
	if err != nil {
		return nil, err
	}
	now := b.now()
	jti, err := randomToken(b.rand, 16)
	if err != nil {
		return nil, errServer(err)
	}
	exp := now.Add(b.cfg.Tokens.AccessTTL)
	if subExp := time.Unix(subject.Expiry, 0); subExp.Before(exp) {
		exp = subExp // never outlive the token it came from
	}
	c := exchangedClaims(subject, scopes)
	c.Act = &claims.Act{Subject: cl.id, ClientID: cl.id, Act: subject.Act}
	c.Issuer = b.issuer
	c.Subject = subject.Subject
	c.Audience = audience
	c.ClientID = cl.id
	c.Scope = strings.Join(scopes, " ")
	c.IssuedAt = now.Unix()
	c.Expiry = exp.Unix()
	c.JTI = jti
	c.Confirmation = confirmation(proofJKT(proof)) // the exchanging client's key, never the subject token's
	// RFC 8705 §3: bound to the exchanging client's certificate too.
	if thumb != "" {
		if c.Confirmation == nil {
			c.Confirmation = &claims.Confirmation{}
		}
		c.Confirmation.X5TS256 = thumb
	}
	tok, err := b.signJWT(cl.alg, keys.TypAccessToken, c)
	if err != nil {
		return nil, errServer(err)
	}
	b.metrics.tokens.WithLabelValues("token_exchange").Inc()
	b.auditEvent(ctx, "token.exchange", subject.Subject, map[string]any{"client_id": cl.id, "audience": audience, "scope": c.Scope})
	return op.NewResponse(&oidc.TokenExchangeResponse{
		AccessToken:     tok,
		IssuedTokenType: oidc.AccessTokenType,
		TokenType:       tokenType(proofJKT(proof)),
		ExpiresIn:       uint64(exp.Sub(now) / time.Second),
		Scopes:          scopes,
	}), nil
}

// exchangeAudience checks the form of an exchange request (an access token for an access
// token, no actor_token: the authenticated client is the actor) and returns its audience
// (audience and resource), each one allowed for the client (invalid_target otherwise).
func exchangeAudience(cl *Client, req *oidc.TokenExchangeRequest) ([]string, error) {
	if req.SubjectTokenType != oidc.AccessTokenType {
		return nil, oidc.ErrInvalidRequest().WithDescription("subject_token_type must be an access token")
	}
	if req.ActorToken != "" {
		return nil, oidc.ErrInvalidRequest().WithDescription("actor_token is not supported: the authenticated client is the actor")
	}
	if req.RequestedTokenType != "" && req.RequestedTokenType != oidc.AccessTokenType {
		return nil, oidc.ErrInvalidRequest().WithDescription("only access tokens can be requested")
	}
	audience := append(slices.Clone([]string(req.Audience)), req.Resource...)
	if len(audience) == 0 {
		return nil, &oidc.Error{ErrorType: oidc.InvalidTarget, Description: "audience is required"}
	}
	for _, a := range audience {
		if !slices.Contains(cl.audiences, a) {
			return nil, &oidc.Error{ErrorType: oidc.InvalidTarget, Description: "audience not allowed for this client"}
		}
	}
	return audience, nil
}

// mayActFor checks that the subject token names a user, and was issued to a relying party
// this service acts for (or to itself, for a chain of exchanges): a leaked token of another
// application is of no use.
func mayActFor(cl *Client, subject *claims.Access) error {
	if subject.Subject == subject.ClientID {
		return oidc.ErrInvalidGrant().WithDescription("subject_token does not represent a user")
	}
	if from := subject.ClientID; from != cl.id && !slices.Contains(cl.exchangeFrom, from) {
		return oidc.ErrInvalidGrant().WithDescription("subject_token was issued to a client this service may not act for")
	}
	return nil
}

// exchangeScopes returns the scopes of the exchanged token: the requested ones, or without a
// request those of the subject token the client is allowed (offline_access never); each must
// have been granted and be allowed (invalid_scope: an exchange only narrows).
func exchangeScopes(cl *Client, granted, requested []string) ([]string, error) {
	scopes := requested
	if len(scopes) == 0 {
		scopes = slices.DeleteFunc(slices.Clone(granted), func(s string) bool { return !cl.IsScopeAllowed(s) || s == oidc.ScopeOfflineAccess })
	}
	for _, s := range scopes {
		if !slices.Contains(granted, s) || !cl.IsScopeAllowed(s) {
			return nil, oidc.ErrInvalidScope().WithDescription("scope %q would widen the subject token", s)
		}
	}
	return scopes, nil
}

// subjectTokenError maps a refused subject_token to invalid_grant, a store failure to 503.
func subjectTokenError(err error) error {
	switch {
	case errors.Is(err, errInvalidToken):
		return oidc.ErrInvalidGrant().WithDescription("invalid subject_token").WithParent(err)
	case errors.Is(err, errAccessRevoked):
		return oidc.ErrInvalidGrant().WithDescription("subject_token revoked")
	case errors.Is(err, errActTooDeep):
		return oidc.ErrInvalidGrant().WithDescription("subject_token has been exchanged too many times")
	case errors.Is(err, errDelegationEnded):
		return oidc.ErrInvalidGrant().WithDescription("the delegation of subject_token has ended")
	}
	return storeError(err)
}

// exchangedClaims are what an exchanged token keeps of its subject token. Who the person is
// and how strongly they proved it never change in an exchange (the login, auth_time, sid),
// and grant_id keeps the exchanged token tied to the user's grant: revoking it stops both.
// The claims a scope released are kept only with the scope.
func exchangedClaims(subject *claims.Access, scopes []string) *claims.Access {
	c := &claims.Access{AuthTime: subject.AuthTime, SessionID: subject.SessionID, GrantID: subject.GrantID}
	c.Login = subject.Login
	has := func(s string) bool { return slices.Contains(scopes, s) }
	if has("fiscal_number") {
		c.FiscalNumber = subject.FiscalNumber
	}
	if has("profile") {
		c.GivenName, c.FamilyName, c.Birthdate = subject.GivenName, subject.FamilyName, subject.Birthdate
	}
	if has("email") {
		c.Email = subject.Email
	}
	if has("phone") {
		c.PhoneNumber = subject.PhoneNumber
	}
	return c
}
