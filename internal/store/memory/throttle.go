package memory

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/inps/sportello/internal/store"
)

// Throttle applies store.Rate.GCRA to key under the key's lock, on the store's clock. The
// key holds the theoretical arrival time (Unix nanoseconds, decimal) and expires with it.
func (s *Store) Throttle(ctx context.Context, key string, rate store.Rate) (bool, time.Duration, error) {
	if err := rate.Check(); err != nil {
		return false, 0, err
	}
	sh, now, err := s.lock(ctx, key, 0)
	if err != nil {
		return false, 0, err
	}
	defer sh.mu.Unlock()
	var tat time.Time
	if e, ok := sh.get(key, now); ok {
		ns, err := strconv.ParseInt(string(e.value), 10, 64)
		if err != nil {
			return false, 0, fmt.Errorf("throttle %q: %w", key, ErrNotInteger)
		}
		tat = time.Unix(0, ns)
	}
	allowed, next, retry := rate.GCRA(now, tat)
	if !allowed {
		return false, retry, nil
	}
	sh.data[key] = entry{value: strconv.AppendInt(nil, next.UnixNano(), 10), expires: next}
	return true, 0, nil
}
