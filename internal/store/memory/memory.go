package memory

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/inps/sportello/internal/store"
)

// ErrClosed is returned by every operation on a Store after Close.
var ErrClosed = errors.New("store/memory: closed")

// ErrNegativeTTL is returned when a ttl is negative (0 means no expiry).
var ErrNegativeTTL = errors.New("store/memory: negative ttl")

// ErrNotInteger is returned by Incr and Throttle when the key holds something that is not a
// decimal integer, or when the increment would overflow int64.
var ErrNotInteger = errors.New("store/memory: value is not an integer or out of range")

// DefaultJanitorInterval is how often the janitor sweeps expired keys when
// Options.JanitorInterval is 0.
const DefaultJanitorInterval = time.Minute

// shardCount spreads keys over independent locks; a power of two keeps the index a mask.
const shardCount = 32

// Options configures a Store.
type Options struct {
	// Now is the clock; nil means time.Now. Tests inject a fake one and move it.
	Now func() time.Time
	// JanitorInterval is how often expired keys are swept from memory: 0 means
	// DefaultJanitorInterval, a negative value disables the janitor (reads still never return
	// an expired key).
	JanitorInterval time.Duration
}

// Store is an in-memory store.Store. The zero value is not usable; call New.
type Store struct {
	now    func() time.Time
	seed   maphash.Seed
	shards [shardCount]shard

	closeOnce sync.Once
	closed    chan struct{}
	janitor   sync.WaitGroup
}

var _ store.Store = (*Store)(nil)

type shard struct {
	mu   sync.Mutex
	data map[string]entry
}

type entry struct {
	value   []byte
	expires time.Time // zero: no expiry
}

// New returns an empty Store and starts its janitor. Call Close to stop it.
func New(opts Options) *Store {
	s := &Store{
		now:    opts.Now,
		seed:   maphash.MakeSeed(),
		closed: make(chan struct{}),
	}
	if s.now == nil {
		s.now = time.Now
	}
	for i := range s.shards {
		s.shards[i].data = make(map[string]entry)
	}
	interval := opts.JanitorInterval
	if interval == 0 {
		interval = DefaultJanitorInterval
	}
	if interval > 0 {
		s.janitor.Add(1)
		go s.sweepEvery(interval)
	}
	return s
}

// live reports whether e exists and has not expired at now. An entry expires at the exact
// instant its deadline is reached.
func (e entry) live(now time.Time) bool {
	return e.value != nil && (e.expires.IsZero() || now.Before(e.expires))
}

// deadline turns a ttl into an absolute expiry (zero for none).
func deadline(now time.Time, ttl time.Duration) time.Time {
	if ttl == 0 {
		return time.Time{}
	}
	return now.Add(ttl)
}

// clone copies b so callers never share memory with the map; an empty value stays non-nil so
// that "present but empty" differs from "absent".
func clone(b []byte) []byte {
	return append(make([]byte, 0, len(b)), b...)
}

// lock checks the context and the closed state, then locks the shard of key and returns it
// with the current time. The caller unlocks.
func (s *Store) lock(ctx context.Context, key string, ttl time.Duration) (*shard, time.Time, error) {
	if err := ctx.Err(); err != nil {
		return nil, time.Time{}, err
	}
	if ttl < 0 {
		return nil, time.Time{}, fmt.Errorf("%w: %v", ErrNegativeTTL, ttl)
	}
	select {
	case <-s.closed:
		return nil, time.Time{}, ErrClosed
	default:
	}
	sh := &s.shards[maphash.String(s.seed, key)&(shardCount-1)]
	sh.mu.Lock()
	return sh, s.now(), nil
}

// get returns the live entry of key, deleting it if it has expired. The shard is locked.
func (sh *shard) get(key string, now time.Time) (entry, bool) {
	e, ok := sh.data[key]
	if !ok {
		return entry{}, false
	}
	if !e.live(now) {
		delete(sh.data, key)
		return entry{}, false
	}
	return e, true
}

// Put sets key to value with a ttl (0 = no expiry).
func (s *Store) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	sh, now, err := s.lock(ctx, key, ttl)
	if err != nil {
		return err
	}
	defer sh.mu.Unlock()
	sh.data[key] = entry{value: clone(value), expires: deadline(now, ttl)}
	return nil
}

// Get returns a copy of the value of key or store.ErrNotFound.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	sh, now, err := s.lock(ctx, key, 0)
	if err != nil {
		return nil, err
	}
	defer sh.mu.Unlock()
	e, ok := sh.get(key, now)
	if !ok {
		return nil, store.ErrNotFound
	}
	return clone(e.value), nil
}

// Take atomically returns and deletes key, or returns store.ErrNotFound.
func (s *Store) Take(ctx context.Context, key string) ([]byte, error) {
	sh, now, err := s.lock(ctx, key, 0)
	if err != nil {
		return nil, err
	}
	defer sh.mu.Unlock()
	e, ok := sh.get(key, now)
	if !ok {
		return nil, store.ErrNotFound
	}
	delete(sh.data, key)
	return e.value, nil // the entry is gone: nobody else holds this slice
}

// PutIfAbsent sets key only if it does not exist (or has expired) and reports whether it did.
func (s *Store) PutIfAbsent(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	sh, now, err := s.lock(ctx, key, ttl)
	if err != nil {
		return false, err
	}
	defer sh.mu.Unlock()
	if _, ok := sh.get(key, now); ok {
		return false, nil
	}
	sh.data[key] = entry{value: clone(value), expires: deadline(now, ttl)}
	return true, nil
}

// CompareAndSwap replaces the value of key with next only if it currently equals old (old nil:
// only if absent); next nil deletes the key. The ttl applies to the new value.
func (s *Store) CompareAndSwap(ctx context.Context, key string, old, next []byte, ttl time.Duration) (bool, error) {
	sh, now, err := s.lock(ctx, key, ttl)
	if err != nil {
		return false, err
	}
	defer sh.mu.Unlock()
	cur, ok := sh.get(key, now)
	switch {
	case old == nil && ok:
		return false, nil
	case old != nil && (!ok || !bytes.Equal(cur.value, old)):
		return false, nil
	}
	if next == nil {
		delete(sh.data, key)
		return true, nil
	}
	sh.data[key] = entry{value: clone(next), expires: deadline(now, ttl)}
	return true, nil
}

// Delete removes key; deleting an absent key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	sh, _, err := s.lock(ctx, key, 0)
	if err != nil {
		return err
	}
	defer sh.mu.Unlock()
	delete(sh.data, key)
	return nil
}

// Incr adds delta to the decimal counter at key and returns the new value. A new counter
// starts at 0 and gets ttl; an existing one keeps its expiry. Like Redis INCRBY, the value is
// stored as decimal text, so Get returns e.g. "42".
func (s *Store) Incr(ctx context.Context, key string, delta int64, ttl time.Duration) (int64, error) {
	sh, now, err := s.lock(ctx, key, ttl)
	if err != nil {
		return 0, err
	}
	defer sh.mu.Unlock()
	e, ok := sh.get(key, now)
	var n int64
	if ok {
		n, err = strconv.ParseInt(string(e.value), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("incr %q: %w", key, ErrNotInteger)
		}
	} else {
		e.expires = deadline(now, ttl)
	}
	if (delta > 0 && n > math.MaxInt64-delta) || (delta < 0 && n < math.MinInt64-delta) {
		return 0, fmt.Errorf("incr %q: %w", key, ErrNotInteger)
	}
	n += delta
	e.value = strconv.AppendInt(nil, n, 10)
	sh.data[key] = e
	return n, nil
}

// TTL returns the remaining time to live of key (0 when it has no expiry) or
// store.ErrNotFound.
func (s *Store) TTL(ctx context.Context, key string) (time.Duration, error) {
	sh, now, err := s.lock(ctx, key, 0)
	if err != nil {
		return 0, err
	}
	defer sh.mu.Unlock()
	e, ok := sh.get(key, now)
	if !ok {
		return 0, store.ErrNotFound
	}
	if e.expires.IsZero() {
		return 0, nil
	}
	return e.expires.Sub(now), nil
}

// Ping reports whether the store is usable: it fails only after Close or with a done context.
func (s *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case <-s.closed:
		return ErrClosed
	default:
		return nil
	}
}

// Close stops the janitor and makes every later operation fail with ErrClosed. It is safe to
// call more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { close(s.closed) })
	s.janitor.Wait()
	return nil
}

// Len returns the number of keys held, expired ones not yet swept included. It is meant for
// metrics and tests.
func (s *Store) Len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += len(sh.data)
		sh.mu.Unlock()
	}
	return n
}

// Sweep deletes every expired key now. The janitor calls it periodically; tests with an
// injected clock call it directly.
func (s *Store) Sweep() {
	now := s.now()
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for k, e := range sh.data {
			if !e.live(now) {
				delete(sh.data, k)
			}
		}
		sh.mu.Unlock()
	}
}

func (s *Store) sweepEvery(interval time.Duration) {
	defer s.janitor.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.closed:
			return
		case <-t.C:
			s.Sweep()
		}
	}
}
