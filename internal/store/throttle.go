package store

import (
	"errors"
	"fmt"
	"time"
)

// ErrBadRate is returned by Throttle for a Limit below 1 or a Period below one millisecond.
var ErrBadRate = errors.New("store: a rate needs a limit of at least 1 per period of at least 1ms")

// Rate is what Throttle enforces on a key: Limit requests per Period, all of which may come at
// once; after such a burst, requests pass at the rate, one every Period/Limit.
type Rate struct {
	Limit  int
	Period time.Duration
}

// Check returns ErrBadRate for a rate Throttle cannot enforce.
func (r Rate) Check() error {
	if r.Limit < 1 || r.Period < time.Millisecond {
		return fmt.Errorf("%w: %d per %v", ErrBadRate, r.Limit, r.Period)
	}
	return nil
}

// Interval is the emission interval of the generic cell rate algorithm: Period/Limit,
// rounded up to a microsecond (the resolution of Redis' clock, so every implementation
// counts alike).
func (r Rate) Interval() time.Duration {
	us := (r.Period.Microseconds() + int64(r.Limit) - 1) / int64(r.Limit)
	return time.Duration(max(us, 1)) * time.Microsecond
}

// GCRA is the decision of the generic cell rate algorithm (a leaky bucket that stores one
// time per key, the theoretical arrival time tat of the next request) at now: a request
// passes when it arrives no earlier than tat minus the burst tolerance (Limit intervals); it
// then moves tat one interval on, and the key may expire once tat has passed. A refused
// request changes nothing and learns how long to wait. tat is zero for a key not seen.
// Throttle implementations apply it atomically (the memory store directly, Redis in Lua).
func (r Rate) GCRA(now, tat time.Time) (allowed bool, next time.Time, retryAfter time.Duration) {
	if tat.Before(now) {
		tat = now
	}
	interval := r.Interval()
	next = tat.Add(interval)
	if wait := next.Sub(now) - time.Duration(r.Limit)*interval; wait > 0 {
		return false, tat, wait
	}
	return true, next, 0
}
