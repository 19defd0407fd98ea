package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/inps/sportello/internal/store"
)

// ErrClosed is returned by every operation on a Store after Close.
var ErrClosed = errors.New("store/redis: closed")

// ErrNotDurable is returned when Options.WaitReplicas is set and a write was acknowledged by
// fewer replicas within WaitTimeout. The primary applied the write.
var ErrNotDurable = errors.New("store/redis: write not acknowledged by enough replicas")

// errNegativeTTL is returned for a negative ttl (0 means no expiry).
var errNegativeTTL = errors.New("store/redis: negative ttl")

// Store is a store.Store on Redis. It is safe for concurrent use.
type Store struct {
	client      goredis.UniversalClient
	owned       bool // the Store built client and closes it
	prefix      string
	secrets     []string
	waitN       int
	waitTimeout time.Duration
	// lastAcked is 1 + the replica count of the latest WAIT answer (0: no durable write yet),
	// for Replication. A pointer: the WithoutWait view shares it.
	lastAcked *atomic.Int64

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

var _ store.Store = (*Store)(nil)

// New connects to Redis as opts describe and checks that it answers PING.
func New(ctx context.Context, opts Options) (*Store, error) {
	prefix, err := opts.prefix()
	if err != nil {
		return nil, err
	}
	if opts.WaitReplicas < 0 || opts.WaitTimeout < 0 {
		return nil, errors.New("store/redis: WaitReplicas and WaitTimeout must not be negative")
	}
	secrets := opts.secrets()
	client, owned, err := opts.client()
	if err != nil {
		return nil, redact(err, secrets)
	}
	s := &Store{
		client:      client,
		owned:       owned,
		prefix:      prefix,
		secrets:     secrets,
		waitN:       opts.WaitReplicas,
		waitTimeout: opts.WaitTimeout,
		lastAcked:   new(atomic.Int64),
	}
	if s.waitTimeout == 0 {
		s.waitTimeout = DefaultWaitTimeout
	}
	if err := s.Ping(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// NewFromURL is New with only a URL (see Options.URL).
func NewFromURL(ctx context.Context, url string) (*Store, error) {
	return New(ctx, Options{URL: url})
}

// Client returns the underlying go-redis client, for health metrics and tests.
func (s *Store) Client() goredis.UniversalClient { return s.client }

// WaitReplicas returns how many replicas each write waits for (0: none).
func (s *Store) WaitReplicas() int { return s.waitN }

// WithoutWait returns a Store on the same client and prefix whose writes do not WAIT, for
// state that needs no durability (rate-limit counters): those writes then cost no replica
// round trip. Closing the view does not close the client; closing s does.
func (s *Store) WithoutWait() *Store {
	return &Store{client: s.client, prefix: s.prefix, secrets: s.secrets, lastAcked: s.lastAcked}
}

// key adds the prefix.
func (s *Store) key(k string) string { return s.prefix + k }

// check refuses work on a closed store, with a done context or with a negative ttl.
func (s *Store) check(ctx context.Context, ttl time.Duration) error {
	if s.closed.Load() {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if ttl < 0 {
		return fmt.Errorf("%w: %v", errNegativeTTL, ttl)
	}
	return nil
}

// wrap turns a go-redis error into the Store's: redis.Nil becomes store.ErrNotFound, the rest
// is wrapped with the operation's name and cleaned of secrets.
func (s *Store) wrap(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, goredis.Nil):
		return store.ErrNotFound
	case errors.Is(err, ErrNotDurable), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("store/redis: %s: %w", op, err)
	default:
		return redact(fmt.Errorf("store/redis: %s: %w", op, err), s.secrets)
	}
}

// millis converts a ttl to whole milliseconds, rounding up so that a positive ttl never
// becomes "no expiry".
func millis(ttl time.Duration) int64 {
	return int64((ttl + time.Millisecond - 1) / time.Millisecond)
}

// expiration is ttl rounded up to a millisecond, as go-redis' Set and SetNX expect it.
func expiration(ttl time.Duration) time.Duration {
	return time.Duration(millis(ttl)) * time.Millisecond
}

// Put sets key to value with a ttl (0 = no expiry).
func (s *Store) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := s.check(ctx, ttl); err != nil {
		return err
	}
	_, err := s.write(ctx, key, func(c goredis.Cmdable) goredis.Cmder {
		return c.Set(ctx, s.key(key), nonNil(value), expiration(ttl))
	})
	return s.wrap("put", err)
}

// Get returns the value of key or store.ErrNotFound.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	if err := s.check(ctx, 0); err != nil {
		return nil, err
	}
	v, err := s.client.Get(ctx, s.key(key)).Bytes()
	if err != nil {
		return nil, s.wrap("get", err)
	}
	return nonNil(v), nil
}

// Take atomically returns and deletes key (GETDEL), or returns store.ErrNotFound.
func (s *Store) Take(ctx context.Context, key string) ([]byte, error) {
	if err := s.check(ctx, 0); err != nil {
		return nil, err
	}
	cmd, err := s.write(ctx, key, func(c goredis.Cmdable) goredis.Cmder {
		return c.GetDel(ctx, s.key(key))
	})
	if err != nil {
		return nil, s.wrap("take", err)
	}
	v, err := cmd.(*goredis.StringCmd).Bytes()
	if err != nil {
		return nil, s.wrap("take", err)
	}
	return nonNil(v), nil
}

// PutIfAbsent sets key only if it does not exist (SET NX PX) and reports whether it did.
func (s *Store) PutIfAbsent(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	if err := s.check(ctx, ttl); err != nil {
		return false, err
	}
	cmd, err := s.write(ctx, key, func(c goredis.Cmdable) goredis.Cmder {
		return c.SetNX(ctx, s.key(key), nonNil(value), expiration(ttl))
	})
	if err != nil {
		return false, s.wrap("put-if-absent", err)
	}
	return cmd.(*goredis.BoolCmd).Val(), nil
}

// CompareAndSwap replaces the value of key with next only if it currently equals old (old
// nil: only if absent); next nil deletes the key. The ttl applies to the new value.
func (s *Store) CompareAndSwap(ctx context.Context, key string, old, next []byte, ttl time.Duration) (bool, error) {
	if err := s.check(ctx, ttl); err != nil {
		return false, err
	}
	cmd, err := s.write(ctx, key, func(c goredis.Cmdable) goredis.Cmder {
		return runScript(ctx, c, casScript, s.key(key),
			flag(old == nil), nonNil(old), flag(next == nil), nonNil(next), millis(ttl))
	})
	if err != nil {
		return false, s.wrap("compare-and-swap", err)
	}
	n, err := cmd.(*goredis.Cmd).Int64()
	if err != nil {
		return false, s.wrap("compare-and-swap", err)
	}
	return n == 1, nil
}

// Delete removes key; deleting an absent key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.check(ctx, 0); err != nil {
		return err
	}
	_, err := s.write(ctx, key, func(c goredis.Cmdable) goredis.Cmder {
		return c.Del(ctx, s.key(key))
	})
	return s.wrap("delete", err)
}

// Incr adds delta to the counter at key and returns the new value; a counter it creates gets
// ttl, an existing one keeps its expiry.
func (s *Store) Incr(ctx context.Context, key string, delta int64, ttl time.Duration) (int64, error) {
	if err := s.check(ctx, ttl); err != nil {
		return 0, err
	}
	cmd, err := s.write(ctx, key, func(c goredis.Cmdable) goredis.Cmder {
		return runScript(ctx, c, incrScript, s.key(key), delta, millis(ttl))
	})
	if err != nil {
		return 0, s.wrap("incr", err)
	}
	// The script returns the counter as text: a Lua number would lose precision past 2^53.
	text, err := cmd.(*goredis.Cmd).Text()
	if err != nil {
		return 0, s.wrap("incr", err)
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return 0, s.wrap("incr", err)
	}
	return n, nil
}

// TTL returns the remaining time to live of key (PTTL): 0 when it has no expiry,
// store.ErrNotFound when absent. A key in its last millisecond reports 1ms, never 0.
func (s *Store) TTL(ctx context.Context, key string) (time.Duration, error) {
	if err := s.check(ctx, 0); err != nil {
		return 0, err
	}
	ms, err := s.client.Do(ctx, "PTTL", s.key(key)).Int64()
	switch {
	case err != nil:
		return 0, s.wrap("ttl", err)
	case ms == -2:
		return 0, store.ErrNotFound
	case ms == -1:
		return 0, nil
	case ms == 0:
		return time.Millisecond, nil
	default:
		return time.Duration(ms) * time.Millisecond, nil
	}
}

// Ping checks that Redis answers; readiness probes depend on it.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.check(ctx, 0); err != nil {
		return err
	}
	return s.wrap("ping", s.client.Ping(ctx).Err())
}

// Close makes every later operation fail with ErrClosed and closes the client unless it was
// injected through Options.Client. It is safe to call more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		if s.owned {
			s.closeErr = s.wrap("close", s.client.Close())
		}
	})
	return s.closeErr
}

// nonNil makes an empty value non-nil: present-but-empty differs from absent.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
