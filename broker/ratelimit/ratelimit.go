package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/inps/sportello/broker/store"
)

// ErrBadRule is returned for a limit below 1 or a window below one millisecond.
var ErrBadRule = errors.New("ratelimit: limit must be positive and window at least 1ms")

// Limiter counts requests in a store shared by every instance.
type Limiter struct {
	st  store.Store
	now func() time.Time
}

// Options configures a Limiter.
type Options struct {
	// Now is the clock (default time.Now); windows are aligned on it.
	Now func() time.Time
}

// New returns a Limiter on st.
func New(st store.Store, opts Options) *Limiter {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Limiter{st: st, now: opts.Now}
}

// Allow counts one request for key in the current window of the given length and reports
// whether it is within limit; when it is not, retryAfter is the time left in the window.
func (l *Limiter) Allow(ctx context.Context, key string, limit int, window time.Duration) (ok bool, retryAfter time.Duration, err error) {
	if limit < 1 || window < time.Millisecond {
		return false, 0, ErrBadRule
	}
	now := l.now()
	idx := now.UnixNano() / int64(window)
	n, err := l.st.Incr(ctx, counterKey(key, idx), 1, window+time.Second)
	if err != nil {
		return false, 0, fmt.Errorf("ratelimit: %w", err)
	}
	if n <= int64(limit) {
		return true, 0, nil
	}
	end := time.Unix(0, (idx+1)*int64(window))
	return false, end.Sub(now), nil
}

// counterKey is hash-tagged so a Cluster keeps it on one slot whatever key holds.
func counterKey(key string, idx int64) string {
	sum := sha256.Sum256([]byte(key))
	return "ratelimit:{" + hex.EncodeToString(sum[:12]) + "}:" + strconv.FormatInt(idx, 10)
}
