package broker

import (
	"context"
	"errors"
	"net/http"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/inps/sportello/internal/switches"
	"github.com/inps/sportello/providers"
)

// Switches answers whether the security team switched an IdP, a provider or a client off on
// every replica (a switches.Reader: from memory, reloaded from the Store every second or two).
type Switches interface {
	Disabled(kind switches.Kind, id string) (bool, switches.Switch)
}

// switchedOff reports whether kind/id is switched off (never, without Switches).
func (b *Broker) switchedOff(kind switches.Kind, id string) bool {
	if b.switches == nil || id == "" {
		return false
	}
	off, _ := b.switches.Disabled(kind, id)
	return off
}

// errSwitchedOff is a login through a switched-off provider or IdP: the person reads
// login.switched_off, the relying party gets temporarily_unavailable.
var errSwitchedOff = &providers.UserError{Code: "login.switched_off", Err: errors.Join(providers.ErrUnavailable, errors.New("switched off by the security team"))}

// providerSwitchedOff reports whether a login through provider p, at the IdP hint (an
// entityID or its alias; "" when none), is refused by a switch.
func (b *Broker) providerSwitchedOff(p providers.Provider, hint string) bool {
	if b.switchedOff(switches.KindProvider, p.Info().ID) {
		return true
	}
	if hint == "" {
		return false
	}
	if b.switchedOff(switches.KindIdP, hint) {
		return true
	}
	if o, ok := p.(providers.OptionLister); ok {
		for _, opt := range o.Options() {
			if opt.Alias == hint || opt.Hint == hint {
				return b.switchedOff(switches.KindIdP, opt.Hint)
			}
		}
	}
	return false
}

// identitySwitchedOff reports whether a verified identity came through a switched-off
// provider, SPID IdP or certification authority (a login started before the switch, or
// without a hint: a certificate login never has one, its CA is known only once the chain is
// verified). The identity names its method, not its provider: every provider of that method
// is checked. A certificate login is refused when any CA of its verified chain is off — the
// card's issuer, an intermediate or the trust anchor — so switching a root off stops every
// card beneath it.
func (b *Broker) identitySwitchedOff(id *providers.Identity) bool {
	if b.switches == nil {
		return false
	}
	for _, p := range b.provs {
		if info := p.Info(); info.Method == id.Method && b.switchedOff(switches.KindProvider, info.ID) {
			return true
		}
	}
	for _, ca := range id.CertAuthorities {
		if b.switchedOff(switches.KindIdP, ca) {
			return true
		}
	}
	// A SPID IdP (SAML or a SPID OP over OpenID Federation, whose entity id is also SPIDIdP)
	// and a CIE OP over OpenID Federation, checked again now: the login may have started
	// before the switch.
	return b.switchedOff(switches.KindIdP, id.SPIDIdP) || b.switchedOff(switches.KindIdP, id.CIEOP)
}

// errClientSwitchedOff is what a switched-off client's token requests get.
func errClientSwitchedOff() error {
	return op.NewStatusError(oidc.ErrUnauthorizedClient().WithDescription("this client has been switched off"), http.StatusBadRequest)
}

// VerifyClient authenticates the client of a token-endpoint request (verifyClient) and
// refuses a switched-off client: its refresh, token exchange, client credentials and
// introspection requests stop.
func (b *Broker) VerifyClient(ctx context.Context, r *op.Request[op.ClientCredentials]) (op.Client, error) {
	c, err := b.verifyClient(ctx, r)
	if err != nil {
		return nil, err
	}
	if b.switchedOff(switches.KindClient, c.GetID()) {
		b.log.InfoContext(ctx, "client refused: switched off", "client_id", c.GetID())
		return nil, errClientSwitchedOff()
	}
	return c, nil
}
