// Package store is the one contract for all state that crosses requests: pending logins, codes,
// tokens, SAML request IDs and the assertion replay cache, PIN records and lockouts,
// delegations, keys, rate-limit buckets. Two implementations (memory, redis) run one
// conformance suite (storetest).
//
// Keys are plain strings; callers namespace them ("code:", "rt:", ...). A key may contain a
// hash tag in braces ("pin:{RSSMRA80A01H501U}:lock") so that, on Redis Cluster, related keys
// land on one slot. Values are opaque bytes. A ttl of 0 means no expiry.
package store

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned when a key does not exist or has expired.
var ErrNotFound = errors.New("store: not found")

// ErrConflict is returned by Update when the compare-and-swap kept failing.
var ErrConflict = errors.New("store: concurrent update conflict")

// OutageRetryAfter is how long a person or a client is told to wait (Retry-After) when the
// store fails: about what a Sentinel failover takes to promote a replica (its default
// down-after-milliseconds is 30 s).
const OutageRetryAfter = 30 * time.Second

// IsOutage tells a failure of the store from one of its answers: it reports whether err is
// the store failing (unreachable, timed out, a write not durable, an update that kept
// conflicting), not nil and not ErrNotFound. A page says "temporarily unavailable, try again
// shortly" for an outage; only an answer may say that a login expired or is unknown.
func IsOutage(err error) bool { return err != nil && !errors.Is(err, ErrNotFound) }

// Store is the shared-state contract. Every operation is atomic on its key.
type Store interface {
	// Put sets key to value with a ttl (0 = no expiry).
	Put(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Get returns the value of key or ErrNotFound.
	Get(ctx context.Context, key string) ([]byte, error)
	// Take atomically returns and deletes key (ErrNotFound if absent): exactly one of many
	// concurrent callers gets the value.
	Take(ctx context.Context, key string) ([]byte, error)
	// PutIfAbsent sets key only if it does not exist; it reports whether it did.
	PutIfAbsent(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error)
	// CompareAndSwap replaces key's value with next only if the current value equals old (old
	// nil: only if the key is absent). It reports whether it swapped. next nil deletes the key.
	CompareAndSwap(ctx context.Context, key string, old, next []byte, ttl time.Duration) (bool, error)
	// Delete removes key; deleting an absent key is not an error.
	Delete(ctx context.Context, key string) error
	// Incr adds delta to the integer counter at key and returns the new value. A counter that
	// did not exist starts at 0 and gets ttl (0 = no expiry); an existing one keeps its ttl.
	Incr(ctx context.Context, key string, delta int64, ttl time.Duration) (int64, error)
	// Throttle counts one request for key against rate with the generic cell rate algorithm
	// (Rate.GCRA: one value per key, the store's own clock, Redis' for Redis) and reports
	// whether it passes; when it does not, retryAfter is how long until one would, and
	// nothing is counted. The key expires once a full burst is allowed again. A key that
	// holds something else is an error; a bad rate is ErrBadRate.
	Throttle(ctx context.Context, key string, rate Rate) (allowed bool, retryAfter time.Duration, err error)
	// TTL returns the remaining time to live of key (0 when it has no expiry) or ErrNotFound.
	TTL(ctx context.Context, key string) (time.Duration, error)
	// Ping checks that the store is reachable.
	Ping(ctx context.Context) error
	// Close releases resources.
	Close() error
}

// Update applies fn to the current value of key (nil when absent) and stores the result with
// compare-and-swap, retrying on concurrent changes. fn returning a nil slice deletes the key;
// fn returning an error aborts without writing. It returns the value written.
func Update(ctx context.Context, s Store, key string, ttl time.Duration, fn func(old []byte) ([]byte, error)) ([]byte, error) {
	for attempt := 0; attempt < 64; attempt++ {
		old, err := s.Get(ctx, key)
		if errors.Is(err, ErrNotFound) {
			old = nil
		} else if err != nil {
			return nil, err
		}
		next, err := fn(old)
		if err != nil {
			return nil, err
		}
		ok, err := s.CompareAndSwap(ctx, key, old, next, ttl)
		if err != nil {
			return nil, err
		}
		if ok {
			return next, nil
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	return nil, ErrConflict
}
