package broker

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/inps/sportello/internal/store"
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
	h := tokenHash(r.Data.RefreshToken)
	raw, err := b.store.Get(ctx, refreshKey(h))
	if errors.Is(err, store.ErrNotFound) {
		return nil, errInvalidGrant("invalid refresh token")
	}
	if err != nil {
		return nil, storeError(err)
	}
	var rec refreshRecord
	if err := unmarshal(raw, &rec); err != nil {
		return nil, errServer(err)
	}
	now := b.now()
	if rec.Grant.ClientID != cl.id {
		return nil, errInvalidGrant("refresh token was issued to another client")
	}
	if !now.Before(rec.FamilyExp) {
		return nil, errInvalidGrant("refresh token expired")
	}
	if revoked, err := b.familyRevoked(ctx, rec.FamilyID); err != nil {
		return nil, storeError(err)
	} else if revoked {
		return nil, errInvalidGrant("refresh token revoked")
	}
	// A used token is reuse, unless this is the rotating client's retry within the grace
	// (see rotationMarker): then the successor it was given is superseded by a new one.
	var retry *rotationMarker
	usedRaw, err := b.store.Get(ctx, refreshUsedKey(h))
	switch {
	case err == nil:
		if retry = b.retryWithinGrace(cl, usedRaw, now); retry == nil {
			return nil, b.refreshReused(ctx, cl, &rec)
		}
	case !errors.Is(err, store.ErrNotFound):
		return nil, storeError(err)
	}
	g := rec.Grant
	if scopes := []string(r.Data.Scopes); len(scopes) > 0 {
		for _, s := range scopes {
			if !slices.Contains(g.Scopes, s) {
				return nil, oidc.ErrInvalidScope().WithDescription("scope %q was not granted", s)
			}
		}
		g.Scopes = scopes
	}
	// Only an ended grant revokes the family; a registry that cannot answer (a store timeout)
	// is the client's retry later, and revokes nothing.
	if err := b.checkGrantStillValid(ctx, &g); errors.Is(err, errDelegationEnded) {
		_ = b.revokeFamily(ctx, rec.FamilyID, "grant no longer valid") // logged; refused either way
		return nil, errInvalidGrant(err.Error())
	} else if err != nil {
		return nil, storeError(err)
	}
	// The marker names this attempt, so that undoing it can never erase another attempt's.
	attempt, err := randomToken(b.rand, 12)
	if err != nil {
		return nil, errServer(err)
	}
	markerTTL := time.Until(rec.FamilyExp) + time.Minute
	if retry != nil {
		// Claim the successor the first rotation handed out: once claimed it is dead (a later
		// use of it is reuse). If it was used already, this is no retry but a replay.
		// The claim names its parent: a retry whose claim was written but which failed later
		// (a store error: the client got 503) finds its own claim and goes on.
		claim := mustMarshal(rotationMarker{Attempt: attempt, At: now.Unix(), Parent: h})
		claimed, err := b.store.PutIfAbsent(ctx, refreshUsedKey(retry.Next), claim, markerTTL)
		if err != nil {
			return nil, storeError(err)
		}
		if !claimed {
			own, err := b.ownClaim(ctx, retry.Next, h, usedRaw)
			if err != nil {
				return nil, storeError(err)
			}
			if !own {
				return nil, b.refreshReused(ctx, cl, &rec)
			}
		}
	}
	// The new tokens are written before the old refresh token is marked used: a failure up to
	// here leaves the old token usable, so the client's retry is not mistaken for reuse.
	resp, _, err := b.issueWithFamily(ctx, cl, &g, rec.FamilyID, rec.FamilyExp, now, true, "")
	if err != nil {
		return nil, err
	}
	marker := rotationMarker{Attempt: attempt, At: now.Unix()}
	if resp.RefreshToken != "" {
		// Without a successor (a narrowed refresh without offline_access) there is nothing a
		// retry could supersede: a second use is reuse.
		marker.Next = tokenHash(resp.RefreshToken)
	}
	var first bool
	if retry == nil {
		first, err = b.store.PutIfAbsent(ctx, refreshUsedKey(h), mustMarshal(marker), markerTTL)
	} else {
		marker.At = retry.At // the grace runs from the first rotation, never extended
		first, err = b.store.CompareAndSwap(ctx, refreshUsedKey(h), usedRaw, mustMarshal(marker), markerTTL)
	}
	if err != nil {
		// Unknown outcome (for example a write the primary applied but no replica
		// acknowledged): undo this attempt's writes so the retry finds the state before it.
		if retry == nil {
			_, _ = b.store.CompareAndSwap(ctx, refreshUsedKey(h), mustMarshal(marker), nil, 0)
		} else {
			_, _ = b.store.CompareAndSwap(ctx, refreshUsedKey(h), mustMarshal(marker), usedRaw, markerTTL)
		}
		if resp.RefreshToken != "" {
			_ = b.store.Delete(ctx, refreshKey(tokenHash(resp.RefreshToken)))
		}
		return nil, storeError(err)
	}
	if !first {
		// Two concurrent uses of one refresh token: the second one is reuse.
		if resp.RefreshToken != "" {
			_ = b.store.Delete(ctx, refreshKey(tokenHash(resp.RefreshToken)))
		}
		return nil, b.refreshReused(ctx, cl, &rec)
	}
	if retry != nil {
		b.auditEvent(ctx, "token.refresh_retry", g.Subject, map[string]any{"client_id": cl.id, "family": rec.FamilyID})
	}
	b.metrics.tokens.WithLabelValues("refresh_token").Inc()
	return op.NewResponse(resp), nil
}

// rotationMarker is the value of "rtused:<hash>": which rotation used the token, when, and the
// hash of the successor it issued. A successor claimed by a retry has no Next.
type rotationMarker struct {
	Attempt string `json:"a"`
	At      int64  `json:"t"`
	Next    string `json:"n,omitempty"`
	// Parent is set on a successor claimed by a retry: the hash of the token retried.
	Parent string `json:"p,omitempty"`
}

// ownClaim reports whether the used-marker of successor next is a claim by an earlier retry
// of parent that did not finish: parent's marker still points at next, unchanged.
func (b *Broker) ownClaim(ctx context.Context, next, parent string, parentMarker []byte) (bool, error) {
	raw, err := b.store.Get(ctx, refreshUsedKey(next))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var m rotationMarker
	if unmarshal(raw, &m) != nil || m.Parent != parent {
		return false, nil
	}
	cur, err := b.store.Get(ctx, refreshUsedKey(parent))
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return false, nil
		}
		return false, err
	}
	return bytes.Equal(cur, parentMarker), nil
}

// retryWithinGrace returns the marker of a used refresh token when presenting it again is
// still the rotating client's retry: a confidential client (for a public one, holding the
// token is all it takes, so no grace), within tokens.refresh_reuse_grace of the first
// rotation, with a successor to supersede. The caller has checked the client already.
func (b *Broker) retryWithinGrace(cl *Client, raw []byte, now time.Time) *rotationMarker {
	grace := b.cfg.Tokens.ReuseGrace()
	var m rotationMarker
	if grace <= 0 || cl.public || unmarshal(raw, &m) != nil || m.Next == "" || m.At == 0 {
		return nil
	}
	if now.Sub(time.Unix(m.At, 0)) > grace {
		return nil
	}
	return &m
}

// refreshReused revokes the family of a refresh token presented after its rotation.
func (b *Broker) refreshReused(ctx context.Context, cl *Client, rec *refreshRecord) error {
	_ = b.revokeFamily(ctx, rec.FamilyID, "refresh token reuse") // logged; the reuse is refused either way
	b.auditEvent(ctx, "token.refresh_reuse", rec.Grant.Subject, map[string]any{"client_id": cl.id, "family": rec.FamilyID})
	return errInvalidGrant("refresh token already used; the session has been revoked")
}

// ClientCredentialsExchange issues an access token to a service client for itself.
func (b *Broker) ClientCredentialsExchange(ctx context.Context, r *op.ClientRequest[oidc.ClientCredentialsRequest]) (*op.Response, error) {
	cl := b.clientFor(r.Client)
	scopes, err := allowedScopes(cl, r.Data.Scope)
	if err != nil {
		return nil, err
	}
	now := b.now()
	g := &Grant{ClientID: cl.id, Scopes: scopes, Subject: cl.id}
	tok, _, exp, err := b.accessToken(cl, g, now, atOptions{})
	if err != nil {
		return nil, errServer(err)
	}
	b.metrics.tokens.WithLabelValues("client_credentials").Inc()
	return op.NewResponse(&oidc.AccessTokenResponse{
		AccessToken: tok,
		TokenType:   oidc.BearerToken,
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
