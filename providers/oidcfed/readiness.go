package oidcfed

import (
	"context"
	"fmt"

	"github.com/inps/sportello/providers"
)

var _ providers.ReadinessReporter = (*Provider)(nil)

// Readiness fails while no configured OpenID Provider has a valid trust chain (the chooser
// would offer no federation login) and warns while some have none; Run keeps resolving them.
func (p *Provider) Readiness(context.Context) providers.Readiness {
	total := len(p.cfg.OpenIDProviders)
	valid := len(p.Options())
	detail := fmt.Sprintf("%d of %d OpenID Providers with a valid trust chain", valid, total)
	switch {
	case total == 0 || valid == total:
		return providers.Readiness{Status: providers.ReadyOK, Detail: detail}
	case valid == 0:
		return providers.Readiness{Status: providers.ReadyFail, Detail: detail}
	}
	return providers.Readiness{Status: providers.ReadyWarn, Detail: detail}
}
