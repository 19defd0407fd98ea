package switches

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/inps/sportello/internal/store"
)

// Refresh intervals of a Reader.
const (
	// DefaultRefresh is how often a Reader reloads the switches when Refresh is 0.
	DefaultRefresh = time.Second
	// MaxRefresh is the longest interval a Reader accepts: a change reaches every replica
	// within it (plus one Store round trip).
	MaxRefresh = 2 * time.Second
)

// Reader answers Disabled from memory and reloads the switches in the background. It is safe
// for concurrent use.
type Reader struct {
	store    store.Store
	now      func() time.Time
	interval time.Duration

	mu      sync.RWMutex
	byKey   map[key]Switch
	loaded  time.Time // last successful reload, zero before the first
	lastErr error
}

type key struct {
	kind Kind
	id   string
}

// ReaderOptions configures a Reader.
type ReaderOptions struct {
	// Refresh is the reload interval: 0 means DefaultRefresh; it is capped at MaxRefresh.
	Refresh time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// NewReader returns a Reader over s. It holds no switch until Load or Run has read them.
func NewReader(s store.Store, opts ReaderOptions) *Reader {
	r := &Reader{store: s, now: opts.Now, interval: opts.Refresh, byKey: map[key]Switch{}}
	if r.now == nil {
		r.now = time.Now
	}
	if r.interval <= 0 {
		r.interval = DefaultRefresh
	}
	r.interval = min(r.interval, MaxRefresh)
	return r
}

// Interval is the reload interval in use.
func (r *Reader) Interval() time.Duration { return r.interval }

// Load reloads the switches from the Store now. On failure the Reader keeps what it had.
func (r *Reader) Load(ctx context.Context) error {
	raw, err := r.store.Get(ctx, Key)
	if errors.Is(err, store.ErrNotFound) {
		raw, err = nil, nil
	}
	var doc document
	if err == nil {
		doc, err = decode(raw)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.lastErr = err
		return err
	}
	next := make(map[key]Switch, len(doc.Switches))
	for _, sw := range doc.Switches {
		next[key{sw.Kind, sw.ID}] = sw
	}
	r.byKey, r.loaded, r.lastErr = next, r.now(), nil
	return nil
}

// Run reloads every interval until ctx ends; start it in its own goroutine after a first
// Load.
func (r *Reader) Run(ctx context.Context) {
	t := time.NewTicker(r.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_ = r.Load(ctx)
		}
	}
}

// Disabled reports whether kind/id is switched off now, and the switch that says so.
func (r *Reader) Disabled(kind Kind, id string) (bool, Switch) {
	r.mu.RLock()
	sw, ok := r.byKey[key{kind, id}]
	r.mu.RUnlock()
	if !ok || sw.Enabled || !sw.Active(r.now()) {
		return false, Switch{}
	}
	return true, sw
}

// Snapshot returns the switches in force as last loaded, sorted by kind then id.
func (r *Reader) Snapshot() []Switch {
	r.mu.RLock()
	all := make([]Switch, 0, len(r.byKey))
	for _, sw := range r.byKey {
		all = append(all, sw)
	}
	r.mu.RUnlock()
	return active(all, r.now())
}

// Status tells when the switches were last loaded and the error of the last reload (nil when
// it succeeded).
func (r *Reader) Status() (loaded time.Time, err error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.loaded, r.lastErr
}
