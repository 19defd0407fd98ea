package providers

import "context"

// Readiness statuses, from best to worst.
const (
	// ReadyOK: the check passes.
	ReadyOK = "ok"
	// ReadyWarn: the service works but an operator should act (for example Redis without
	// AOF under store.redis.require_aof: warn); /readyz stays 200 and reports it.
	ReadyWarn = "warn"
	// ReadyFail: the replica must not take traffic; /readyz answers 503.
	ReadyFail = "fail"
)

// Readiness is the answer of one readiness check, shown in /readyz. Detail is for operators
// and is served to anyone who asks: counts and states only, never an address, a key, a
// fiscal code or an error text (those go to the log).
type Readiness struct {
	Status string `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// ReadinessReporter is implemented by providers whose readiness depends on something outside
// the process (the SPID identity providers' metadata). The broker reports it in /readyz,
// which answers 503 while a provider reports ReadyFail. It must answer quickly, from state
// the provider already has: /readyz gives every check at most 2 seconds in all.
type ReadinessReporter interface {
	Readiness(ctx context.Context) Readiness
}
