package broker

import (
	"context"
	"errors"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/inps/sportello/broker/grants"
)

// CodeExchange redeems an authorization code. Nothing is consumed half-way:
//
//  1. The code record is read and checked (client, redirect_uri, expiry, PKCE) without
//     consuming it: a wrong client or verifier leaves it to its owner.
//  2. Compare-and-swap takes it: the record becomes "redeemed" by this attempt (refresh family
//     and access-token id chosen beforehand), kept for grants.RetryWindow. Exactly one of
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
	code, err := b.grants.GetCode(ctx, r.Data.Code)
	if errors.Is(err, grants.ErrUnknown) {
		b.revokeLegacyReusedCode(ctx, r.Data.Code)
		return nil, errInvalidGrant("invalid or expired authorization code")
	}
	if err != nil {
		return nil, readError(err)
	}
	if code.Answered != nil {
		b.grants.RevokeIssued(ctx, code.Answered, "code reuse")
		b.auditEvent(ctx, "token.code_reuse", "", map[string]any{"client_id": cl.id, "family": code.Answered.FamilyID})
		return nil, errInvalidGrant("invalid or expired authorization code")
	}
	now := b.now()
	if err := checkCodeRequest(&code.Code, cl, r.Data, now); err != nil {
		return nil, err
	}
	// A code issued before an operator revoked the person (Broker.EndSessions) is refused.
	if revoked, err := b.grants.PersonRevoked(ctx, code.Grant.Granted(), code.Grant.People()...); err != nil {
		return nil, readError(err)
	} else if revoked {
		return nil, errInvalidGrant("authorization code revoked")
	}
	// The proof's key is checked before the code is taken: a wrong key leaves it to its owner.
	proof, err := tokenProof(ctx, cl)
	if err != nil {
		return nil, err
	}
	if err := checkBoundKey(code.DPoPJKT, proof, "the authorization code"); err != nil {
		return nil, err
	}
	// Checked before the code is redeemed: a request without the certificate consumes nothing.
	if code.Grant.CertThumbprint, err = b.certBinding(ctx, cl); err != nil {
		return nil, err
	}
	g := code.Grant
	if cl.public {
		g.DPoPJKT = proofJKT(proof) // RFC 9449 §5: a public client's refresh tokens are bound
	}
	red, err := b.grants.Redeem(ctx, code, now)
	if errors.Is(err, grants.ErrUsed) {
		return nil, errInvalidGrant("authorization code already used")
	} else if err != nil {
		return nil, issueError(err)
	}
	if prev := code.Redeemed; prev != nil {
		// A retry: the attempt it supersedes sent no answer, and whatever it wrote is dead.
		b.grants.RevokeIssued(ctx, &prev.Issued, "code retry")
		b.auditEvent(ctx, "token.code_retry", code.Grant.Subject, map[string]any{"client_id": cl.id, "family": red.FamilyID})
	}
	resp, _, err := b.issueWithFamily(ctx, cl, &g, red.FamilyID, now.Add(b.cfg.Tokens.RefreshTTL), now, true, red.JTI, proofJKT(proof))
	if err != nil {
		return nil, err
	}
	if err := b.grants.Answer(ctx, code, b.cfg.Tokens.RefreshTTL); errors.Is(err, grants.ErrUsed) {
		// A retry superseded this attempt while it ran: its tokens are never sent (Answer
		// revoked them).
		return nil, errInvalidGrant("authorization code already used")
	} else if err != nil {
		return nil, storeError(err)
	}
	b.metrics.tokens.WithLabelValues("authorization_code").Inc()
	return op.NewResponse(resp), nil
}

// readError maps a failure to read a record: one that does not decode is a server error, a
// store failure 503.
func readError(err error) error {
	if errors.Is(err, grants.ErrCorrupt) {
		return errServer(err)
	}
	return storeError(err)
}

// checkCodeRequest checks a token request against the code it presents: the client it was
// issued to, the same redirect_uri, PKCE; a code never redeemed must not have expired, a
// redeemed one may be retried within grants.RetryWindow of its first redemption.
func checkCodeRequest(rec *grants.Code, cl *Client, req *oidc.AccessTokenRequest, now time.Time) error {
	switch {
	case rec.Grant.ClientID != cl.id:
		return errInvalidGrant("code was issued to another client")
	case rec.RedirectURI != req.RedirectURI:
		return errInvalidGrant("redirect_uri does not match the authorization request")
	}
	switch err := rec.Redeemable(now); {
	case errors.Is(err, grants.ErrExpired):
		return errInvalidGrant("invalid or expired authorization code")
	case errors.Is(err, grants.ErrUsed):
		return errInvalidGrant("authorization code already used")
	}
	return checkPKCE(rec.CodeChallenge, rec.CodeChallengeMethod, req.CodeVerifier, cl.requiresPKCE())
}

// revokeLegacyReusedCode revokes the tokens of a code redeemed by an earlier version, which
// deleted the code and recorded its tokens under "codeused:<hash>".
func (b *Broker) revokeLegacyReusedCode(ctx context.Context, code string) {
	u := b.grants.LegacyUsed(ctx, code)
	if u == nil {
		return
	}
	b.grants.RevokeIssued(ctx, u, "code reuse")
	b.auditEvent(ctx, "token.code_reuse", "", map[string]any{"family": u.FamilyID})
}
