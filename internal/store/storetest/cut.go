package storetest

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/inps/sportello/internal/store"
)

// ErrCut is what a CutStore answers in place of the real answer.
var ErrCut = errors.New("storetest: connection cut")

// CutStore wraps a Store to cut the connection at chosen commands. A command After chooses
// runs (its effect stays, as a write Redis committed does) and its answer is lost: the caller
// gets ErrCut. A command Before chooses fails with ErrCut without running. Commands are
// named after the Store methods ("Put", "CompareAndSwap", ...). It is safe for concurrent
// use.
type CutStore struct {
	store.Store
	mu            sync.Mutex
	before, after func(op, key string) bool
}

// NewCutStore wraps s; nothing is cut until Before or After says what.
func NewCutStore(s store.Store) *CutStore { return &CutStore{Store: s} }

// Before makes the commands fn chooses fail before they run (nil: none).
func (c *CutStore) Before(fn func(op, key string) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.before = fn
}

// After makes the commands fn chooses lose their answer after they ran (nil: none).
func (c *CutStore) After(fn func(op, key string) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.after = fn
}

// Once returns a chooser that picks the first command op on key, and nothing after it.
func Once(op, key string) func(string, string) bool {
	var done bool
	var mu sync.Mutex
	return func(o, k string) bool {
		mu.Lock()
		defer mu.Unlock()
		if done || o != op || k != key {
			return false
		}
		done = true
		return true
	}
}

func (c *CutStore) cut(op, key string) (before, after bool) {
	c.mu.Lock()
	b, a := c.before, c.after
	c.mu.Unlock()
	return b != nil && b(op, key), a != nil && a(op, key)
}

// Put implements store.Store.
func (c *CutStore) Put(ctx context.Context, key string, v []byte, ttl time.Duration) error {
	before, after := c.cut("Put", key)
	if before {
		return ErrCut
	}
	if err := c.Store.Put(ctx, key, v, ttl); err != nil || !after {
		return err
	}
	return ErrCut
}

// Get implements store.Store.
func (c *CutStore) Get(ctx context.Context, key string) ([]byte, error) {
	before, after := c.cut("Get", key)
	if before {
		return nil, ErrCut
	}
	v, err := c.Store.Get(ctx, key)
	if err != nil || !after {
		return v, err
	}
	return nil, ErrCut
}

// Take implements store.Store.
func (c *CutStore) Take(ctx context.Context, key string) ([]byte, error) {
	before, after := c.cut("Take", key)
	if before {
		return nil, ErrCut
	}
	v, err := c.Store.Take(ctx, key)
	if err != nil || !after {
		return v, err
	}
	return nil, ErrCut
}

// PutIfAbsent implements store.Store.
func (c *CutStore) PutIfAbsent(ctx context.Context, key string, v []byte, ttl time.Duration) (bool, error) {
	before, after := c.cut("PutIfAbsent", key)
	if before {
		return false, ErrCut
	}
	ok, err := c.Store.PutIfAbsent(ctx, key, v, ttl)
	if err != nil || !after {
		return ok, err
	}
	return false, ErrCut
}

// CompareAndSwap implements store.Store.
func (c *CutStore) CompareAndSwap(ctx context.Context, key string, old, next []byte, ttl time.Duration) (bool, error) {
	before, after := c.cut("CompareAndSwap", key)
	if before {
		return false, ErrCut
	}
	ok, err := c.Store.CompareAndSwap(ctx, key, old, next, ttl)
	if err != nil || !after {
		return ok, err
	}
	return false, ErrCut
}

// Delete implements store.Store.
func (c *CutStore) Delete(ctx context.Context, key string) error {
	before, after := c.cut("Delete", key)
	if before {
		return ErrCut
	}
	if err := c.Store.Delete(ctx, key); err != nil || !after {
		return err
	}
	return ErrCut
}

// Incr implements store.Store.
func (c *CutStore) Incr(ctx context.Context, key string, delta int64, ttl time.Duration) (int64, error) {
	before, after := c.cut("Incr", key)
	if before {
		return 0, ErrCut
	}
	n, err := c.Store.Incr(ctx, key, delta, ttl)
	if err != nil || !after {
		return n, err
	}
	return 0, ErrCut
}

// Throttle implements store.Store.
func (c *CutStore) Throttle(ctx context.Context, key string, rate store.Rate) (bool, time.Duration, error) {
	before, after := c.cut("Throttle", key)
	if before {
		return false, 0, ErrCut
	}
	ok, retry, err := c.Store.Throttle(ctx, key, rate)
	if err != nil || !after {
		return ok, retry, err
	}
	return false, 0, ErrCut
}

// TTL implements store.Store.
func (c *CutStore) TTL(ctx context.Context, key string) (time.Duration, error) {
	before, after := c.cut("TTL", key)
	if before {
		return 0, ErrCut
	}
	d, err := c.Store.TTL(ctx, key)
	if err != nil || !after {
		return d, err
	}
	return 0, ErrCut
}

var _ store.Store = (*CutStore)(nil)
