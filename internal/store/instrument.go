package store

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Instrumented is a Store that times every operation of the Store it wraps
// (sportello_store_operation_duration_seconds{op}) and counts the failed ones
// (sportello_store_errors_total{op}). ErrNotFound and a compare-and-swap that did not swap
// are answers, not failures.
type Instrumented struct {
	s        Store
	duration map[string]prometheus.Observer
	errors   map[string]prometheus.Counter
}

// storeOps are the label values of the store metrics.
var storeOps = []string{"put", "get", "take", "put_if_absent", "compare_and_swap", "delete", "incr", "throttle", "ttl", "ping"}

// Instrument wraps s and registers its metrics on reg.
func Instrument(s Store, reg prometheus.Registerer) (*Instrumented, error) {
	dur := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "sportello_store_operation_duration_seconds",
		Help: "Duration of shared-state store operations, by operation.",
		// Memory answers in microseconds, Redis on a LAN in a fraction of a millisecond; the
		// upper buckets catch failovers and timeouts.
		Buckets: []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1, 2.5},
	}, []string{"op"})
	errs := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sportello_store_errors_total",
		Help: "Failed shared-state store operations (unreachable, timeout, not durable), by operation.",
	}, []string{"op"})
	for _, c := range []prometheus.Collector{dur, errs} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	in := &Instrumented{s: s, duration: map[string]prometheus.Observer{}, errors: map[string]prometheus.Counter{}}
	for _, op := range storeOps {
		in.duration[op] = dur.WithLabelValues(op)
		in.errors[op] = errs.WithLabelValues(op)
	}
	return in, nil
}

// Unwrap returns the wrapped Store.
func (in *Instrumented) Unwrap() Store { return in.s }

// Wrap returns an Instrumented over s that records into in's metrics: another view of the
// same store (the Redis store without WAIT, for rate limits) counted as one.
func (in *Instrumented) Wrap(s Store) *Instrumented {
	return &Instrumented{s: s, duration: in.duration, errors: in.errors}
}

func (in *Instrumented) done(op string, start time.Time, err error) {
	in.duration[op].Observe(time.Since(start).Seconds())
	if IsOutage(err) {
		in.errors[op].Inc()
	}
}

// Put implements Store.
func (in *Instrumented) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	start := time.Now()
	err := in.s.Put(ctx, key, value, ttl)
	in.done("put", start, err)
	return err
}

// Get implements Store.
func (in *Instrumented) Get(ctx context.Context, key string) ([]byte, error) {
	start := time.Now()
	v, err := in.s.Get(ctx, key)
	in.done("get", start, err)
	return v, err
}

// Take implements Store.
func (in *Instrumented) Take(ctx context.Context, key string) ([]byte, error) {
	start := time.Now()
	v, err := in.s.Take(ctx, key)
	in.done("take", start, err)
	return v, err
}

// PutIfAbsent implements Store.
func (in *Instrumented) PutIfAbsent(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	start := time.Now()
	ok, err := in.s.PutIfAbsent(ctx, key, value, ttl)
	in.done("put_if_absent", start, err)
	return ok, err
}

// CompareAndSwap implements Store.
func (in *Instrumented) CompareAndSwap(ctx context.Context, key string, old, next []byte, ttl time.Duration) (bool, error) {
	start := time.Now()
	ok, err := in.s.CompareAndSwap(ctx, key, old, next, ttl)
	in.done("compare_and_swap", start, err)
	return ok, err
}

// Delete implements Store.
func (in *Instrumented) Delete(ctx context.Context, key string) error {
	start := time.Now()
	err := in.s.Delete(ctx, key)
	in.done("delete", start, err)
	return err
}

// Incr implements Store.
func (in *Instrumented) Incr(ctx context.Context, key string, delta int64, ttl time.Duration) (int64, error) {
	start := time.Now()
	n, err := in.s.Incr(ctx, key, delta, ttl)
	in.done("incr", start, err)
	return n, err
}

// Throttle implements Store.
func (in *Instrumented) Throttle(ctx context.Context, key string, rate Rate) (bool, time.Duration, error) {
	start := time.Now()
	ok, retry, err := in.s.Throttle(ctx, key, rate)
	in.done("throttle", start, err)
	return ok, retry, err
}

// TTL implements Store.
func (in *Instrumented) TTL(ctx context.Context, key string) (time.Duration, error) {
	start := time.Now()
	d, err := in.s.TTL(ctx, key)
	in.done("ttl", start, err)
	return d, err
}

// Ping implements Store.
func (in *Instrumented) Ping(ctx context.Context) error {
	start := time.Now()
	err := in.s.Ping(ctx)
	in.done("ping", start, err)
	return err
}

// Close implements Store.
func (in *Instrumented) Close() error { return in.s.Close() }
