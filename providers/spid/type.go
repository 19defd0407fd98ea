package spid

import (
	"github.com/inps/sportello/config"
	"github.com/inps/sportello/providers"
)

// Type is the spid provider type for cmd/sportello's list.
var Type = providers.Type{
	Name:  "spid",
	Order: 0,
	Decode: func(id string, p *config.Provider, dev bool) (any, []error) {
		return FromProvider(id, p, dev)
	},
	Open: func(h providers.Host, cfg any) (providers.Provider, error) {
		return Open(h, cfg.(*Config))
	},
	Messages: Messages(),
}

// Open builds the SPID provider of c with what the broker gives it.
func Open(h providers.Host, c *Config) (*Provider, error) {
	d := Deps{ID: h.ID, Store: h.Store, Auditor: h.Auditor, Logger: h.Logger, BaseURL: h.Issuer}
	if h.Broker != nil {
		d.SessionEnder, d.PostForm, d.Unavailable = h.Broker.EndUpstreamSession, h.Broker.WritePostForm, h.Broker.WriteUnavailable
	}
	return New(c, d)
}
