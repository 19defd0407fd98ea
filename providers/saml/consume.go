package saml

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/inps/sportello/providers"
)

// Consume validates raw, the Response posted for the pending request rec (read with
// PeekRequest under relayState), then hands the Assertion to accept: the profile maps it to an
// identity and may still refuse it. Only then is the request used up and the assertion ID
// recorded against replay, so a response that does not validate — garbage, a forgery, an
// error status anyone who saw the request could write — or that accept refuses consumes
// nothing. The Assertion is returned whenever it validated, also with an error from accept,
// the take or the replay cache.
func (s *SP) Consume(ctx context.Context, relayState string, rec *Request, raw []byte, accept func(*Assertion, *IdP) error) (*Assertion, error) {
	idp, ok := s.registry.Lookup(ctx, rec.IdP)
	if !ok {
		return nil, s.errorf("idp %q no longer known: %w", rec.IdP, providers.ErrUnavailable)
	}
	now := s.deps.Now()
	res, err := validateResponse(raw, &expectation{
		Profile: s.prof, RequestID: rec.RequestID, RequestIssued: rec.IssueInstant, IdP: idp,
		ACSURL: s.cfg.ACSURL, SPEntityID: s.cfg.EntityID, Level: rec.Level, Comparison: rec.Comparison,
		Now: now, Skew: s.cfg.ClockSkew,
	})
	if err != nil {
		return nil, err
	}
	if err := accept(res, idp); err != nil {
		return res, err
	}
	if err := s.takeRequest(ctx, relayState); err != nil {
		return res, err
	}
	if err := s.markUsed(ctx, idp.EntityID, res, now); err != nil {
		return res, err
	}
	return res, nil
}

// markUsed records the assertion ID until its NotOnOrAfter (plus skew), cluster-wide, and
// refuses an assertion already seen. The key hashes the IdP and the ID: IDs are the IdP's.
func (s *SP) markUsed(ctx context.Context, idp string, res *Assertion, now time.Time) error {
	ttl := res.NotOnOrAfter.Add(s.cfg.ClockSkew).Sub(now)
	if ttl < time.Second {
		ttl = time.Second
	}
	sum := sha256.Sum256([]byte(idp + "\x00" + res.AssertionID))
	ok, err := s.deps.Store.PutIfAbsent(ctx, s.storeKey("assertion", hex.EncodeToString(sum[:])), []byte("1"), ttl)
	if err != nil {
		return s.errorf("replay cache: %w: %w", providers.ErrUnavailable, err)
	}
	if !ok {
		return withProfile(reject("replay", "assertion %q already used", res.AssertionID), s.prof.Name)
	}
	return nil
}

// Rejectf is a refusal of rule under the profile named profile, for the checks a provider
// package makes on a valid Assertion (its attributes, say): a RejectError, so that it is
// classified and logged like the engine's own.
func Rejectf(profile, rule, format string, a ...any) error {
	return withProfile(reject(rule, format, a...), profile)
}
