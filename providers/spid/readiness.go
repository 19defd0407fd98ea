package spid

import (
	"context"

	"github.com/inps/sportello/providers"
)

var _ providers.ReadinessReporter = (*Provider)(nil)

// Readiness is the registry's: failing while no SPID identity provider is loaded (the chooser
// would offer no SPID login), a warning while a metadata source has no copy or keeps a stale
// one; sources never loaded are retried in the background.
func (p *Provider) Readiness(ctx context.Context) providers.Readiness {
	return p.registry.Readiness(ctx)
}
