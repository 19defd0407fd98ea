package cieid

import (
	"github.com/inps/sportello/config"
	"github.com/inps/sportello/providers"
)

// Type is the cieid provider type for cmd/sportello's list: in the chooser after SPID,
// before the card's certificate.
var Type = providers.Type{
	Name:  "cieid",
	Order: 1,
	Decode: func(id string, p *config.Provider, dev bool) (any, []error) {
		return FromProvider(id, p, dev)
	},
	Open: func(h providers.Host, cfg any) (providers.Provider, error) {
		return Open(h, cfg.(*Config))
	},
	Messages: Messages(),
}
