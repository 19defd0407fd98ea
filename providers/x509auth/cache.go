package x509auth

import (
	"context"
	"sync"
	"time"
)

// maxCacheEntries bounds each revocation cache; beyond it expired entries are swept and, if
// still full, the cache starts afresh (a burst of fetches is better than unbounded memory).
const maxCacheEntries = 10000

// flightCache caches values until a per-entry deadline and lets concurrent callers of the same
// key share one load (a login burst after a CRL expires causes one download, not hundreds).
// Failed loads are not cached.
type flightCache[T any] struct {
	mu      sync.Mutex
	entries map[string]*flightEntry[T]
}

type flightEntry[T any] struct {
	done  chan struct{}
	val   T
	until time.Time
	err   error
}

func newFlightCache[T any]() *flightCache[T] {
	return &flightCache[T]{entries: map[string]*flightEntry[T]{}}
}

// get returns the cached value for key when fresh at now, else calls load once for all
// concurrent callers. load returns the value and the time until which it may be cached.
func (c *flightCache[T]) get(ctx context.Context, key string, now time.Time, load func() (T, time.Time, error)) (T, error) {
	c.mu.Lock()
	if e, ok := c.entries[key]; ok {
		select {
		case <-e.done:
			if e.err == nil && now.Before(e.until) {
				c.mu.Unlock()
				return e.val, nil
			}
		default:
			c.mu.Unlock()
			select {
			case <-e.done:
				return e.val, e.err
			case <-ctx.Done():
				var zero T
				return zero, ctx.Err()
			}
		}
	}
	if len(c.entries) >= maxCacheEntries {
		c.sweep(now)
	}
	e := &flightEntry[T]{done: make(chan struct{})}
	c.entries[key] = e
	c.mu.Unlock()

	e.val, e.until, e.err = load()
	close(e.done)
	if e.err != nil {
		c.mu.Lock()
		if c.entries[key] == e {
			delete(c.entries, key)
		}
		c.mu.Unlock()
	}
	return e.val, e.err
}

// sweep drops expired entries; the caller holds mu.
func (c *flightCache[T]) sweep(now time.Time) {
	for k, e := range c.entries {
		select {
		case <-e.done:
			if !now.Before(e.until) {
				delete(c.entries, k)
			}
		default:
		}
	}
	if len(c.entries) >= maxCacheEntries {
		c.entries = map[string]*flightEntry[T]{}
	}
}
