package audit

import (
	"context"
	"time"
)

// Event is one deliberate record of the audit trail (separate from the ordinary log).
type Event struct {
	Time time.Time `json:"time"`
	// Type names the event, for example "spid.authn_request", "login.success", "pin.locked".
	Type string `json:"type"`
	// Actor is who did it (fiscal code, operator id or client id), when known.
	Actor string `json:"actor,omitempty"`
	// Fields hold the event's data. Never a PIN, a token or a private key.
	Fields map[string]any `json:"fields,omitempty"`
}

// Auditor writes audit records. Implementations must be safe for concurrent use. The
// broker, the providers and pin take one; Writer, Recorder and Counting implement it.
type Auditor interface {
	Audit(ctx context.Context, ev Event) error
}
