package broker

import (
	"context"
	"crypto/subtle"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/inps/sportello/broker/grants"
	"github.com/inps/sportello/providers"
)

// Token-endpoint errors. OAuth error codes are decided here, at the edge; details go to the
// log (the parent error), never to the client.
func errInvalidGrant(desc string) error { return oidc.ErrInvalidGrant().WithDescription("%s", desc) }

func errServer(err error) error { return oidc.ErrServerError().WithParent(err) }

// storeError maps a store failure by the error table's row for providers.ErrUnavailable
// (temporarily_unavailable, 503): the client may retry later. err stays hidden from it.
func storeError(err error) error {
	f := rowFor(providers.ErrUnavailable)
	return op.NewStatusError(f.oauth().WithParent(err), f.status)
}

func (b *Broker) clientFor(c op.Client) *Client {
	cl, _ := c.(*Client)
	return cl
}

// RefreshToken rotates a refresh token. Reusing a rotated token revokes the whole family.
func (b *Broker) RefreshToken(ctx context.Context, r *op.ClientRequest[oidc.RefreshTokenRequest]) (*op.Response, error) {
	cl := b.clientFor(r.Client)
	now := b.now()
	rec, err := b.grants.ActiveRefresh(ctx, r.Data.RefreshToken, cl.id, now)
	if err != nil {
		return nil, refreshError(err)
	}
	// A bound refresh token is checked before it rotates: a thief without the key rotates
	// nothing (RFC 9449 §5).
	proof, err := tokenProof(ctx, cl)
	if err != nil {
		return nil, err
	}
	if err := checkBoundKey(rec.Grant.DPoPJKT, proof, "the refresh token"); err != nil {
		return nil, err
	}
	// A public client's refresh token is bound to the certificate of its first token request
	// (RFC 8705 §4): without it the token is refused, and nothing is rotated or revoked. A
	// confidential client's is bound to its authentication; its new access token is bound to
	// the certificate it presents now.
	thumb, err := b.certBinding(ctx, cl)
	if err != nil {
		return nil, err
	}
	if bound := rec.Grant.CertThumbprint; cl.public && bound != "" && subtle.ConstantTimeCompare([]byte(bound), []byte(thumb)) != 1 {
		return nil, errInvalidGrant("refresh token is bound to another client certificate")
	}
	// A used token is reuse, unless this is the rotating client's retry within the grace:
	// then the successor it was given is superseded by a new one.
	rot, err := b.grants.Begin(ctx, r.Data.RefreshToken, rec, cl.public, now)
	if err != nil {
		return nil, b.rotationError(ctx, cl, rec, err)
	}
	g := rec.Grant
	g.CertThumbprint = thumb
	if g.Scopes, err = narrowScopes(g.Scopes, r.Data.Scopes); err != nil {
		return nil, err
	}
	// Only an ended grant revokes the family; a registry that cannot answer (a store timeout)
	// is the client's retry later, and revokes nothing.
	if err := b.checkGrantStillValid(ctx, &g); errors.Is(err, errDelegationEnded) {
		_ = b.grants.RevokeFamily(ctx, rec.FamilyID, "grant no longer valid") // logged; refused either way
		return nil, errInvalidGrant(err.Error())
	} else if err != nil {
		return nil, storeError(err)
	}
	var resp *oidc.AccessTokenResponse
	err = rot.Commit(ctx, func() (string, error) {
		var err error
		resp, _, err = b.issueWithFamily(ctx, cl, &g, rec.FamilyID, rec.FamilyExp, now, true, "", proofJKT(proof))
		if err != nil {
			return "", err
		}
		return resp.RefreshToken, nil
	})
	if err != nil {
		return nil, b.rotationError(ctx, cl, rec, err)
	}
	if rot.Retry() {
		b.auditEvent(ctx, "token.refresh_retry", g.Subject, map[string]any{"client_id": cl.id, "family": rec.FamilyID})
	}
	b.metrics.tokens.WithLabelValues("refresh_token").Inc()
	return op.NewResponse(resp), nil
}

// refreshError maps the refusals of a presented refresh token to invalid_grant; a store
// failure is 503 (retry later).
func refreshError(err error) error {
	switch {
	case errors.Is(err, grants.ErrUnknown):
		return errInvalidGrant("invalid refresh token")
	case errors.Is(err, grants.ErrOtherClient):
		return errInvalidGrant("refresh token was issued to another client")
	case errors.Is(err, grants.ErrExpired):
		return errInvalidGrant("refresh token expired")
	case errors.Is(err, grants.ErrRevoked):
		return errInvalidGrant("refresh token revoked")
	}
	return readError(err)
}

// rotationError maps a failed rotation: reuse (the family is revoked already) is audited and
// refused; an OAuth error of the issuing is returned as it is; otherwise the random source
// (500) or the store (503).
func (b *Broker) rotationError(ctx context.Context, cl *Client, rec *grants.Refresh, err error) error {
	if errors.Is(err, grants.ErrReused) {
		b.auditEvent(ctx, "token.refresh_reuse", rec.Grant.Subject, map[string]any{"client_id": cl.id, "family": rec.FamilyID})
		return errInvalidGrant("refresh token already used; the session has been revoked")
	}
	var oe *oidc.Error
	var se op.StatusError
	if errors.As(err, &oe) || errors.As(err, &se) {
		return err
	}
	return issueError(err)
}

// narrowScopes returns the scopes of a refresh: the grant's, or the requested ones when every
// one of them was granted (invalid_scope otherwise).
func narrowScopes(granted, requested []string) ([]string, error) {
	if len(requested) == 0 {
		return granted, nil
	}
	for _, s := range requested {
		if !slices.Contains(granted, s) {
			return nil, oidc.ErrInvalidScope().WithDescription("scope %q was not granted", s)
		}
	}
	return requested, nil
}

// ClientCredentialsExchange issues an access token to a service client for itself.
func (b *Broker) ClientCredentialsExchange(ctx context.Context, r *op.ClientRequest[oidc.ClientCredentialsRequest]) (*op.Response, error) {
	cl := b.clientFor(r.Client)
	scopes, err := allowedScopes(cl, r.Data.Scope)
	if err != nil {
		return nil, err
	}
	proof, err := tokenProof(ctx, cl)
	if err != nil {
		return nil, err
	}
	now := b.now()
	thumb, err := b.certBinding(ctx, cl)
	if err != nil {
		return nil, err
	}
	g := &grants.Grant{ClientID: cl.id, Scopes: scopes, Subject: cl.id, CertThumbprint: thumb}
	tok, _, exp, err := b.accessToken(cl, g, now, atOptions{jkt: proofJKT(proof)})
	if err != nil {
		return nil, errServer(err)
	}
	b.metrics.tokens.WithLabelValues("client_credentials").Inc()
	return op.NewResponse(&oidc.AccessTokenResponse{
		AccessToken: tok,
		TokenType:   tokenType(proofJKT(proof)),
		ExpiresIn:   uint64(exp.Sub(now) / time.Second),
		Scope:       scopes,
	}), nil
}

// allowedScopes checks that every requested scope is allowed for the client (invalid_scope
// otherwise); with none requested it grants all the client's scopes except openid.
func allowedScopes(cl *Client, requested []string) ([]string, error) {
	if len(requested) == 0 {
		return slices.DeleteFunc(slices.Clone(cl.scopes), func(s string) bool { return s == oidc.ScopeOpenID }), nil
	}
	for _, s := range requested {
		if !cl.IsScopeAllowed(s) {
			return nil, oidc.ErrInvalidScope().WithDescription("scope %q is not allowed for this client", s)
		}
	}
	return requested, nil
}

// Health answers /healthz.
func (b *Broker) Health(context.Context, *op.Request[struct{}]) (*op.Response, error) {
	return op.NewResponse(map[string]string{"status": "ok"}), nil
}

// Ready answers /readyz: the store must answer.
func (b *Broker) Ready(ctx context.Context, _ *op.Request[struct{}]) (*op.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := b.store.Ping(ctx); err != nil {
		return nil, storeError(err)
	}
	return op.NewResponse(map[string]string{"status": "ready"}), nil
}

func scopeString(s []string) string { return strings.Join(s, " ") }
