package storetest

import (
	"sync"
	"time"

	"github.com/inps/sportello/internal/store"
)

// Clock is a manual clock, safe for concurrent use: time moves only when Advance is called.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a Clock reading start.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the clock's current time; pass it as a store's Now option.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Advancer is implemented by a store under test whose clock the suite may move. Without it
// the suite sleeps to let TTLs run out.
type Advancer interface {
	Advance(d time.Duration)
}

// ClockedStore pairs a store with the Clock it was built on, so that the suite moves time
// instead of sleeping.
type ClockedStore struct {
	store.Store
	Clock *Clock
}

// Advance moves the store's clock forward by d.
func (c ClockedStore) Advance(d time.Duration) { c.Clock.Advance(d) }
