package spid

import (
	"net/http"

	"github.com/inps/sportello/providers/saml"
)

// requestKeyPrefix and sloKeyPrefix are where the engine keeps SPID request records
// (saml.Request) and pending SP-initiated logouts, by RelayState.
const (
	requestKeyPrefix = "spid:req:"
	sloKeyPrefix     = "spid:slo:"
)

// readSLO reads and verifies the logout message of r as the SLO endpoint does: the message,
// its parameter (SAMLRequest or SAMLResponse), RelayState and binding.
func (p *Provider) readSLO(r *http.Request) (*saml.LogoutMessage, string, string, string, error) {
	m, err := p.Engine().ReadLogout(r)
	if err != nil {
		return nil, "", "", "", err
	}
	param := "SAMLRequest"
	if m.Response {
		param = "SAMLResponse"
	}
	return m, param, m.RelayState, m.Binding, nil
}
