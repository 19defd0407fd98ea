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
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/inps/sportello/broker"
	"github.com/inps/sportello/config"
	"github.com/inps/sportello/internal/audit"
	"github.com/inps/sportello/internal/notify"
	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/internal/store/memory"
	redisstore "github.com/inps/sportello/internal/store/redis"
	"github.com/inps/sportello/pin"
	"github.com/inps/sportello/pin/pinweb"
	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/cie"
	"github.com/inps/sportello/providers/cns"
	"github.com/inps/sportello/providers/spid"
	"github.com/inps/sportello/providers/x509auth"
)

// providerTypes validates provider sections for config.Load; the registry is written out here
// and injected, never registered by init().
var providerTypes = map[string]config.ProviderValidator{
	"spid":   spid.ConfigValidator,
	cie.Type: cie.Validate,
	cns.Type: cns.Validate,
	"pin": func(id string, p *config.Provider, dev bool) []error {
		_, errs := pin.FromProvider(id, p, dev)
		return errs
	},
}

func configOptions() config.Options {
	return config.Options{ProviderTypes: providerTypes}
}

// typeOrder is the chooser order of provider types.
var typeOrder = map[string]int{"spid": 0, cie.Type: 1, cns.Type: 2, "pin": 3}

// deps are what providers share.
type deps struct {
	store   store.Store
	auditor audit.Auditor
	logger  *slog.Logger
	// urlRewrite points the dev PKI's CRL/OCSP URLs at the real dev listener.
	urlRewrite map[string]string
	// notifier delivers PINs and messages.
	notifier notify.Notifier
	// late is the broker, known only once the providers are built.
	late *lateBroker
	// dev seeds the dev fixtures.
	dev bool
	// revocationChecks counts the answers of CRLs and OCSP responders by provider.
	revocationChecks *prometheus.CounterVec
}

// onRevocationCheck is the x509auth hook of provider id (nil without metrics).
func (d deps) onRevocationCheck(id string) func(source, result string) {
	if d.revocationChecks == nil {
		return nil
	}
	return func(source, result string) { d.revocationChecks.WithLabelValues(id, source, result).Inc() }
}

// built is what buildProviders returns besides the providers.
type built struct {
	providers    []providers.Provider
	messages     map[string]map[string]string
	entitlements func(ctx context.Context, fiscalNumber string) ([]string, error)
}

// lateBroker lets providers built before the broker call it once it exists (CSRF, language,
// session, operator tokens).
type lateBroker struct{ b atomic.Pointer[broker.Broker] }

func (l *lateBroker) Token(r *http.Request) string { return l.b.Load().CSRFToken(r) }
func (l *lateBroker) Check(r *http.Request) bool   { return l.b.Load().CheckCSRF(r) }
func (l *lateBroker) Lang(r *http.Request) string  { return l.b.Load().Lang(r) }
func (l *lateBroker) Session(r *http.Request) (*providers.Identity, error) {
	return l.b.Load().SessionIdentity(r)
}
func (l *lateBroker) WritePostForm(w http.ResponseWriter, r *http.Request, action string, fields map[string]string) error {
	return l.b.Load().WritePostForm(w, r, action, fields)
}
func (l *lateBroker) WriteUnavailable(w http.ResponseWriter, r *http.Request, err error) {
	l.b.Load().WriteUnavailable(w, r, err)
}
func (l *lateBroker) EndUpstreamSession(ctx context.Context, s map[string]string) error {
	return l.b.Load().EndUpstreamSession(ctx, s)
}
func (l *lateBroker) Authorize(r *http.Request, scope string) (string, bool) {
	return l.b.Load().AuthorizeBearer(r, scope)
}
func (l *lateBroker) SignInURL(next string) string     { return l.b.Load().SignInURL(next) }
func (l *lateBroker) ChooserURL(loginID string) string { return l.b.Load().ChooserURL(loginID) }

// buildProviders builds every enabled provider of the configuration, in chooser order.
func buildProviders(ctx context.Context, cfg *config.Config, d deps) (*built, error) {
	ids := slices.Collect(maps.Keys(cfg.Providers))
	sort.Slice(ids, func(i, j int) bool {
		ti, tj := typeOrder[cfg.Providers[ids[i]].Type], typeOrder[cfg.Providers[ids[j]].Type]
		if ti != tj {
			return ti < tj
		}
		return ids[i] < ids[j]
	})
	msgs := map[string]map[string]string{}
	maps.Copy(msgs, x509auth.Messages())
	res := &built{messages: msgs}
	for _, id := range ids {
		p := cfg.Providers[id]
		if !p.IsEnabled() {
			continue
		}
		var prov providers.Provider
		var err error
		switch p.Type {
		case cie.Type:
			c, errs := cie.FromProvider(id, &p, cfg.Dev)
			if len(errs) > 0 {
				return nil, errors.Join(errs...)
			}
			prov, err = cie.New(c, cie.Deps{ID: id, Auditor: d.auditor, Logger: d.logger, URLRewrite: d.urlRewrite, OnRevocationCheck: d.onRevocationCheck(id)})
		case cns.Type:
			c, errs := cns.FromProvider(id, &p, cfg.Dev)
			if len(errs) > 0 {
				return nil, errors.Join(errs...)
			}
			prov, err = cns.New(c, cns.Deps{ID: id, Auditor: d.auditor, Logger: d.logger, URLRewrite: d.urlRewrite, OnRevocationCheck: d.onRevocationCheck(id)})
		case "pin":
			prov, err = buildPIN(ctx, id, &p, cfg, d, res)
		case "spid":
			c, errs := spid.FromProvider(id, &p, cfg.Dev)
			if len(errs) > 0 {
				return nil, errors.Join(errs...)
			}
			prov, err = newSPID(c, id, cfg.Issuer, d)
			maps.Copy(res.messages, spid.Messages())
		default:
			err = fmt.Errorf("provider %s: type %q is not built into this binary", id, p.Type)
		}
		if err != nil {
			return nil, err
		}
		res.providers = append(res.providers, prov)
	}
	return res, nil
}

func newSPID(c *spid.Config, id, issuer string, d deps) (*spid.Provider, error) {
	return spid.New(c, spid.Deps{ID: id, Store: d.store, Auditor: d.auditor, Logger: d.logger, BaseURL: issuer,
		SessionEnder: d.late.EndUpstreamSession, PostForm: d.late.WritePostForm, Unavailable: d.late.WriteUnavailable})
}

// buildPIN builds the INPS PIN service and its pages; in dev mode it seeds the dev people.
func buildPIN(ctx context.Context, id string, p *config.Provider, cfg *config.Config, d deps, res *built) (providers.Provider, error) {
	c, err := pinConfig(id, p, cfg)
	if err != nil {
		return nil, err
	}
	svc, err := pin.New(pin.Options{Store: d.store, Config: *c, Notifier: d.notifier, Auditor: d.auditor, Logger: d.logger.With("provider", id)})
	if err != nil {
		return nil, err
	}
	if d.dev {
		if err := pin.SeedDev(ctx, svc); err != nil {
			d.logger.Warn("dev PIN people not seeded", "error", err)
		}
	}
	web, err := pinweb.New(svc, pinweb.Deps{ID: id, CSRF: d.late, Lang: d.late.Lang, Session: d.late.Session,
		Authorize: d.late.Authorize, Logger: d.logger.With("provider", id), ChooserURL: d.late.ChooserURL, LoginURL: d.late.SignInURL})
	if err != nil {
		return nil, err
	}
	maps.Copy(res.messages, pinweb.Messages())
	res.entitlements = svc.Entitlements
	return web, nil
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
// (logged); elsewhere a missing key set stops serve with broker.ErrNoKeySet, and the operator
// creates it with `sportello keys init`.
func keySource(cfg *config.Config, st store.Store, cryptoKey []byte, logger *slog.Logger) broker.KeySource {
	files := &broker.FileKeySource{Dir: cfg.Keys.Dir, Generate: cfg.Dev, Logger: logger}
	if cfg.Store.Type != "redis" {
		return files
	}
	src := &broker.StoreKeySource{Store: st, CryptoKey: cryptoKey}
	if cfg.Dev {
		src.Bootstrap = files
	}
	return src
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

// pinConfig is the PIN provider's configuration with the links sent to people (lost-PIN
// recovery) rooted at the issuer unless public_url says otherwise.
func pinConfig(id string, p *config.Provider, cfg *config.Config) (*pin.Config, error) {
	c, errs := pin.FromProvider(id, p, cfg.Dev)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if c.PublicURL == "" {
		c.PublicURL = cfg.Issuer
	}
	return c, nil
}
