package broker

import (
	"github.com/inps/sportello/config"
)

// clientSet is the registered clients, the CORS policy their redirect URIs make and the
// policy applied to their requests (policy.default_acr); a reload replaces it whole, so a
// request sees one set or the other, never a mix.
type clientSet struct {
	byID       map[string]*Client
	cors       *corsPolicy
	defaultACR string
}

// client returns the registered client id.
func (b *Broker) client(id string) (*Client, bool) {
	cl, ok := b.clients.Load().byID[id]
	return cl, ok
}

// clientMap returns the registered clients in force (not to be modified).
func (b *Broker) clientMap() map[string]*Client { return b.clients.Load().byID }

// ReloadClients replaces the registered clients, their policies and the global policy
// (policy.default_acr) (redirect URIs, scopes,
// grants, minimum level, credentials, token exchange and introspection rights) with those of
// cfg, at once: every request from then on sees the new registration. Nothing changes when
// any client of cfg is invalid or names no provider; the error says why. cfg's other
// sections are not read.
func (b *Broker) ReloadClients(cfg *config.Config) error {
	set, err := b.buildClients(cfg)
	if err != nil {
		return err
	}
	if err := b.checkCredentials(set.byID); err != nil {
		return err
	}
	b.clients.Store(set)
	return nil
}
