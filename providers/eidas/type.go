package eidas

import (
	"github.com/inps/sportello/config"
	"github.com/inps/sportello/providers"
)

// Type is the eidas provider type for cmd/sportello's list: in the chooser after the
// Italian credentials, beside the PIN (Order 3; eidas sorts before pin).
var Type = providers.Type{
	Name:  "eidas",
	Order: 3,
	Decode: func(id string, p *config.Provider, dev bool) (any, []error) {
		return FromProvider(id, p, dev)
	},
	Open: func(h providers.Host, cfg any) (providers.Provider, error) {
		return Open(h, cfg.(*Config))
	},
	Messages: Messages(),
}
