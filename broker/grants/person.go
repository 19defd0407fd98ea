package grants

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/inps/sportello/internal/store"
)

// RevokePerson revokes every grant of the person whose broker sub is sub, as subject or as
// actor (a delegate), resting on an authentication up to now (Grant.Granted): their refresh
// families at the next refresh or introspection, their access tokens when presented back to
// the broker, their codes at redemption. It is one mark ("rtperson:<sub>": the time of the latest revocation), not a
// walk over the person's families: one write, atomic and seen at once by every replica,
// however many families the person has and whichever replica issued them; a later login
// (granted after the mark) is not touched. The mark outlives every grant it revokes (refresh
// and access TTL). It returns the mark's time.
func (r *Repo) RevokePerson(ctx context.Context, sub string) (time.Time, error) {
	if sub == "" {
		return time.Time{}, errors.New("grants: RevokePerson needs a sub")
	}
	now := r.now()
	ttl := max(r.refreshTTL, r.accessTTL) + time.Hour
	_, err := store.Update(ctx, r.st, personRevokedKey(sub), ttl, func(old []byte) ([]byte, error) {
		at := now.UnixNano()
		if prev, err := strconv.ParseInt(string(old), 10, 64); err == nil && prev > at {
			at = prev // a replica whose clock runs ahead revoked later: keep the later mark
		}
		return []byte(strconv.FormatInt(at, 10)), nil
	})
	if err != nil {
		r.log.ErrorContext(ctx, "cannot revoke a person's grants", "error", err)
		return time.Time{}, err
	}
	return now, nil
}

// PersonRevoked reports whether a grant obtained at granted, whose people are subs (its
// subject and actors), was revoked by RevokePerson: granted at or before the mark of one of
// them. A time of second precision (an access token's iat) is revoked within the second of
// the mark too: fail closed.
func (r *Repo) PersonRevoked(ctx context.Context, granted time.Time, subs ...string) (bool, error) {
	for _, sub := range subs {
		if sub == "" {
			continue
		}
		raw, err := r.st.Get(ctx, personRevokedKey(sub))
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return false, err
		}
		at, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil || !granted.After(time.Unix(0, at)) {
			return true, nil // an unreadable mark revokes too
		}
	}
	return false, nil
}

// People are the subs a grant belongs to: its subject and every actor of its chain.
func (g *Grant) People() []string {
	subs := []string{g.Subject}
	for a := g.Act; a != nil; a = a.Act {
		subs = append(subs, a.Subject)
	}
	return subs
}

// Granted is the time a RevokePerson mark is compared with: the earlier of the authentication
// (the identity's AuthTime) and GrantedAt, the one known when the other is not (zero when
// neither is, which any mark revokes). The authentication decides: a code issued later from
// an SSO session opened before the mark — one that escaped the sessions' end, or a mark
// written while the code was being issued — still rests on the revoked login.
func (g *Grant) Granted() time.Time {
	var auth time.Time
	if g.Identity != nil {
		auth = g.Identity.AuthTime
	}
	switch {
	case auth.IsZero():
		return g.GrantedAt
	case g.GrantedAt.IsZero() || auth.Before(g.GrantedAt):
		return auth
	}
	return g.GrantedAt
}
