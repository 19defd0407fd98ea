package providers

import (
	"context"
	"time"
)

// AuditEvent is one deliberate record of the audit trail (separate from the ordinary log).
type AuditEvent struct {
	Time time.Time `json:"time"`
	// Type names the event, for example "spid.authn_request", "login.success", "pin.locked".
	Type string `json:"type"`
	// Actor is who did it (fiscal code, operator id or client id), when known.
	Actor string `json:"actor,omitempty"`
	// Fields hold the event's data. Never a PIN, a token or a private key.
	Fields map[string]any `json:"fields,omitempty"`
}

// Auditor writes audit records. Implementations must be safe for concurrent use.
type Auditor interface {
	Audit(ctx context.Context, ev AuditEvent) error
}

// Notification is a message to a person on one channel.
type Notification struct {
	// Channel is "email", "sms", "pec" or "post".
	Channel string `json:"channel"`
	// To is the address, number or postal address.
	To      string `json:"to"`
	Subject string `json:"subject,omitempty"`
	Body    string `json:"body"`
}

// Notifier delivers notifications (SMTP for e-mail; SMS and post through adapters, a dev
// outbox in dev mode).
type Notifier interface {
	Notify(ctx context.Context, n Notification) error
}
