package broker

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/inps/sportello/broker/keys"
)

// contractClaims are copied from a subject token into an exchanged token: who the person is and
// how strongly they proved it never change in an exchange.
// grant_id keeps the exchanged token tied to the user's grant: revoking it stops both.
var contractClaims = []string{"acr", "amr", "auth_method", "spid_idp", "pin_type", "entitlements", "auth_time", "sid", "grant_id"}

// scopedClaims are copied only when the exchanged token keeps the scope that released them.
var scopedClaims = map[string][]string{
	"fiscal_number": {"fiscal_number"},
	"profile":       {"given_name", "family_name", "birthdate"},
	"email":         {"email"},
	"phone":         {"phone_number"},
}

// TokenExchange implements RFC 8693 for downstream services: a service client presents a
// user's access token (subject_token) and gets an access token for another audience. The
// policy: the client must be allowed the grant (checked by the op router) and the audience
// (clients[].exchange_audiences); scopes may only narrow; the new token keeps sub, acr, amr
// and adds the client as actor, nesting any earlier act (RFC 8693 §4.1).
func (b *Broker) TokenExchange(ctx context.Context, r *op.ClientRequest[oidc.TokenExchangeRequest]) (*op.Response, error) {
	cl := b.clientFor(r.Client)
	req := r.Data
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
	subject, err := b.verifyJWT(req.SubjectToken, keys.TypAccessToken)
	if err != nil {
		return nil, oidc.ErrInvalidGrant().WithDescription("invalid subject_token").WithParent(err)
	}
	if revoked, err := b.accessTokenRevoked(ctx, subject); err != nil {
		return nil, storeError(err)
	} else if revoked {
		return nil, oidc.ErrInvalidGrant().WithDescription("subject_token revoked")
	}
	if actDepth(subject) >= maxActDepth {
		return nil, oidc.ErrInvalidGrant().WithDescription("subject_token has been exchanged too many times")
	}
	if hold, err := b.tokenDelegationsHold(ctx, subject); err != nil {
		return nil, storeError(err)
	} else if !hold {
		return nil, oidc.ErrInvalidGrant().WithDescription("the delegation of subject_token has ended")
	}
	if stringClaim(subject, "sub") == stringClaim(subject, "client_id") {
		return nil, oidc.ErrInvalidGrant().WithDescription("subject_token does not represent a user")
	}
	// Only users' tokens issued to the relying parties this service acts for (or to itself,
	// for a chain of exchanges): a leaked token of another application is of no use.
	if from := stringClaim(subject, "client_id"); from != cl.id && !slices.Contains(cl.exchangeFrom, from) {
		return nil, oidc.ErrInvalidGrant().WithDescription("subject_token was issued to a client this service may not act for")
	}
	granted := strings.Fields(stringClaim(subject, "scope"))
	scopes := []string(req.Scopes)
	if len(scopes) == 0 {
		scopes = slices.DeleteFunc(slices.Clone(granted), func(s string) bool { return !cl.IsScopeAllowed(s) || s == oidc.ScopeOfflineAccess })
	}
	for _, s := range scopes {
		if !slices.Contains(granted, s) || !cl.IsScopeAllowed(s) {
			return nil, oidc.ErrInvalidScope().WithDescription("scope %q would widen the subject token", s)
		}
	}
	now := b.now()
	jti, err := randomToken(b.rand, 16)
	if err != nil {
		return nil, errServer(err)
	}
	exp := now.Add(b.cfg.Tokens.AccessTTL)
	if subExp, ok := numericClaim(subject, "exp"); ok && time.Unix(subExp, 0).Before(exp) {
		exp = time.Unix(subExp, 0) // never outlive the token it came from
	}
	claims := map[string]any{}
	for _, k := range contractClaims {
		if v, ok := subject[k]; ok {
			claims[k] = v
		}
	}
	for scope, names := range scopedClaims {
		if slices.Contains(scopes, scope) {
			for _, k := range names {
				if v, ok := subject[k]; ok {
					claims[k] = v
				}
			}
		}
	}
	act := map[string]any{"sub": cl.id, "client_id": cl.id}
	if prior, ok := subject["act"]; ok {
		act["act"] = prior
	}
	claims["act"] = act
	claims["iss"] = b.issuer
	claims["sub"] = subject["sub"]
	claims["aud"] = audience
	claims["client_id"] = cl.id
	claims["scope"] = strings.Join(scopes, " ")
	claims["iat"] = now.Unix()
	claims["exp"] = exp.Unix()
	claims["jti"] = jti
	tok, err := b.signJWT(cl.alg, keys.TypAccessToken, claims)
	if err != nil {
		return nil, errServer(err)
	}
	b.metrics.tokens.WithLabelValues("token_exchange").Inc()
	b.auditEvent(ctx, "token.exchange", stringClaim(subject, "sub"), map[string]any{"client_id": cl.id, "audience": audience, "scope": claims["scope"]})
	return op.NewResponse(&oidc.TokenExchangeResponse{
		AccessToken:     tok,
		IssuedTokenType: oidc.AccessTokenType,
		TokenType:       oidc.BearerToken,
		ExpiresIn:       uint64(exp.Sub(now) / time.Second),
		Scopes:          scopes,
	}), nil
}
