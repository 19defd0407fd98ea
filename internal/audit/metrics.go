package audit

import (
	"context"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Counting is an Auditor that counts the events it passes on by type
// (sportello_audit_events_total{type}) and the records that could not be written
// (sportello_audit_failures_total). Every security event goes through the audit trail, so
// this is where lockouts (type="pin.locked"), refused certificates ("cert.rejected"), refresh
// token reuse ("token.refresh_reuse") and the like are counted, with the same names as in the
// trail.
type Counting struct {
	next     Auditor
	events   *prometheus.CounterVec
	failures prometheus.Counter
	byType   sync.Map // type -> prometheus.Counter
}

// NewCounting wraps next and registers the counters on reg.
func NewCounting(next Auditor, reg prometheus.Registerer) (*Counting, error) {
	c := &Counting{next: next,
		events: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sportello_audit_events_total",
			Help: "Security events recorded in the audit trail, by event type (pin.locked is a lockout)."}, []string{"type"}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{Name: "sportello_audit_failures_total",
			Help: "Audit records that could not be written (the action they record was refused)."}),
	}
	for _, col := range []prometheus.Collector{c.events, c.failures} {
		if err := reg.Register(col); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Audit implements Auditor.
func (c *Counting) Audit(ctx context.Context, ev Event) error {
	if err := c.next.Audit(ctx, ev); err != nil {
		c.failures.Inc()
		return err
	}
	ctr, ok := c.byType.Load(ev.Type)
	if !ok {
		ctr, _ = c.byType.LoadOrStore(ev.Type, c.events.WithLabelValues(ev.Type))
	}
	ctr.(prometheus.Counter).Inc()
	return nil
}
