package broker

import (
	"context"
	"errors"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/inps/sportello/internal/store"
)

// codeRetryWindow is how long after a code was first taken the client it was issued to may
// redeem it again, as long as no answer was sent: a store failure after the take, or before
// the tokens were written, is then the client's retry, not a replay.
const codeRetryWindow = 30 * time.Second

// CodeExchange redeems an authorization code. Nothing is consumed half-way:
//
//  1. The code record is read and checked (client, redirect_uri, expiry, PKCE) without
//     consuming it: a wrong client or verifier leaves it to its owner.
//  2. Compare-and-swap takes it: the record becomes "redeemed" by this attempt (refresh family
//     and access-token id chosen beforehand), kept for codeRetryWindow. Exactly one of
//     concurrent requests wins.
//  3. The tokens are written.
//  4. Compare-and-swap from "redeemed by this attempt" to "answered": only what to revoke is
//     left (RFC 6749 §4.1.2: a code used again revokes the tokens issued on it).
//
// A failure at 2–4 answers 503 and leaves the record redeemed but unanswered: the same client
// with the same code_verifier (and client authentication) may retry within the window. The
// retry supersedes the failed attempt (whose tokens, never sent, are revoked) and only one
// attempt can ever reach step 4, so tokens are sent once. A request that finds the code
// answered is a replay: invalid_grant, and the tokens of the answer are revoked.
func (b *Broker) CodeExchange(ctx context.Context, r *op.ClientRequest[oidc.AccessTokenRequest]) (*op.Response, error) {
	cl := b.clientFor(r.Client)
	h := tokenHash(r.Data.Code)
	key := codeKey(h)
	raw, err := b.store.Get(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		b.revokeLegacyReusedCode(ctx, h)
		return nil, errInvalidGrant("invalid or expired authorization code")
	}
	if err != nil {
		return nil, storeError(err)
	}
	var rec codeRecord
	if err := unmarshal(raw, &rec); err != nil {
		return nil, errServer(err)
	}
	if rec.Answered != nil {
		b.revokeCodeTokens(ctx, rec.Answered, "code reuse")
		b.auditEvent(ctx, "token.code_reuse", "", map[string]any{"client_id": cl.id, "family": rec.Answered.FamilyID})
		return nil, errInvalidGrant("invalid or expired authorization code")
	}
	now := b.now()
	if err := checkCodeRequest(&rec, cl, r.Data, now); err != nil {
		return nil, err
	}
	red, err := b.newRedemption(now, rec.Redeemed)
	if err != nil {
		return nil, errServer(err)
	}
	next := rec
	next.Redeemed = red
	pending := mustMarshal(next)
	window := max(red.At.Add(codeRetryWindow).Sub(now), time.Second) // never 0: no expiry
	if taken, err := b.store.CompareAndSwap(ctx, key, raw, pending, window); err != nil {
		return nil, storeError(err)
	} else if !taken {
		return nil, errInvalidGrant("authorization code already used")
	}
	if prev := rec.Redeemed; prev != nil {
		// A retry: the attempt it supersedes sent no answer, and whatever it wrote is dead.
		b.revokeCodeTokens(ctx, &prev.usedCode, "code retry")
		b.auditEvent(ctx, "token.code_retry", rec.Grant.Subject, map[string]any{"client_id": cl.id, "family": red.FamilyID})
	}
	resp, _, err := b.issueWithFamily(ctx, cl, &rec.Grant, red.FamilyID, now.Add(b.cfg.Tokens.RefreshTTL), now, true, red.JTI)
	if err != nil {
		return nil, err
	}
	answered := mustMarshal(codeRecord{Answered: &red.usedCode})
	done, err := b.store.CompareAndSwap(ctx, key, pending, answered, b.cfg.Tokens.RefreshTTL)
	if err != nil {
		// Unknown outcome (applied but not acknowledged, for example): put the redemption
		// back if it was applied, so the client's retry is not taken for a replay.
		_, _ = b.store.CompareAndSwap(ctx, key, answered, pending, window)
		return nil, storeError(err)
	}
	if !done {
		// A retry superseded this attempt while it ran: its tokens are never sent.
		b.revokeCodeTokens(ctx, &red.usedCode, "code retry")
		return nil, errInvalidGrant("authorization code already used")
	}
	b.metrics.tokens.WithLabelValues("authorization_code").Inc()
	return op.NewResponse(resp), nil
}

// checkCodeRequest checks a token request against the code it presents: the client it was
// issued to, the same redirect_uri, PKCE; a code never redeemed must not have expired, a
// redeemed one may be retried within codeRetryWindow of its first redemption.
func checkCodeRequest(rec *codeRecord, cl *Client, req *oidc.AccessTokenRequest, now time.Time) error {
	switch {
	case rec.Grant.ClientID != cl.id:
		return errInvalidGrant("code was issued to another client")
	case rec.RedirectURI != req.RedirectURI:
		return errInvalidGrant("redirect_uri does not match the authorization request")
	case rec.Redeemed == nil && !now.Before(rec.ExpiresAt):
		return errInvalidGrant("invalid or expired authorization code")
	case rec.Redeemed != nil && now.Sub(rec.Redeemed.At) > codeRetryWindow:
		return errInvalidGrant("authorization code already used")
	}
	return checkPKCE(rec.CodeChallenge, rec.CodeChallengeMethod, req.CodeVerifier, cl.public)
}

// newRedemption chooses the refresh family and access-token id of an attempt; a retry keeps
// the time of the first redemption.
func (b *Broker) newRedemption(now time.Time, prev *codeRedemption) (*codeRedemption, error) {
	var ids [3]string
	for i := range ids {
		id, err := randomToken(b.rand, 16)
		if err != nil {
			return nil, err
		}
		ids[i] = id
	}
	red := &codeRedemption{usedCode: usedCode{FamilyID: ids[0], JTI: ids[1], AccessExp: now.Add(b.cfg.Tokens.AccessTTL)},
		Attempt: ids[2], At: now}
	if prev != nil {
		red.At = prev.At
	}
	return red, nil
}

// revokeCodeTokens revokes what a redemption issued (or may have): its refresh family, and
// with it the access token, also put on the deny list. Failures are logged: the request is
// refused either way.
func (b *Broker) revokeCodeTokens(ctx context.Context, u *usedCode, reason string) {
	_ = b.revokeFamily(ctx, u.FamilyID, reason)
	_ = b.denyAccessToken(ctx, u.JTI, u.AccessExp)
}

// revokeLegacyReusedCode revokes the tokens of a code redeemed by an earlier version, which
// deleted the code and recorded its tokens under "codeused:<hash>".
func (b *Broker) revokeLegacyReusedCode(ctx context.Context, h string) {
	raw, err := b.store.Get(ctx, legacyCodeUsedKey(h))
	if err != nil {
		return
	}
	var u usedCode
	if unmarshal(raw, &u) != nil {
		return
	}
	b.revokeCodeTokens(ctx, &u, "code reuse")
	b.auditEvent(ctx, "token.code_reuse", "", map[string]any{"family": u.FamilyID})
}
