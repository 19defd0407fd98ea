package loginstats

import (
	"maps"
	"sync"
	"time"
)

// Window is how far back the counts go.
const Window = time.Hour

// Bounds that keep a bucket small whatever reaches Add.
const (
	// MaxIDLen bounds an entry's id (an IdP's entityID).
	MaxIDLen = 1024
	// MaxKeys bounds the distinct (kind, id, outcome) of one minute; more are dropped.
	MaxKeys = 4096
)

// Key is what one count is about: an entry (kind "provider", id the method; kind "idp", id
// the identity provider's entityID) and an outcome.
type Key struct {
	Kind    string `json:"k"`
	ID      string `json:"i"`
	Outcome string `json:"o"`
}

// Entry names a provider or an IdP.
type Entry struct{ Kind, ID string }

// Totals are the counts of each entry by outcome.
type Totals map[Entry]map[string]int64

func (t Totals) add(k Key, n int64) {
	e := Entry{k.Kind, k.ID}
	if t[e] == nil {
		t[e] = map[string]int64{}
	}
	t[e][k.Outcome] += n
}

// minute is a Unix time in minutes.
type minute = int64

func minuteOf(t time.Time) minute { return t.Unix() / 60 }

// inWindow reports whether the bucket of m counts at now: the current minute and the 59
// before it.
func inWindow(m, now minute) bool { return m <= now && m > now-int64(Window/time.Minute) }

// Counter is one replica's counts, one bucket per minute over the last Window. The zero
// value is ready; it is safe for concurrent use.
type Counter struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu      sync.Mutex
	buckets map[minute]map[Key]int64
}

func (c *Counter) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Add counts one login of outcome for the entry; an empty or oversized key is ignored.
func (c *Counter) Add(kind, id, outcome string) {
	if kind == "" || id == "" || outcome == "" || len(id) > MaxIDLen || len(kind) > 16 || len(outcome) > 64 {
		return
	}
	k := Key{kind, id, outcome}
	m := minuteOf(c.now())
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.buckets == nil {
		c.buckets = map[minute]map[Key]int64{}
	}
	c.pruneLocked(m)
	b := c.buckets[m]
	if b == nil {
		b = map[Key]int64{}
		c.buckets[m] = b
	}
	if _, ok := b[k]; !ok && len(b) >= MaxKeys {
		return
	}
	b[k]++
}

func (c *Counter) pruneLocked(now minute) {
	for m := range c.buckets {
		if !inWindow(m, now) {
			delete(c.buckets, m)
		}
	}
}

// buckets returns a copy of the buckets in the window.
func (c *Counter) snapshot() map[minute]map[Key]int64 {
	now := minuteOf(c.now())
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pruneLocked(now)
	out := make(map[minute]map[Key]int64, len(c.buckets))
	for m, b := range c.buckets {
		out[m] = maps.Clone(b)
	}
	return out
}

// Totals sums this replica's counts over the last Window.
func (c *Counter) Totals() Totals {
	t := Totals{}
	for _, b := range c.snapshot() {
		for k, n := range b {
			t.add(k, n)
		}
	}
	return t
}
