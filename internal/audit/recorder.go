package audit

import (
	"context"
	"slices"
	"sync"
)

// Recorder is an in-memory Auditor for tests: it keeps the latest events (at most 10,000, so
// a fuzz target auditing millions of refusals stays small). The zero value is ready to use.
type Recorder struct {
	mu     sync.Mutex
	events []Event
}

// Audit records ev.
func (r *Recorder) Audit(_ context.Context, ev Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.events) >= 10000 {
		r.events = append(r.events[:0], r.events[5000:]...)
	}
	r.events = append(r.events, ev)
	return nil
}

// Events returns every recorded event, oldest first.
func (r *Recorder) Events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// ByType returns the recorded events of type typ, oldest first.
func (r *Recorder) ByType(typ string) []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Event
	for _, e := range r.events {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// Last returns the latest event of type typ, or nil.
func (r *Recorder) Last(typ string) *Event {
	all := r.ByType(typ)
	if len(all) == 0 {
		return nil
	}
	return &all[len(all)-1]
}
