package eidas

import "github.com/inps/sportello/providers/saml"

// Type is the eidas provider type for cmd/sportello's list: in the chooser after the
// Italian credentials, beside the PIN (Order 3; eidas sorts before pin).
var Type = saml.ProfileType("eidas", 3, FromProvider, Open, Messages())
