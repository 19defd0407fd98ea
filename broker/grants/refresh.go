package grants

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/inps/sportello/internal/store"
)

// Refresh is one refresh token of a family. Rotation marks it used; the family's revocation
// is a mark of its own (RevokeFamily).
type Refresh struct {
	Grant     Grant     `json:"grant"`
	FamilyID  string    `json:"family"`
	FamilyExp time.Time `json:"family_exp"`
	IssuedAt  time.Time `json:"iat"`
}

// IssueRefresh writes a new refresh token of the family, valid until the family expires.
func (r *Repo) IssueRefresh(ctx context.Context, g *Grant, family string, familyExp, now time.Time) (string, error) {
	tok, err := r.RandomToken(32)
	if err != nil {
		return "", err
	}
	rec := Refresh{Grant: *g, FamilyID: family, FamilyExp: familyExp, IssuedAt: now}
	if err := r.st.Put(ctx, refreshKey(TokenHash(tok)), mustMarshal(rec), familyExp.Sub(now)); err != nil {
		return "", err
	}
	return tok, nil
}

// LookupRefresh returns a refresh token's record as stored, whatever its state: ErrUnknown
// when there is none.
func (r *Repo) LookupRefresh(ctx context.Context, tok string) (*Refresh, error) {
	raw, err := r.st.Get(ctx, refreshKey(TokenHash(tok)))
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrUnknown
	}
	if err != nil {
		return nil, err
	}
	var rec Refresh
	if err := json.Unmarshal(raw, &rec); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return &rec, nil
}

// ActiveRefresh returns the record of a refresh token presented by clientID, checked in this
// order: known (ErrUnknown), issued to clientID (ErrOtherClient), its family not expired
// (ErrExpired) nor revoked, by itself or with its person (RevokePerson) (ErrRevoked). Whether it was rotated already is Begin's question.
func (r *Repo) ActiveRefresh(ctx context.Context, tok, clientID string, now time.Time) (*Refresh, error) {
	rec, err := r.LookupRefresh(ctx, tok)
	if err != nil {
		return nil, err
	}
	if rec.Grant.ClientID != clientID {
		return nil, ErrOtherClient
	}
	if !now.Before(rec.FamilyExp) {
		return nil, ErrExpired
	}
	if revoked, err := r.FamilyRevoked(ctx, rec.FamilyID); err != nil {
		return nil, err
	} else if revoked {
		return nil, ErrRevoked
	}
	if revoked, err := r.PersonRevoked(ctx, rec.Grant.Granted(), rec.Grant.People()...); err != nil {
		return nil, err
	} else if revoked {
		return nil, ErrRevoked
	}
	return rec, nil
}

// RefreshUsed reports whether a refresh token was rotated already.
func (r *Repo) RefreshUsed(ctx context.Context, tok string) (bool, error) {
	_, err := r.st.Get(ctx, refreshUsedKey(TokenHash(tok)))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// DeleteRefresh deletes a refresh token never handed out (an attempt undone).
func (r *Repo) DeleteRefresh(ctx context.Context, tok string) {
	_ = r.st.Delete(ctx, refreshKey(TokenHash(tok)))
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

// Rotation is one rotation of a refresh token under way: Begin, then (the broker's checks of
// scopes and delegations in between) Commit.
type Rotation struct {
	r      *Repo
	rec    *Refresh
	h      string
	now    time.Time
	used   []byte          // the token's used-marker as read (nil: never rotated)
	retry  *rotationMarker // set when this is the rotating client's retry within the grace
	public bool
}

// Retry reports whether this rotation is the rotating client's retry of an earlier one.
func (rot *Rotation) Retry() bool { return rot.retry != nil }

// Begin starts rotating tok (whose record ActiveRefresh returned), presented by a public or a
// confidential client. A token rotated already is reuse — ErrReused, its family revoked —
// unless this is the confidential client's retry within the reuse grace of the first
// rotation (see retryWithinGrace).
func (r *Repo) Begin(ctx context.Context, tok string, rec *Refresh, public bool, now time.Time) (*Rotation, error) {
	rot := &Rotation{r: r, rec: rec, h: TokenHash(tok), now: now, public: public}
	used, err := r.st.Get(ctx, refreshUsedKey(rot.h))
	switch {
	case err == nil:
		if rot.retry = r.retryWithinGrace(public, used, now); rot.retry == nil {
			return nil, r.reused(ctx, rec)
		}
		rot.used = used
	case !errors.Is(err, store.ErrNotFound):
		return nil, err
	}
	return rot, nil
}

// reused revokes the family of a refresh token presented after its rotation.
func (r *Repo) reused(ctx context.Context, rec *Refresh) error {
	_ = r.RevokeFamily(ctx, rec.FamilyID, "refresh token reuse") // logged; the reuse is refused either way
	return ErrReused
}

// Commit completes the rotation: issue writes the new tokens (it returns the successor
// refresh token, "" when none is issued) before the old token is marked used, so a failure
// up to there leaves the old token usable and the client's retry is not mistaken for reuse.
// An error of issue is returned as it is. Two concurrent rotations of one token: the second
// gets ErrReused (and the family is revoked).
func (rot *Rotation) Commit(ctx context.Context, issue func() (next string, err error)) error {
	r := rot.r
	// The marker names this attempt, so that undoing it can never erase another attempt's.
	attempt, err := r.RandomToken(12)
	if err != nil {
		return err
	}
	markerTTL := time.Until(rot.rec.FamilyExp) + time.Minute
	if rot.retry != nil {
		if err := rot.claimSuccessor(ctx, attempt, markerTTL); err != nil {
			return err
		}
	}
	next, err := issue()
	if err != nil {
		return err
	}
	marker := rotationMarker{Attempt: attempt, At: rot.now.Unix()}
	if next != "" {
		// Without a successor (a narrowed refresh without offline_access) there is nothing a
		// retry could supersede: a second use is reuse.
		marker.Next = TokenHash(next)
	}
	key := refreshUsedKey(rot.h)
	var first bool
	if rot.retry == nil {
		first, err = r.st.PutIfAbsent(ctx, key, mustMarshal(marker), markerTTL)
	} else {
		marker.At = rot.retry.At // the grace runs from the first rotation, never extended
		first, err = r.st.CompareAndSwap(ctx, key, rot.used, mustMarshal(marker), markerTTL)
	}
	if err != nil {
		// Unknown outcome (for example a write the primary applied but no replica
		// acknowledged): undo this attempt's writes so the retry finds the state before it.
		if rot.retry == nil {
			_, _ = r.st.CompareAndSwap(ctx, key, mustMarshal(marker), nil, 0)
		} else {
			_, _ = r.st.CompareAndSwap(ctx, key, mustMarshal(marker), rot.used, markerTTL)
		}
		if next != "" {
			r.DeleteRefresh(ctx, next)
		}
		return err
	}
	if !first {
		// Two concurrent uses of one refresh token: the second one is reuse.
		if next != "" {
			r.DeleteRefresh(ctx, next)
		}
		return r.reused(ctx, rot.rec)
	}
	return nil
}

// claimSuccessor claims, for a retry, the successor the first rotation handed out: once
// claimed it is dead (a later use of it is reuse). If it was used already, this is no retry
// but a replay (ErrReused). The claim names its parent: a retry whose claim was written but
// which failed later (a store error: the client got 503) finds its own claim and goes on.
func (rot *Rotation) claimSuccessor(ctx context.Context, attempt string, ttl time.Duration) error {
	r := rot.r
	claim := mustMarshal(rotationMarker{Attempt: attempt, At: rot.now.Unix(), Parent: rot.h})
	claimed, err := r.st.PutIfAbsent(ctx, refreshUsedKey(rot.retry.Next), claim, ttl)
	if err != nil {
		return err
	}
	if claimed {
		return nil
	}
	own, err := r.ownClaim(ctx, rot.retry.Next, rot.h, rot.used)
	if err != nil {
		return err
	}
	if !own {
		return r.reused(ctx, rot.rec)
	}
	return nil
}

// ownClaim reports whether the used-marker of successor next is a claim by an earlier retry
// of parent that did not finish: parent's marker still points at next, unchanged.
func (r *Repo) ownClaim(ctx context.Context, next, parent string, parentMarker []byte) (bool, error) {
	raw, err := r.st.Get(ctx, refreshUsedKey(next))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var m rotationMarker
	if json.Unmarshal(raw, &m) != nil || m.Parent != parent {
		return false, nil
	}
	cur, err := r.st.Get(ctx, refreshUsedKey(parent))
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
// token is all it takes, so no grace), within the reuse grace of the first rotation, with a
// successor to supersede. The caller has checked the client already.
func (r *Repo) retryWithinGrace(public bool, raw []byte, now time.Time) *rotationMarker {
	var m rotationMarker
	if r.grace <= 0 || public || json.Unmarshal(raw, &m) != nil || m.Next == "" || m.At == 0 {
		return nil
	}
	if now.Sub(time.Unix(m.At, 0)) > r.grace {
		return nil
	}
	return &m
}
