package grants

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/inps/sportello/internal/store"
)

// RetryWindow is how long after a code was first taken the client it was issued to may
// redeem it again, as long as no answer was sent: a store failure after the take, or before
// the tokens were written, is then the client's retry, not a replay.
const RetryWindow = 30 * time.Second

// Code is an authorization code's record: issued, then taken by a token request (Redeemed),
// then answered (only Answered is left).
type Code struct {
	Grant               Grant     `json:"grant,omitzero"`
	RedirectURI         string    `json:"redirect_uri,omitempty"`
	CodeChallenge       string    `json:"code_challenge,omitempty"`
	CodeChallengeMethod string    `json:"code_challenge_method,omitempty"`
	ExpiresAt           time.Time `json:"exp,omitzero"`
	// DPoPJKT is the dpop_jkt of the authorization request (RFC 9449 §10): the code is
	// redeemed only with a DPoP proof by the key of this thumbprint.
	DPoPJKT string `json:"dpop_jkt,omitempty"`
	// Redeemed is the token request under way, or the last one that sent no answer.
	Redeemed *Redemption `json:"redeemed,omitempty"`
	// Answered is what the answered redemption issued: revoked if the code comes back.
	Answered *Issued `json:"answered,omitempty"`
}

// Redemption is one attempt at redeeming a code, its tokens chosen before they are issued.
type Redemption struct {
	Issued
	Attempt string `json:"attempt"`
	// At is the first redemption of the code: retries never extend the window.
	At time.Time `json:"at"`
}

// Issued is what a redemption of a code issues: the refresh family and the access token.
// (Versions before the retry window kept it under "codeused:<hash>".)
type Issued struct {
	FamilyID  string    `json:"family"`
	JTI       string    `json:"jti"`
	AccessExp time.Time `json:"access_exp"`
}

// PutCode stores a new code for ttl.
func (r *Repo) PutCode(ctx context.Context, code string, c *Code, ttl time.Duration) error {
	return r.st.Put(ctx, codeKey(TokenHash(code)), mustMarshal(c), ttl)
}

// DiscardCode deletes a code unused (the broker's own sign-in never redeems its codes).
func (r *Repo) DiscardCode(ctx context.Context, code string) error {
	_, err := r.st.Take(ctx, codeKey(TokenHash(code)))
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// Pending is a code as read by a token request, to be redeemed and answered.
type Pending struct {
	Code
	key     string
	raw     []byte
	pending []byte
	red     *Redemption
	window  time.Duration
}

// Redemption is the attempt Redeem recorded (nil before).
func (p *Pending) Redemption() *Redemption { return p.red }

// GetCode reads a code without consuming it: ErrUnknown when there is none.
func (r *Repo) GetCode(ctx context.Context, code string) (*Pending, error) {
	key := codeKey(TokenHash(code))
	raw, err := r.st.Get(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrUnknown
	}
	if err != nil {
		return nil, err
	}
	p := &Pending{key: key, raw: raw}
	if err := json.Unmarshal(raw, &p.Code); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return p, nil
}

// LegacyUsed returns what a code redeemed by an earlier version issued (it deleted the code
// and recorded its tokens under "codeused:<hash>"), or nil.
func (r *Repo) LegacyUsed(ctx context.Context, code string) *Issued {
	raw, err := r.st.Get(ctx, legacyCodeUsedKey(TokenHash(code)))
	if err != nil {
		return nil
	}
	var u Issued
	if json.Unmarshal(raw, &u) != nil {
		return nil
	}
	return &u
}

// Redeemable says whether the code may be redeemed now: a code never redeemed must not have
// expired (ErrExpired); a redeemed one may be retried within RetryWindow of its first
// redemption (ErrUsed after).
func (c *Code) Redeemable(now time.Time) error {
	switch {
	case c.Redeemed == nil && !now.Before(c.ExpiresAt):
		return ErrExpired
	case c.Redeemed != nil && now.Sub(c.Redeemed.At) > RetryWindow:
		return ErrUsed
	}
	return nil
}

// Redeem takes the code for one attempt, with compare-and-swap from the record read: the
// refresh family and access-token id of the attempt are chosen here (a retry keeps the time
// of the first redemption), and the record is kept for RetryWindow. Exactly one of
// concurrent requests wins; the others get ErrUsed.
func (r *Repo) Redeem(ctx context.Context, p *Pending, now time.Time) (*Redemption, error) {
	var ids [3]string
	for i := range ids {
		id, err := r.RandomToken(16)
		if err != nil {
			return nil, err
		}
		ids[i] = id
	}
	red := &Redemption{Issued: Issued{FamilyID: ids[0], JTI: ids[1], AccessExp: now.Add(r.accessTTL)}, Attempt: ids[2], At: now}
	if p.Redeemed != nil {
		red.At = p.Redeemed.At
	}
	next := p.Code
	next.Redeemed = red
	pending := mustMarshal(next)
	window := max(red.At.Add(RetryWindow).Sub(now), time.Second) // never 0: no expiry
	taken, err := r.st.CompareAndSwap(ctx, p.key, p.raw, pending, window)
	if err != nil {
		return nil, err
	}
	if !taken {
		return nil, ErrUsed
	}
	p.red, p.pending, p.window = red, pending, window
	return red, nil
}

// Answer marks the redemption answered: compare-and-swap from "redeemed by this attempt" to
// "answered", kept for ttl with only what to revoke should the code come back (RFC 6749
// §4.1.2). ErrUsed: a retry superseded this attempt while it ran, and its tokens are revoked.
// A store error may leave the outcome unknown: the redemption is put back if it was applied,
// so the client's retry is not taken for a replay.
func (r *Repo) Answer(ctx context.Context, p *Pending, ttl time.Duration) error {
	answered := mustMarshal(Code{Answered: &p.red.Issued})
	done, err := r.st.CompareAndSwap(ctx, p.key, p.pending, answered, ttl)
	if err != nil {
		_, _ = r.st.CompareAndSwap(ctx, p.key, answered, p.pending, p.window)
		return err
	}
	if !done {
		r.RevokeIssued(ctx, &p.red.Issued, "code retry")
		return ErrUsed
	}
	return nil
}
