package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/providers"
)

// DefaultMaxAge is the absolute lifetime of a session when Options.MaxAge is 0.
const DefaultMaxAge = 12 * time.Hour

// Options configure a Repo.
type Options struct {
	Store store.Store
	// Idle ends a session not used for that long (tokens.session_idle).
	Idle time.Duration
	// MaxAge ends a session that old, however active (tokens.session_max; 0: DefaultMaxAge).
	MaxAge time.Duration
	// Subject is the broker's sub of an identity: the person index's key (nil: no index,
	// and EndPerson finds nothing).
	Subject func(*providers.Identity) string
	// OnEnd, when set, is called exactly once for each session that ends, whichever way it
	// ends (see Ended), by the replica that ended it.
	OnEnd func(ctx context.Context, e Ended)
	Now   func() time.Time
	Rand  io.Reader
}

// Repo is the SSO sessions' repository. Its zero value is not usable: see New.
type Repo struct {
	st      store.Store
	idle    time.Duration
	maxAge  time.Duration
	subject func(*providers.Identity) string
	onEnd   func(ctx context.Context, e Ended)
	now     func() time.Time
	rand    io.Reader
}

// New returns the repository over o.Store.
func New(o Options) *Repo {
	r := &Repo{st: o.Store, idle: o.Idle, maxAge: o.MaxAge, subject: o.Subject, onEnd: o.OnEnd, now: o.Now, rand: o.Rand}
	if r.maxAge <= 0 {
		r.maxAge = DefaultMaxAge
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.rand == nil {
		r.rand = rand.Reader
	}
	return r
}

// MaxAge is the absolute lifetime of a session.
func (r *Repo) MaxAge() time.Duration { return r.maxAge }

// record is a session as stored (key "sess:<hash of the cookie's secret>").
type record struct {
	Identity *providers.Identity `json:"identity"`
	Created  time.Time           `json:"created"`
	PublicID string              `json:"public_id"`
}

// Session is an open SSO session.
type Session struct {
	Identity *providers.Identity
	// PublicID is the sid claim of the tokens issued in the session.
	PublicID string
	Created  time.Time
}

// Open opens a session for id. It returns the cookie's secret and the session's public id.
// The live marker (see live) is written first: a session is never open without the record
// through which it ends. The upstream and person indexes are best effort: a session without
// them only misses an IdP-initiated logout or an operator's EndPerson.
func (r *Repo) Open(ctx context.Context, id *providers.Identity) (secret, publicID string, err error) {
	if secret, err = r.random(24); err != nil {
		return "", "", err
	}
	if publicID, err = r.random(16); err != nil {
		return "", "", err
	}
	rec := record{Identity: id, Created: r.now(), PublicID: publicID}
	raw, err := json.Marshal(rec)
	if err != nil {
		return "", "", err
	}
	sub := ""
	if r.subject != nil {
		sub = r.subject(id)
	}
	up := upstreamKey(id.Session)
	lv, _ := json.Marshal(live{Hash: hash(secret), Subject: sub, Upstream: up})
	if err := r.st.Put(ctx, liveKey(publicID), lv, r.liveTTL()); err != nil {
		return "", "", err
	}
	if err := r.st.Put(ctx, key(hash(secret)), raw, r.idle); err != nil {
		_ = r.st.Delete(ctx, liveKey(publicID))
		return "", "", err
	}
	if up != "" {
		_ = r.st.Put(ctx, up, []byte(hash(secret)), r.idle)
	}
	if sub != "" {
		r.index(ctx, sub, publicID)
	}
	return secret, publicID, nil
}

// Get returns the session of the cookie's secret, sliding its idle timeout: nil, nil when
// there is none (unknown, unreadable, idle too long, or older than MaxAge, which ends it), an
// error when the store could not say. The slide only extends a record still there
// (compare-and-swap), so a request in flight never revives a session that a logout just
// ended.
func (r *Repo) Get(ctx context.Context, secret string) (*Session, error) {
	if secret == "" {
		return nil, nil
	}
	k := key(hash(secret))
	raw, err := r.st.Get(ctx, k)
	if store.IsOutage(err) {
		return nil, err
	}
	if err != nil {
		return nil, nil
	}
	var rec record
	if json.Unmarshal(raw, &rec) != nil || rec.Identity == nil || rec.PublicID == "" {
		return nil, nil
	}
	if r.now().Sub(rec.Created) > r.maxAge {
		_ = r.st.Delete(ctx, k)
		_, err := r.end(ctx, rec.PublicID, EndMaxAge)
		return nil, err
	}
	ok, err := r.st.CompareAndSwap(ctx, k, raw, raw, r.idle)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, nil
	}
	if up := upstreamKey(rec.Identity.Session); up != "" {
		h := []byte(hash(secret))
		_, _ = r.st.CompareAndSwap(ctx, up, h, h, r.idle)
	}
	return &Session{Identity: rec.Identity, PublicID: rec.PublicID, Created: rec.Created}, nil
}

// End ends the session of the cookie's secret (RP-initiated logout).
func (r *Repo) End(ctx context.Context, secret string) error {
	if secret == "" {
		return nil
	}
	return r.endByHash(ctx, hash(secret), EndLogout)
}

// EndRevoked ends the session of the cookie's secret whose person an operator revoked
// (Broker.EndSessions) but that escaped EndPerson: for EndOperator, as EndPerson would have.
func (r *Repo) EndRevoked(ctx context.Context, secret string) error {
	if secret == "" {
		return nil
	}
	return r.endByHash(ctx, hash(secret), EndOperator)
}

// endByHash ends the session whose record is at key(h), for why.
func (r *Repo) endByHash(ctx context.Context, h, why string) error {
	raw, err := r.st.Take(ctx, key(h))
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	var rec record
	if json.Unmarshal(raw, &rec) != nil || rec.PublicID == "" {
		return nil // unreadable: nothing more to end
	}
	_, err = r.end(ctx, rec.PublicID, why)
	return err
}

// EndUpstream ends the session opened with the given upstream session (an IdP-initiated
// logout). It reports whether there was one; an unknown session is not an error.
func (r *Repo) EndUpstream(ctx context.Context, upstream map[string]string) (bool, error) {
	up := upstreamKey(upstream)
	if up == "" {
		return false, nil
	}
	raw, err := r.st.Take(ctx, up)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, r.endByHash(ctx, string(raw), EndUpstream)
}

func (r *Repo) random(n int) (string, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(r.rand, b); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// hash is the Store key part of the cookie's secret: the store never holds a usable cookie.
func hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// key is a session record by the hash of its cookie's secret. The Store keys are part of the
// stored data's format (TestStoreKeysAreStable pins them).
func key(secretHash string) string { return "sess:" + secretHash }

// upstreamKey indexes a session (its value: the hash of the cookie's secret) by its upstream
// session: for SAML the IdP, NameID and SessionIndex. None without an upstream session.
func upstreamKey(s map[string]string) string {
	if len(s) == 0 {
		return ""
	}
	return "sessup:" + hash(s["idp"]+"\x00"+s["name_id"]+"\x00"+s["session_index"])
}
