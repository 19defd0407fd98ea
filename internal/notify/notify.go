package notify

import "context"

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
// outbox in dev mode). pin and the delegation registry take one; SMTP, Outbox, Spool and
// Multi implement it.
type Notifier interface {
	Notify(ctx context.Context, n Notification) error
}
