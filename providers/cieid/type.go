package cieid

import "github.com/inps/sportello/providers/saml"

// Type is the cieid provider type for cmd/sportello's list: in the chooser after SPID,
// before the card's certificate.
var Type = saml.ProfileType("cieid", 1, FromProvider, Open, Messages())
