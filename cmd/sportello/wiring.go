package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/smtp"
	"slices"
	"sort"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/inps/sportello/broker"
	"github.com/inps/sportello/broker/keys"
	"github.com/inps/sportello/config"
	"github.com/inps/sportello/internal/audit"
	"github.com/inps/sportello/internal/notify"
	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/internal/store/memory"
	redisstore "github.com/inps/sportello/internal/store/redis"
	"github.com/inps/sportello/pin/pinweb"
	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/card"
	"github.com/inps/sportello/providers/cieid"
	"github.com/inps/sportello/providers/eidas"
	"github.com/inps/sportello/providers/example"
	"github.com/inps/sportello/providers/oidcfed"
	"github.com/inps/sportello/providers/oidcfed/devfed"
	"github.com/inps/sportello/providers/spid"
)

// providerTypes is every credential built into this binary, written out here and never
// registered by init(): config validation, chooser order, construction and the page
// catalogue all come from this one list.
var providerTypes = []providers.Type{spid.Type, cieid.Type, oidcfed.Type, card.CIE, card.CNS, eidas.Type, pinweb.Type, example.Type}

// typeByName indexes providerTypes.
var typeByName = func() map[string]providers.Type {
	m := map[string]providers.Type{}
	for _, t := range providerTypes {
		m[t.Name] = t
	}
	return m
}()

// configValidators are providerTypes as config.Load checks sections.
func configValidators() map[string]config.ProviderValidator {
	m := map[string]config.ProviderValidator{}
	for _, t := range providerTypes {
		m[t.Name] = func(id string, p *config.Provider, dev bool) []error {
			_, errs := t.Decode(id, p, dev)
			return errs
		}
	}
	return m
}

func configOptions() config.Options {
	return config.Options{ProviderTypes: configValidators()}
}

// deps are what providers share.
type deps struct {
	store   store.Store
	auditor audit.Auditor
	logger  *slog.Logger
	// urlRewrite points the dev PKI's CRL/OCSP URLs at the real dev listener.
	urlRewrite map[string]string
	// notifier delivers PINs and messages.
	notifier notify.Notifier
	// dev seeds the dev fixtures.
	dev bool
	// sealKey is the crypto key when keys live in the store (Redis), else nil: keySource's
	// switch, handed to the providers with keys of their own.
	sealKey []byte
	// revocationChecks counts the answers of CRLs and OCSP responders by provider.
	revocationChecks *prometheus.CounterVec
	// chainResolutions counts the federation trust chain resolutions by provider.
	chainResolutions *prometheus.CounterVec
}

// onRevocationCheck is the x509auth hook of provider id (nil without metrics).
func (d deps) onRevocationCheck(id string) func(source, result string) {
	if d.revocationChecks == nil {
		return nil
	}
	return func(source, result string) { d.revocationChecks.WithLabelValues(id, source, result).Inc() }
}

// onChainResolution is the oidcfed hook of provider id (nil without metrics).
func (d deps) onChainResolution(id string) func(entityType, outcome string) {
	if d.chainResolutions == nil {
		return nil
	}
	return func(entityType, outcome string) { d.chainResolutions.WithLabelValues(id, entityType, outcome).Inc() }
}

// built is what buildProviders returns.
type built struct {
	// open opens the providers, in chooser order, once the broker exists.
	open     []opener
	messages map[string]map[string]string
}

// opener opens a provider with the broker's services; broker.New calls it (Options.Open).
type opener = func(providers.Services) (providers.Provider, error)

// host is what the broker gives provider id.
func (d deps) host(id, issuer string, s providers.Services) providers.Host {
	return providers.Host{ID: id, Issuer: issuer, Dev: d.dev, Store: d.store, SealKey: d.sealKey, Auditor: d.auditor, Notifier: d.notifier,
		Logger: d.logger, Broker: s, URLRewrite: d.urlRewrite, OnRevocationCheck: d.onRevocationCheck(id),
		OnChainResolution: d.onChainResolution(id)}
}

// buildProviders decodes every enabled provider of the configuration and returns their
// openers in chooser order (by type, then id).
func buildProviders(cfg *config.Config, d deps) (*built, error) {
	ids := slices.Collect(maps.Keys(cfg.Providers))
	sort.Slice(ids, func(i, j int) bool {
		ti, tj := typeByName[cfg.Providers[ids[i]].Type].Order, typeByName[cfg.Providers[ids[j]].Type].Order
		if ti != tj {
			return ti < tj
		}
		return ids[i] < ids[j]
	})
	res := &built{messages: providerMessages()}
	for _, id := range ids {
		p := cfg.Providers[id]
		if !p.IsEnabled() {
			continue
		}
		t, ok := typeByName[p.Type]
		if !ok {
			return nil, fmt.Errorf("provider %s: type %q is not built into this binary", id, p.Type)
		}
		c, errs := t.Decode(id, &p, cfg.Dev)
		if len(errs) > 0 {
			return nil, errors.Join(errs...)
		}
		res.open = append(res.open, func(s providers.Services) (providers.Provider, error) {
			return t.Open(d.host(id, cfg.Issuer, s), c)
		})
	}
	return res, nil
}

// newSPID is the opener of a SPID provider outside the configuration's list (dev mode's own).
func newSPID(c *spid.Config, id, issuer string, d deps) opener {
	return func(s providers.Services) (providers.Provider, error) { return spid.Open(d.host(id, issuer, s), c) }
}

// newOIDCFed is the opener of dev mode's federation RP: once its keys are loaded, the dev
// trust anchor enrolls it and gives it its trust mark.
func newOIDCFed(c *oidcfed.Config, fed *devfed.Federation, id, issuer string, d deps) opener {
	return func(s providers.Services) (providers.Provider, error) {
		p, err := oidcfed.Open(d.host(id, issuer, s), c, oidcfed.Options{})
		if err != nil {
			return nil, err
		}
		tm, err := fed.Enroll(p.EntityID(), p.FederationJWKS())
		if err != nil {
			return nil, err
		}
		c.WithTrustMark(fed.TA.ID+devfed.MarkRP, tm)
		return p, nil
	}
}

// newCIEID is the opener of dev mode's own CIE ID provider.
func newCIEID(c *cieid.Config, id, issuer string, d deps) opener {
	return func(s providers.Services) (providers.Provider, error) { return cieid.Open(d.host(id, issuer, s), c) }
}

// newEIDAS is the opener of dev mode's own eIDAS provider.
func newEIDAS(c *eidas.Config, id, issuer string, d deps) opener {
	return func(s providers.Services) (providers.Provider, error) { return eidas.Open(d.host(id, issuer, s), c) }
}

// providerMessages merges the page catalogues of every provider type.
func providerMessages() map[string]map[string]string {
	msgs := map[string]map[string]string{}
	for _, t := range providerTypes {
		maps.Copy(msgs, t.Messages)
	}
	return msgs
}

// openStore opens the configured store.
func openStore(ctx context.Context, cfg *config.Config) (store.Store, error) {
	switch cfg.Store.Type {
	case "", "memory":
		return memory.New(memory.Options{}), nil
	case "redis":
		r := cfg.Store.Redis
		return redisstore.New(ctx, redisstore.Options{URL: r.URL, Addrs: r.Addrs, MasterName: r.MasterName,
			Password: r.Password.Value, Prefix: r.Prefix, WaitReplicas: r.Replicas(), WaitTimeout: r.WaitTimeout})
	}
	return nil, fmt.Errorf("unknown store type %q", cfg.Store.Type)
}

// counterStore is the store of the rate limiter's counters, which need no durability: on
// Redis the instrumented store's view without WAIT, so a limit check never waits for replicas.
func counterStore(st *store.Instrumented, raw store.Store) store.Store {
	if rs, ok := raw.(*redisstore.Store); ok && rs.WaitReplicas() > 0 {
		return st.Wrap(rs.WithoutWait())
	}
	return st
}

// keySource is the signing-key source. On Redis the key set lives in the store (sealed with
// the crypto key) so every replica shares it; with the in-memory store (one process) the PEM
// files are the key set, re-read every 10 seconds. Only dev mode generates keys by itself
// (logged); elsewhere a missing key set stops serve with keys.ErrNoKeySet, and the operator
// creates it with `sportello keys init`.
func keySource(cfg *config.Config, st store.Store, cryptoKey []byte, logger *slog.Logger) keys.Source {
	files := &keys.FileSource{Dir: cfg.Keys.Dir, Generate: cfg.Dev, Logger: logger}
	if sealKey(cfg, cryptoKey) == nil {
		return files
	}
	src := &keys.StoreSource{Store: st, CryptoKey: cryptoKey}
	if cfg.Dev {
		src.Bootstrap = files
	}
	return src
}

// sealKey is the crypto key when keys live in the store sealed with it (the Redis store), else
// nil: the one switch for the broker's signing keys and the providers' own.
func sealKey(cfg *config.Config, cryptoKey []byte) []byte {
	if cfg.Store.Type != "redis" {
		return nil
	}
	return cryptoKey
}

// app is a running broker with its listeners.
type app struct {
	cfg    *config.Config
	broker *broker.Broker
	store  store.Store
	log    *slog.Logger
	// devRoutes are mounted in dev mode.
	devRoutes map[string]http.Handler
}

// buildNotifier routes messages by channel: e-mail and PEC to the SMTP relay, SMS and post to
// the spool directory the external gateway and print service read (also e-mail when no relay
// is configured).
func buildNotifier(cfg *config.Config) notify.Notifier {
	spool := &notify.Spool{Dir: cfg.Notify.SpoolDir}
	m := &notify.Multi{Routes: map[string]notify.Notifier{"sms": spool, "post": spool}, Default: spool}
	if c := cfg.Notify.SMTP; c.Addr != "" {
		host, _, _ := net.SplitHostPort(c.Addr)
		s := &notify.SMTP{Addr: c.Addr, From: c.From, RequireTLS: c.RequireTLS == nil || *c.RequireTLS,
			TLS: &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}}
		if c.Username != "" {
			s.Auth = smtp.PlainAuth("", c.Username, c.Password.Value, host)
		}
		m.Routes["email"], m.Routes["pec"] = s, s
	}
	return m
}

// federationLoader loads the first oidcfed section for `sportello federation`; with the
// Redis store its key set is the one serve keeps there (sealKey's switch).
func federationLoader(ctx context.Context) oidcfed.LoadFunc {
	load := oidcfed.ConfigLoader(configOptions())
	return func(path string) (*oidcfed.Config, error) {
		c, err := load(path)
		if err != nil {
			return nil, err
		}
		cfg, err := config.Load(path, configOptions())
		if err != nil {
			return nil, err
		}
		if cfg.Store.Type != "redis" {
			return c, nil
		}
		key, err := config.DecodeKey(cfg.Keys.CryptoKey.Value)
		if err != nil {
			return nil, fmt.Errorf("keys.crypto_key: %w", err)
		}
		// The command ends with the process, which closes the connections.
		st, err := openStore(ctx, cfg)
		if err != nil {
			return nil, err
		}
		c.KeepKeysInStore(st, key)
		return c, nil
	}
}
