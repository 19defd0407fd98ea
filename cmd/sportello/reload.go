package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/inps/sportello/broker"
	"github.com/inps/sportello/config"
	"github.com/inps/sportello/providers/cieid"
	"github.com/inps/sportello/providers/eidas"
	"github.com/inps/sportello/providers/saml"
	"github.com/inps/sportello/providers/spid"
)

// reloader applies the configuration file again on SIGHUP where that is safe while serving:
// the clients and their policies, the global policy (policy.default_acr), and the identity
// providers' metadata sources of the SAML
// providers (SPID, CIE ID, eIDAS). Any other change — listeners, store, keys, issuer, tokens,
// the other settings of a provider, a provider added or removed — is logged as needing a
// restart and left as is. A file that does not load, or whose clients or sources are refused,
// changes nothing.
type reloader struct {
	b   *broker.Broker
	cw  *consoleWiring
	log *slog.Logger

	mu sync.Mutex
	// cur is the configuration in force: the one serve started with, its clients replaced
	// by every reload that applied.
	cur *config.Config
}

// restartSections are the top-level sections a running broker cannot take over.
func restartSections(a, b *config.Config) []string {
	var changed []string
	for _, s := range []struct {
		name string
		x, y any
	}{
		{"issuer", a.Issuer, b.Issuer}, {"dev", a.Dev, b.Dev}, {"listen", a.Listen, b.Listen}, {"keys", a.Keys, b.Keys},
		{"subject", a.Subject, b.Subject}, {"tokens", a.Tokens, b.Tokens}, {"par", a.PAR, b.PAR}, {"store", a.Store, b.Store},
		{"ui", a.UI, b.UI}, {"audit", a.Audit, b.Audit}, {"rate_limits", a.RateLimits, b.RateLimits},
		{"notify", a.Notify, b.Notify}, {"runtime", a.Runtime, b.Runtime}, {"tracing", a.Tracing, b.Tracing}, {"startup", a.Startup, b.Startup},
	} {
		if !reflect.DeepEqual(s.x, s.y) {
			changed = append(changed, s.name)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(a.Providers)) {
		p, ok := b.Providers[id]
		if !ok {
			changed = append(changed, "providers."+id+" (removed)")
			continue
		}
		if q := a.Providers[id]; q.Type != p.Type || q.IsEnabled() != p.IsEnabled() || !sameWithout(&q.Node, &p.Node, "idps") {
			changed = append(changed, "providers."+id)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(b.Providers)) {
		if _, ok := a.Providers[id]; !ok {
			changed = append(changed, "providers."+id+" (added)")
		}
	}
	return changed
}

// sameWithout reports whether two mappings are equal but for key.
func sameWithout(a, b *yaml.Node, key string) bool {
	strip := func(n *yaml.Node) string {
		c := *n
		c.Content = nil
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value != key {
				c.Content = append(c.Content, n.Content[i], n.Content[i+1])
			}
		}
		out, err := yaml.Marshal(&c)
		if err != nil {
			return "\x00" + err.Error()
		}
		return string(out)
	}
	return strip(a) == strip(b)
}

// samlSources decodes the metadata sources of a SAML provider section (nil, false for
// another type).
func samlSources(id string, p config.Provider, dev bool) ([]saml.IdPConfig, bool, []error) {
	switch p.Type {
	case "spid":
		c, errs := spid.FromProvider(id, &p, dev)
		if len(errs) > 0 {
			return nil, true, errs
		}
		return c.IdPs, true, nil
	case "cieid":
		c, errs := cieid.FromProvider(id, &p, dev)
		if len(errs) > 0 {
			return nil, true, errs
		}
		return c.IdPs, true, nil
	case "eidas":
		c, errs := eidas.FromProvider(id, &p, dev)
		if len(errs) > 0 {
			return nil, true, errs
		}
		return c.IdPs, true, nil
	}
	return nil, false, nil
}

// reload reads the file again and applies what it can; the error says why nothing was
// applied (everything was logged).
func (r *reloader) reload(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cur.Path == "" {
		return errors.New("no configuration file to reload (dev mode)")
	}
	next, err := config.Load(r.cur.Path, configOptions())
	if err != nil {
		r.log.Error("configuration reload refused: the running configuration stays (sportello check-config FILE lists every error)", "config", r.cur.Path, "error", err)
		return err
	}
	for _, s := range restartSections(r.cur, next) {
		r.log.Warn("configuration reload: this change needs a restart and is left as is", "section", s)
	}
	// Everything is prepared before anything is applied: a refusal changes nothing.
	type swap struct {
		id  string
		reg *saml.Registry
		set *saml.SourceSet
	}
	var swaps []swap
	for _, p := range r.b.Providers() {
		fed, ok := p.(samlFederation)
		if !ok {
			continue
		}
		id := p.Info().ID
		sec, ok := next.Providers[id]
		if !ok || !sec.IsEnabled() {
			continue // removed or switched off: reported above, needs a restart
		}
		idps, isSAML, errs := samlSources(id, sec, next.Dev)
		if len(errs) > 0 {
			err := errors.Join(errs...)
			r.log.Error("configuration reload refused: the running configuration stays", "provider", id, "error", err)
			return err
		}
		if !isSAML || reflect.DeepEqual(idps, fed.Registry().Configs()) {
			continue
		}
		set, err := saml.PrepareSources(idps)
		if err != nil {
			err = fmt.Errorf("providers.%s.%w", id, err)
			r.log.Error("configuration reload refused: the running configuration stays", "provider", id, "error", err)
			return err
		}
		swaps = append(swaps, swap{id, fed.Registry(), set})
	}
	clientsChanged := !reflect.DeepEqual(r.cur.Clients, next.Clients) || !reflect.DeepEqual(r.cur.Policy, next.Policy)
	if clientsChanged {
		// The broker runs with the console's own client beside the file's (serve): a reload
		// that left it out would lock the operators out of the console.
		if err := r.b.ReloadClients(withConsoleClient(next)); err != nil {
			r.log.Error("configuration reload refused: the running configuration stays", "error", err)
			return err
		}
		cur := *r.cur
		cur.Clients, cur.Policy = next.Clients, next.Policy
		r.cur = &cur
		r.cw.setClients(next.Clients)
		r.log.Info("configuration reload: clients and policy reloaded", "clients", len(next.Clients), "default_acr", next.Policy.DefaultACR)
	}
	for _, s := range swaps {
		s.reg.ReplaceSources(s.set)
		r.log.Info("configuration reload: metadata sources reloaded", "provider", s.id, "sources", len(s.reg.Configs()))
		if err := s.reg.Refresh(ctx); err != nil {
			r.log.Warn("configuration reload: a metadata source did not load; its IdPs are offered once it does", "provider", s.id, "error", err)
		}
	}
	if !clientsChanged && len(swaps) == 0 {
		r.log.Info("configuration reload: nothing to apply")
	}
	return nil
}
