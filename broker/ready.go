package broker

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/inps/sportello/providers"
)

// ReadyCheck is a readiness check the process adds to /readyz beside the store's PING and the
// providers' own (providers.ReadinessReporter): the Redis store's persistence and replication.
type ReadyCheck struct {
	// Name keys the check in /readyz ("store_persistence").
	Name string
	// Check answers within the context's deadline; a ReadyFail makes /readyz answer 503.
	Check func(ctx context.Context) providers.Readiness
}

// readyTimeout bounds /readyz and every check in it.
const readyTimeout = 2 * time.Second

// readyReport is the /readyz body.
type readyReport struct {
	// Status is ready, starting or unavailable.
	Status string `json:"status"`
	// Reason names what is not ready.
	Reason string                         `json:"reason,omitempty"`
	Checks map[string]providers.Readiness `json:"checks,omitempty"`
}

// Readiness runs every readiness check at once: the store's PING, then the process's checks
// (Options.ReadyChecks) and each provider's ("provider:<id>"). It reports whether none
// failed, with every answer by name. When the store does not answer, nothing else is asked.
func (b *Broker) Readiness(ctx context.Context) (bool, map[string]providers.Readiness) {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	if err := b.store.Ping(ctx); err != nil {
		b.log.WarnContext(ctx, "readiness: store unreachable", "error", err)
		return false, map[string]providers.Readiness{"store": {Status: providers.ReadyFail, Detail: "unreachable"}}
	}
	checks := slices.Clone(b.readyChecks)
	for _, p := range b.provs {
		if r, ok := p.(providers.ReadinessReporter); ok {
			checks = append(checks, ReadyCheck{Name: "provider:" + p.Info().ID, Check: r.Readiness})
		}
	}
	out := map[string]providers.Readiness{"store": {Status: providers.ReadyOK}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range checks {
		wg.Go(func() {
			r := c.Check(ctx)
			mu.Lock()
			out[c.Name] = r
			mu.Unlock()
		})
	}
	wg.Wait()
	ok := true
	for _, r := range out {
		if r.Status == providers.ReadyFail {
			ok = false
		}
	}
	return ok, out
}

func (b *Broker) readyHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	rep := readyReport{Status: "ready"}
	code := http.StatusOK
	if b.starting.Load() {
		rep, code = readyReport{Status: "starting"}, http.StatusServiceUnavailable
	} else {
		var ok bool
		ok, rep.Checks = b.Readiness(r.Context())
		if !ok {
			rep.Status, code = "unavailable", http.StatusServiceUnavailable
			rep.Reason = failing(rep.Checks)
		}
		b.noteReadiness(r.Context(), rep.Reason, rep.Checks)
	}
	body, _ := json.Marshal(rep)
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

// failing names the failing checks: "store unreachable", or "not ready: a, b".
func failing(checks map[string]providers.Readiness) string {
	if checks["store"].Status == providers.ReadyFail {
		return "store unreachable"
	}
	var names []string
	for name, r := range checks {
		if r.Status == providers.ReadyFail {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return "not ready: " + strings.Join(names, ", ")
}

// noteReadiness logs when the failing or warning checks change (not at every probe).
func (b *Broker) noteReadiness(ctx context.Context, reason string, checks map[string]providers.Readiness) {
	var notes []string
	for name, r := range checks {
		if r.Status != providers.ReadyOK {
			notes = append(notes, name+"="+r.Status+" ("+r.Detail+")")
		}
	}
	slices.Sort(notes)
	now := strings.Join(notes, "; ")
	if prev, _ := b.readyNotes.Swap(now).(string); prev == now {
		return
	}
	switch {
	case reason != "":
		b.log.WarnContext(ctx, "readiness: not ready", "checks", now)
	case now != "":
		b.log.WarnContext(ctx, "readiness: ready with warnings", "checks", now)
	default:
		b.log.InfoContext(ctx, "readiness: every check passes")
	}
}
