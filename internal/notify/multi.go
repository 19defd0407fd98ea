package notify

import (
	"context"
	"fmt"
)

// Multi routes a notification by channel ("email", "sms", "pec", "post") to a Notifier, or to
// Default when no route matches. In dev mode sms and post go to an Outbox.
type Multi struct {
	Routes  map[string]Notifier
	Default Notifier
}

var _ Notifier = (*Multi)(nil)

// Notify delivers n through the notifier of its channel.
func (m *Multi) Notify(ctx context.Context, n Notification) error {
	if nf, ok := m.Routes[n.Channel]; ok && nf != nil {
		return nf.Notify(ctx, n)
	}
	if m.Default != nil {
		return m.Default.Notify(ctx, n)
	}
	return fmt.Errorf("notify: no route for channel %q", n.Channel)
}
