package spid

import (
	"context"
	"fmt"
	"net/http"

	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/saml"
)

// requestRecord is what the Store keeps between AuthnRequest and Response (the engine's
// record, under "spid:req:<RelayState>").
type requestRecord = saml.Request

// Start sends the browser to the IdP named in req.Hint with a signed AuthnRequest (the SPID
// technical rules: ForceAuthn from L2, no AllowCreate, no IsPassive,
// AssertionConsumerServiceIndex 0). An empty or unknown hint returns a UserError
// (spid.choose_idp, spid.unknown_idp) for the broker to render; nothing is written then.
func (p *Provider) Start(w http.ResponseWriter, r *http.Request, req *providers.LoginRequest) error {
	ctx := r.Context()
	if req.Hint == "" {
		return &providers.UserError{Code: "spid.choose_idp", Err: fmt.Errorf("spid: no idp chosen")}
	}
	idp, ok := p.Registry().Lookup(ctx, req.Hint)
	if !ok {
		return &providers.UserError{Code: "spid.unknown_idp",
			Err: fmt.Errorf("spid: unknown idp %q: %w", req.Hint, providers.ErrUnavailable)}
	}
	level, cmp := saml.Level(req, p.cfg.MinLevel, p.cfg.Comparison)
	sent, err := p.Engine().SendAuthnRequest(w, r, saml.AuthnRequest{
		LoginID: req.ID, IdP: idp, Level: level, Comparison: cmp, ForceAuthn: req.ForceAuthn,
	})
	if sent != nil {
		p.Log().Info("spid: authn request", "login_id", req.ID, "request_id", sent.ID, "idp", idp.EntityID, "loa", level)
	}
	return err
}

// peekRequest reads the request record of relayState without using it up (see
// saml.SP.PeekRequest).
func (p *Provider) peekRequest(ctx context.Context, relayState string) (*requestRecord, error) {
	return p.Engine().PeekRequest(ctx, relayState)
}
