package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/inps/sportello/internal/store"
)

// ErrBadRule is returned for a limit below 1 or a window below one millisecond.
var ErrBadRule = errors.New("ratelimit: limit must be positive and window at least 1ms")

// Limiter limits requests in a store shared by every instance.
type Limiter struct {
	st store.Store
}

// Options configures a Limiter. The clock is the store's (Redis: the server's), so that
// every instance counts against the same time.
type Options struct{}

// New returns a Limiter on st.
func New(st store.Store, _ Options) *Limiter {
	return &Limiter{st: st}
}

// Allow counts one request for key against limit requests per window (store.Throttle: the
// limit may come at once, then one request per window/limit) and reports whether it passes;
// when it does not, retryAfter is the time until one would. Refused requests are not counted.
func (l *Limiter) Allow(ctx context.Context, key string, limit int, window time.Duration) (ok bool, retryAfter time.Duration, err error) {
	if limit < 1 || window < time.Millisecond {
		return false, 0, ErrBadRule
	}
	ok, retryAfter, err = l.st.Throttle(ctx, bucketKey(key), store.Rate{Limit: limit, Period: window})
	if err != nil {
		return false, 0, fmt.Errorf("ratelimit: %w", err)
	}
	return ok, retryAfter, nil
}

// bucketKey is hash-tagged so a Cluster keeps it on one slot whatever key holds, bounded in
// length, and free of the raw address or client id.
func bucketKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "ratelimit:{" + hex.EncodeToString(sum[:12]) + "}"
}
