package delegation

import (
	"context"
	"fmt"
	"time"

	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/providers"
)

// outageStore is the registry's view of its store, whose failures say so: every error of the
// store's own but ErrNotFound also wraps providers.ErrUnavailable, so that the pages and the
// operators' API answer an outage as every other part of the broker does (503, Retry-After,
// "try again shortly"), by that sentinel, not as an unexpected error. The registry's own
// errors, those its store.Update callbacks return, pass through unchanged.
type outageStore struct{ store.Store }

func outage(err error) error {
	if store.IsOutage(err) {
		return fmt.Errorf("delegation: store: %w: %w", providers.ErrUnavailable, err)
	}
	return err
}

func (s outageStore) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	return outage(s.Store.Put(ctx, key, value, ttl))
}

func (s outageStore) Get(ctx context.Context, key string) ([]byte, error) {
	b, err := s.Store.Get(ctx, key)
	return b, outage(err)
}

func (s outageStore) Take(ctx context.Context, key string) ([]byte, error) {
	b, err := s.Store.Take(ctx, key)
	return b, outage(err)
}

func (s outageStore) PutIfAbsent(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	ok, err := s.Store.PutIfAbsent(ctx, key, value, ttl)
	return ok, outage(err)
}

func (s outageStore) CompareAndSwap(ctx context.Context, key string, old, next []byte, ttl time.Duration) (bool, error) {
	ok, err := s.Store.CompareAndSwap(ctx, key, old, next, ttl)
	return ok, outage(err)
}

func (s outageStore) Delete(ctx context.Context, key string) error {
	return outage(s.Store.Delete(ctx, key))
}

func (s outageStore) Incr(ctx context.Context, key string, delta int64, ttl time.Duration) (int64, error) {
	n, err := s.Store.Incr(ctx, key, delta, ttl)
	return n, outage(err)
}

func (s outageStore) Throttle(ctx context.Context, key string, rate store.Rate) (bool, time.Duration, error) {
	ok, retry, err := s.Store.Throttle(ctx, key, rate)
	return ok, retry, outage(err)
}

func (s outageStore) TTL(ctx context.Context, key string) (time.Duration, error) {
	d, err := s.Store.TTL(ctx, key)
	return d, outage(err)
}

func (s outageStore) Ping(ctx context.Context) error { return outage(s.Store.Ping(ctx)) }
