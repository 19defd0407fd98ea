package grants

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/inps/sportello/internal/store"
)

// The repository's answers; store failures are returned as they are (store.IsOutage).
var (
	// ErrUnknown: no such code or refresh token (never issued, expired from the store, or
	// taken).
	ErrUnknown = errors.New("grants: unknown or expired")
	// ErrOtherClient: the code or refresh token was issued to another client.
	ErrOtherClient = errors.New("grants: issued to another client")
	// ErrExpired: the code, or the refresh family, has expired.
	ErrExpired = errors.New("grants: expired")
	// ErrRevoked: the refresh family has been revoked.
	ErrRevoked = errors.New("grants: revoked")
	// ErrUsed: the code was redeemed already (past its retry window, or by a concurrent
	// request).
	ErrUsed = errors.New("grants: already used")
	// ErrReused: a rotated refresh token came back, not as its client's retry; the family is
	// revoked.
	ErrReused = errors.New("grants: refresh token reused")
	// ErrCorrupt: a stored record does not decode.
	ErrCorrupt = errors.New("grants: stored record does not decode")
	// ErrRandom: the random source failed (a server error, not the store's).
	ErrRandom = errors.New("random")
)

// Options configure a Repo.
type Options struct {
	Store store.Store
	// RefreshTTL is the absolute lifetime of a refresh family; AccessTTL that of an access
	// token. A revoked family's mark outlives both.
	RefreshTTL, AccessTTL time.Duration
	// ReuseGrace is how long after a rotation a confidential client may present the rotated
	// refresh token again as a retry (0: never; see Rotation).
	ReuseGrace time.Duration
	Now        func() time.Time
	Rand       io.Reader
	Logger     *slog.Logger
}

// Repo is the grants repository. Its zero value is not usable: see New.
type Repo struct {
	st         store.Store
	refreshTTL time.Duration
	accessTTL  time.Duration
	grace      time.Duration
	now        func() time.Time
	rand       io.Reader
	log        *slog.Logger
}

// New returns the repository over o.Store.
func New(o Options) *Repo {
	r := &Repo{st: o.Store, refreshTTL: o.RefreshTTL, accessTTL: o.AccessTTL, grace: o.ReuseGrace,
		now: o.Now, rand: o.Rand, log: o.Logger}
	if r.now == nil {
		r.now = time.Now
	}
	if r.rand == nil {
		r.rand = rand.Reader
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	return r
}

// RandomToken returns n random bytes of the repository's random source, base64url-encoded.
func (r *Repo) RandomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(r.rand, b); err != nil {
		return "", fmt.Errorf("%w: %w", ErrRandom, err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// RevokeFamily marks a refresh family revoked: its refresh tokens, and the access tokens that
// carry it as grant_id, stop at once. The mark outlives both (refresh and access TTL). A
// failure is logged and returned.
func (r *Repo) RevokeFamily(ctx context.Context, family, reason string) error {
	if family == "" {
		return nil
	}
	ttl := max(r.refreshTTL, r.accessTTL) + time.Hour
	if err := r.st.Put(ctx, familyRevokedKey(family), []byte(reason), ttl); err != nil {
		r.log.ErrorContext(ctx, "cannot revoke refresh family", "error", err)
		return err
	}
	return nil
}

// FamilyRevoked reports whether the refresh family was revoked.
func (r *Repo) FamilyRevoked(ctx context.Context, family string) (bool, error) {
	_, err := r.st.Get(ctx, familyRevokedKey(family))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// DenyAccess puts one access token on the deny list until it expires. A failure is logged
// and returned.
func (r *Repo) DenyAccess(ctx context.Context, jti string, exp time.Time) error {
	ttl := exp.Sub(r.now())
	if jti == "" || ttl <= 0 {
		return nil
	}
	if err := r.st.Put(ctx, deniedAccessKey(jti), []byte("1"), ttl+time.Minute); err != nil {
		r.log.ErrorContext(ctx, "cannot revoke access token", "error", err)
		return err
	}
	return nil
}

// AccessRevoked reports whether an access token was revoked: by itself (its jti on the deny
// list) or with its grant (family, its grant_id: the refresh family). A client_credentials
// token has no family: one lookup.
func (r *Repo) AccessRevoked(ctx context.Context, jti, family string) (bool, error) {
	_, err := r.st.Get(ctx, deniedAccessKey(jti))
	if err == nil {
		return true, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return false, err
	}
	if family != "" {
		return r.FamilyRevoked(ctx, family)
	}
	return false, nil
}

// RevokeIssued revokes what a code's redemption issued (or may have): its refresh family, and
// with it the access token, also put on the deny list. Failures are logged: the request is
// refused either way.
func (r *Repo) RevokeIssued(ctx context.Context, u *Issued, reason string) {
	_ = r.RevokeFamily(ctx, u.FamilyID, reason)
	_ = r.DenyAccess(ctx, u.JTI, u.AccessExp)
}
