package spid

import (
	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/saml"
)

// Type is the spid provider type for cmd/sportello's list.
var Type = saml.ProfileType("spid", 0, FromProvider, Open, Messages())

// Open builds the SPID provider of c with what the broker gives it.
func Open(h providers.Host, c *Config) (*Provider, error) { return New(c, saml.HostDeps(h)) }
