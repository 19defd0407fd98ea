package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/inps/sportello/broker"
	"github.com/inps/sportello/config"
	"github.com/inps/sportello/internal/audit"
	"github.com/inps/sportello/internal/cli"
	"github.com/inps/sportello/internal/delegation"
	"github.com/inps/sportello/internal/notify"
	"github.com/inps/sportello/internal/ratelimit"
	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/providers"
)

const serveUsage = `Usage: sportello serve --config FILE
       sportello serve FILE

Runs the broker with a configuration file: listeners, store and identity providers. SIGTERM
and SIGINT drain the listeners; SIGHUP reloads the signing keys.`

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlags("sportello serve")
	flagPath := cli.ConfigFlag(fs)
	rest, code, done := cli.Parse(fs, serveUsage, args, stdout, stderr)
	if done {
		return code
	}
	path, code, ok := cli.ConfigPath(fs, serveUsage, *flagPath, rest, stderr)
	if !ok {
		return code
	}
	// Everything serve writes to standard error is a JSON line, from the first: the
	// configuration's errors too (check-config lists them for a person).
	logger := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	slog.SetDefault(logger)
	cfg, err := config.Load(path, configOptions())
	if err != nil {
		logger.Error("configuration refused (sportello check-config FILE lists every error)", "config", path, "error", err)
		return 1
	}
	if err := serve(ctx, cfg, logger, nil, nil); err != nil {
		logger.Error("sportello stopped", "error", keysInitHint(err, "--config "+path))
		return 1
	}
	return 0
}

// devExtras are what dev mode adds: routes and providers built outside the configuration.
type devExtras struct {
	routes     map[string]http.Handler
	providers  func(d deps) ([]opener, map[string]map[string]string, error)
	banner     func(b *broker.Broker) string
	mtlsCert   *tls.Certificate
	urlRewrite map[string]string
	notifier   notify.Notifier
	auditOut   io.Writer // the audit trail when audit.file is empty (default os.Stderr)
	bannerOut  io.Writer // where the banner goes (default os.Stdout)
	// wrapStore, when set, wraps the store every component uses (tests cut it mid-login).
	wrapStore func(store.Store) store.Store
}

// serve builds the broker from cfg and runs its listeners until ctx ends (graceful shutdown).
func serve(ctx context.Context, cfg *config.Config, logger *slog.Logger, dev *devExtras, ready chan<- string) error {
	tuneRuntime(cfg.Runtime, os.Getenv, logger)
	mx := newServeMetrics()
	raw, err := openStore(ctx, cfg)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer raw.Close()
	dur := newDurability(raw, cfg)
	if err := dur.checkPersistence(ctx, logger); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	tr, err := newTracing(ctx, cfg.Tracing)
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		tr.shutdown(sctx)
	}()
	if err := tr.instrumentRedis(raw); err != nil {
		return fmt.Errorf("tracing: %w", err)
	}
	var shared store.Store = raw
	if dev != nil && dev.wrapStore != nil {
		shared = dev.wrapStore(raw)
	}
	st, err := store.Instrument(shared, mx.reg)
	if err != nil {
		return err
	}
	var auditOut io.Writer = os.Stderr
	if dev != nil && dev.auditOut != nil {
		auditOut = dev.auditOut
	}
	aw, err := openAuditTrail(cfg, cfg.Audit.File, auditOut, logger.With("component", "audit"))
	if err != nil {
		return err
	}
	defer aw.Close()
	go audit.CheckpointEvery(ctx, aw, audit.DefaultCheckpointInterval)
	auditor, err := audit.NewCounting(aw, mx.reg)
	if err != nil {
		return err
	}
	cryptoKey, err := config.DecodeKey(cfg.Keys.CryptoKey.Value)
	if err != nil {
		return fmt.Errorf("keys.crypto_key: %w", err)
	}
	subjectKey, err := config.DecodeKey(cfg.Subject.Key.Value)
	if err != nil {
		return fmt.Errorf("subject.key: %w", err)
	}
	d := deps{store: st, auditor: auditor, logger: logger, dev: cfg.Dev, sealKey: sealKey(cfg, cryptoKey), notifier: buildNotifier(cfg),
		revocationChecks: mx.revocationChecks, chainResolutions: mx.chainResolutions}
	if dev != nil {
		d.urlRewrite = dev.urlRewrite
		if dev.notifier != nil {
			d.notifier = dev.notifier
		}
	}
	res, err := buildProviders(cfg, d)
	if err != nil {
		return err
	}
	open, msgs := res.open, res.messages
	reg, err := delegation.New(delegation.Options{Store: st, Notifier: d.notifier, Auditor: auditor, Logger: logger.With("component", "delegation")})
	if err != nil {
		return err
	}
	if cfg.Dev {
		if err := delegation.SeedDev(ctx, reg); err != nil {
			logger.Warn("dev delegation not seeded", "error", err)
		}
	}
	for k, v := range delegation.Messages() {
		msgs[k] = v
	}
	var routes map[string]http.Handler
	if dev != nil {
		routes = dev.routes
		if dev.providers != nil {
			extra, extraMsgs, err := dev.providers(d)
			if err != nil {
				return err
			}
			open = append(extra, open...)
			for k, v := range extraMsgs {
				msgs[k] = v
			}
		}
	}
	keySrc := keySource(cfg, st, cryptoKey, logger.With("component", "keys"))
	cw := newConsoleWiring(cfg, st, keySrc, auditor, logger)
	b, err := broker.New(ctx, broker.Options{
		Config: withConsoleClient(cfg), Store: st, Open: open, Keys: keySrc, Switches: cw.reader,
		SubjectKey: subjectKey, CryptoKey: cryptoKey, Logger: logger, Auditor: auditor, Registerer: mx.reg, Gatherer: mx.reg,
		Messages: msgs, DevRoutes: routes,
		Delegations: brokerDelegations(reg),
		Mount: func(s providers.Services) (map[string]http.Handler, error) {
			routes, err := delegationRoutes(reg, s, logger)
			if err != nil {
				return nil, err
			}
			api, err := cw.routes(s)
			maps.Copy(routes, api)
			return routes, err
		},
		ReadyChecks: dur.readyChecks(),
		CountLogin:  cw.logins.Add,
	})
	if err != nil {
		return err
	}
	provs := b.Providers()
	b.StartingUntilReady()
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The broker's background work (key reloads, back-channel logout deliveries) stops after
	// the listeners, before the store closes: see the end of serve.
	runDone := make(chan struct{})
	go func() { defer close(runDone); b.Run(runCtx) }()
	cw.b.Store(b)
	cw.start(runCtx)
	go reloadOnHUP(runCtx, b, &reloader{b: b, cw: cw, log: logger.With("component", "reload"), cur: cfg}, logger)

	var handler http.Handler = b
	if !cfg.RateLimits.Disabled {
		var trusted []netip.Prefix
		for _, p := range cfg.Listen.TrustedProxies {
			if pfx, err := netip.ParsePrefix(p); err == nil {
				trusted = append(trusted, pfx)
			} else if a, err := netip.ParseAddr(p); err == nil {
				trusted = append(trusted, netip.PrefixFrom(a, a.BitLen()))
			}
		}
		handler = ratelimit.New(counterStore(st, raw), ratelimit.Options{}).ByPath(b, ratelimit.DefaultRoutes(trusted, logger.With("component", "ratelimit"))...)
	}
	handler = tr.handler(handler)
	main := &http.Server{Addr: cfg.Listen.HTTP, Handler: handler, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second,
		MaxHeaderBytes: 64 << 10, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	ln, err := net.Listen("tcp", cfg.Listen.HTTP)
	if err != nil {
		return err
	}
	// What the listeners are bound to (a port 0 in the configuration is the port chosen).
	bound := []any{"http", ln.Addr().String()}
	servers := []*http.Server{main}
	// closeAll stops what is bound when start-up fails. A Server's Close does not reach a
	// listener whose Serve has not registered it yet (that Serve closes it on its own, later),
	// so the listeners are closed here too: serve returns with every address free again.
	var listeners []net.Listener
	closeAll := func() {
		for _, s := range servers {
			_ = s.Close()
		}
		for _, l := range listeners {
			_ = l.Close()
		}
	}
	listeners = append(listeners, ln)
	errc := make(chan error, 3)
	go func() { errc <- main.Serve(ln) }()
	if cfg.Listen.Debug != "" {
		dbg, dln, err := debugServer(cfg.Listen.Debug)
		if err != nil {
			closeAll()
			return err
		}
		addr := dln.Addr().String()
		servers = append(servers, dbg)
		listeners = append(listeners, dln)
		bound = append(bound, "debug", addr)
		logger.Warn("profiler listening", "debug", addr)
	}
	if cfg.Listen.MTLS != "" && dev != nil && dev.mtlsCert != nil || cfg.Listen.MTLS != "" && cfg.Listen.TLSCert != "" {
		cert := dev.cert()
		if cert == nil {
			c, err := tls.LoadX509KeyPair(cfg.Listen.TLSCert, cfg.Listen.TLSKey)
			if err != nil {
				closeAll()
				return fmt.Errorf("listen.tls_cert: %w", err)
			}
			cert = &c
		}
		mtls := newMTLSServer(cfg.Listen.MTLS, tr.handler(b.MTLSHandler()), cert, logger)
		mln, err := net.Listen("tcp", cfg.Listen.MTLS)
		if err != nil {
			closeAll()
			return err
		}
		servers = append(servers, mtls)
		listeners = append(listeners, mln)
		bound = append(bound, "mtls", mln.Addr().String())
		go func() { errc <- mtls.ServeTLS(mln, "", "") }()
	}
	// Providers with background work (SPID metadata refresh) load once the listeners are
	// bound (in dev mode the SPID IdPs are served by this very process), before the start-up
	// checks judge them.
	for _, p := range provs {
		if r, ok := p.(providers.Refresher); ok {
			rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			if err := r.Refresh(rctx); err != nil {
				logger.Warn("provider refresh failed", "provider", p.Info().ID, "error", err)
			}
			cancel()
		}
		if r, ok := p.(providers.Runner); ok {
			go r.Run(runCtx)
		}
	}
	if err := startupReadiness(ctx, b, cfg, logger); err != nil {
		closeAll()
		return err
	}
	b.MarkReady()
	if ready != nil {
		ready <- ln.Addr().String()
	}
	if dev != nil && dev.banner != nil {
		var out io.Writer = os.Stdout
		if dev.bannerOut != nil {
			out = dev.bannerOut
		}
		fmt.Fprint(out, dev.banner(b))
	}
	logger.Info("sportello listening", append([]any{"issuer", b.Issuer()}, append(bound, "store", cfg.Store.Type)...)...)
	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	timeout := cfg.Listen.ShutdownTimeout
	if timeout == 0 {
		timeout = 15 * time.Second
	}
	sctx, scancel := context.WithTimeout(context.Background(), timeout)
	defer scancel()
	logger.Info("shutting down")
	for _, s := range servers {
		_ = s.Shutdown(sctx)
	}
	// The logouts the last requests queued stay in the store for the other replicas (or this
	// one, restarted); a delivery cut short keeps its lease until it runs out.
	cancel()
	select {
	case <-runDone:
	case <-sctx.Done():
		logger.Warn("background work still running at the shutdown timeout")
	}
	return nil
}

func (d *devExtras) cert() *tls.Certificate {
	if d == nil {
		return nil
	}
	return d.mtlsCert
}

func reloadOnHUP(ctx context.Context, b *broker.Broker, rl *reloader, logger *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			if err := b.ReloadKeys(ctx); err != nil {
				logger.Error("key reload failed", "error", err)
			} else {
				logger.Info("keys reloaded on SIGHUP")
			}
			_ = rl.reload(ctx) // logged; dev mode has no file to read
		}
	}
}

// debugServer serves net/http/pprof on addr (a loopback address: Validate checks it) and
// returns the address it is bound to.
func debugServer(addr string) (*http.Server, net.Listener, error) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	// No WriteTimeout: a CPU profile or trace streams for as long as it was asked to.
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("listen.debug: %w", err)
	}
	go func() { _ = srv.Serve(ln) }()
	return srv, ln, nil
}

// tuneRuntime applies the runtime section unless GOGC or GOMEMLIMIT is set: the variables the
// Go runtime itself reads keep the last word.
func tuneRuntime(r config.Runtime, getenv func(string) string, logger *slog.Logger) {
	gc, limit := "GOGC="+getenv("GOGC"), "GOMEMLIMIT="+getenv("GOMEMLIMIT")
	if getenv("GOGC") == "" {
		debug.SetGCPercent(r.GCPercent)
		gc = fmt.Sprintf("runtime.gc_percent=%d", r.GCPercent)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(int64(r.MemoryLimitMiB) << 20)
		limit = fmt.Sprintf("runtime.memory_limit_mib=%d", r.MemoryLimitMiB)
	}
	logger.Info("garbage collector", "gc", gc, "memory_limit", limit)
}

// serveMetrics is the process's one Prometheus registry: the broker's metrics, the store's,
// the audit trail's, the smart-card providers' revocation checks, Go and process metrics.
type serveMetrics struct {
	reg              *prometheus.Registry
	revocationChecks *prometheus.CounterVec
	chainResolutions *prometheus.CounterVec
}

func newServeMetrics() serveMetrics {
	reg := prometheus.NewRegistry()
	rc := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sportello_revocation_checks_total",
		Help: "Certificate revocation answers by provider, source (crl, ocsp) and result (good, revoked, unknown)."},
		[]string{"provider", "source", "result"})
	cr := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sportello_federation_chain_resolutions_total",
		Help: "OpenID Federation trust chain resolutions by provider, entity type and outcome (resolved, cached, no_chain, expired, bad_signature, policy_violation, trust_mark, malformed, fetch_error, store_error)."},
		[]string{"provider", "entity_type", "outcome"})
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), rc, cr)
	return serveMetrics{reg: reg, revocationChecks: rc, chainResolutions: cr}
}

// newMTLSServer is the mutual-TLS listener's server. Any client certificate is requested and
// none is verified in the handshake: the providers validate chains against the trust lists
// themselves. Nothing about a certificate outlives its login: no TLS session resumption (a
// resumed session carries the earlier handshake's certificate without the card proving
// possession again) and no keep-alive (a second login on the same connection would reuse it).
func newMTLSServer(addr string, h http.Handler, cert *tls.Certificate, logger *slog.Logger) *http.Server {
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, MaxHeaderBytes: 64 << 10,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{*cert}, ClientAuth: tls.RequestClientCert,
			MinVersion: tls.VersionTLS12, SessionTicketsDisabled: true}}
	srv.SetKeepAlivesEnabled(false)
	return srv
}

// delegationRoutes are the delegation pages and the operators' API, over the broker's
// services.
func delegationRoutes(reg *delegation.Registry, s providers.Services, logger *slog.Logger) (map[string]http.Handler, error) {
	web, err := delegation.NewWeb(reg, delegation.Deps{CSRF: csrfOf{s}, Lang: s.Lang, Session: s.SessionIdentity,
		Authorize: s.AuthorizeBearer, Logger: logger.With("component", "delegation"), LoginURL: s.SignInURL})
	if err != nil {
		return nil, err
	}
	return map[string]http.Handler{"/deleghe/": web, "/admin/delegations/": web}, nil
}

// csrfOf adapts the broker's form tokens to the pages' CSRF interfaces.
type csrfOf struct{ s providers.Services }

func (c csrfOf) Token(r *http.Request) string { return c.s.CSRFToken(r) }
func (c csrfOf) Check(r *http.Request) bool   { return c.s.CheckCSRF(r) }
