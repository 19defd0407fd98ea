package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"sync/atomic"
	"time"

	"github.com/inps/sportello/broker"
	"github.com/inps/sportello/broker/console"
	"github.com/inps/sportello/broker/keys"
	"github.com/inps/sportello/config"
	"github.com/inps/sportello/internal/audit"
	"github.com/inps/sportello/internal/heartbeat"
	"github.com/inps/sportello/internal/loginstats"
	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/internal/switches"
	"github.com/inps/sportello/pin/pinweb"
	"github.com/inps/sportello/providers"
)

// consoleWiring is what the console API needs from this process: the broker (set once
// broker.New returns, since the API is mounted while it is built), the key source, the
// switches and the heartbeats.
type consoleWiring struct {
	cfg      *config.Config
	store    store.Store
	keys     keys.Source
	reader   *switches.Reader
	beater   *heartbeat.Beater
	auditor  audit.Auditor
	auditLog console.AuditLog // nil without an audit file
	log      *slog.Logger
	b        atomic.Pointer[broker.Broker]
	rotating atomic.Bool
	// logins counts this replica's logins of the last hour (broker.Options.CountLogin);
	// publisher shares them with the other replicas through the Store.
	logins    *loginstats.Counter
	publisher *loginstats.Publisher
	// clients are the clients in force, replaced by a configuration reload.
	clients atomic.Pointer[[]config.Client]
}

// setClients replaces the clients the console lists (a configuration reload).
func (w *consoleWiring) setClients(cs []config.Client) { w.clients.Store(&cs) }

func newConsoleWiring(cfg *config.Config, st store.Store, ks keys.Source, auditor audit.Auditor, logger *slog.Logger) *consoleWiring {
	host, _ := os.Hostname()
	w := &consoleWiring{cfg: cfg, store: st, keys: ks, auditor: auditor, log: logger.With("component", "console"),
		reader: switches.NewReader(st, switches.ReaderOptions{}),
		beater: &heartbeat.Beater{Store: st, Self: heartbeat.Replica{ID: replicaID(host), Hostname: host, Version: buildVersion(), Started: time.Now().UTC()}}}
	w.setClients(cfg.Clients)
	w.logins = &loginstats.Counter{}
	w.publisher = &loginstats.Publisher{Store: st, Replica: w.beater.Self.ID, Counter: w.logins}
	if cfg.Audit.File != "" {
		if l, err := newFileAuditLog(cfg.Audit.File, cfg.Audit.SigningKey); err == nil {
			w.auditLog = l
		} else {
			w.log.Warn("console: the audit trail cannot be searched", "error", err)
		}
	}
	return w
}

// replicaID names this process among the replicas: host, pid and a random suffix (a restart
// is a new replica).
func replicaID(host string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	id := fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
	clean := []rune{}
	for _, r := range id {
		if r < 0x80 && (r == '-' || r == '.' || r == '_' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')) {
			clean = append(clean, r)
		}
	}
	if len(clean) > heartbeat.MaxIDLen {
		clean = clean[len(clean)-heartbeat.MaxIDLen:]
	}
	return string(clean)
}

// start loads the switches once and runs the reload and the heartbeat until ctx ends.
func (w *consoleWiring) start(ctx context.Context) {
	if err := w.reader.Load(ctx); err != nil {
		w.log.Warn("switches not loaded; retrying in the background", "error", err)
	}
	go w.reader.Run(ctx)
	go w.beater.Run(ctx, func(err error) { w.log.Warn("heartbeat failed", "error", err) })
	go w.publisher.Run(ctx, func(err error) { w.log.Warn("login counts not published", "error", err) })
}

// bearer is the broker's BearerScopes, found on its services.
type bearer interface {
	BearerScopes(r *http.Request) (string, []string, bool)
}

// routes mounts the console API over the broker's services.
func (w *consoleWiring) routes(s providers.Services) (map[string]http.Handler, error) {
	bs, ok := s.(bearer)
	if !ok {
		return nil, errors.New("console: the broker's services do not check bearer scopes")
	}
	api, err := console.New(console.Config{
		Authorize: bs.BearerScopes,
		Sources:   w,
		Switches:  &switches.Switches{Store: w.store},
		Reader:    w.reader,
		Replicas:  func(ctx context.Context) ([]heartbeat.Replica, error) { return heartbeat.List(ctx, w.store) },
		AuditLog:  w.auditLog,
		Audit:     w.auditor,
		Actions: console.Actions{
			RefreshMetadata: w.refreshMetadata,
			RotateKeys:      w.rotateKeys,
			UnlockPIN:       w.unlockPIN,
			RevokePerson:    w.revokePerson,
		},
		Log: w.log,
	})
	if err != nil {
		return nil, err
	}
	routes := map[string]http.Handler{console.Prefix: api}
	ui, err := w.consoleUI(api, s)
	if err != nil {
		return nil, err
	}
	if ui != nil {
		routes[console.UIPrefix] = ui
	}
	return routes, nil
}

func (w *consoleWiring) broker() (*broker.Broker, error) {
	b := w.b.Load()
	if b == nil {
		return nil, errors.New("console: the broker is still starting")
	}
	return b, nil
}

// Clients implements console.Sources from the configuration.
func (w *consoleWiring) Clients(context.Context) ([]console.Client, error) {
	clients := *w.clients.Load()
	out := make([]console.Client, 0, len(clients))
	for _, c := range clients {
		out = append(out, console.Client{ID: c.ID, Name: c.Name, Public: c.Public, Grants: slices.Clone(c.GrantTypes),
			Scopes: slices.Clone(c.Scopes), RedirectURIs: slices.Clone(c.RedirectURIs), MinLevel: c.MinACR,
			Exchange: slices.Clone(c.ExchangeAudiences)})
	}
	return out, nil
}

// Keys implements console.Sources: the signing keys' ids, algorithms and states, never their
// material.
func (w *consoleWiring) Keys(ctx context.Context) ([]console.Key, error) {
	set, err := w.keys.Load(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]console.Key, 0, len(set.Keys))
	for _, k := range set.Keys {
		ck := console.Key{KID: k.ID, Alg: string(k.Alg), Use: "sig", State: k.State}
		if !k.Created.IsZero() {
			created := k.Created
			ck.Created = &created
		}
		out = append(out, ck)
	}
	return out, nil
}

// rotateKeys rotates the key set in its source and reloads it here at once (the other
// replicas within their reload interval).
func (w *consoleWiring) rotateKeys(ctx context.Context) error {
	if !w.rotating.CompareAndSwap(false, true) {
		return fmt.Errorf("%w: a rotation is already running", console.ErrInvalid)
	}
	defer w.rotating.Store(false)
	b, err := w.broker()
	if err != nil {
		return err
	}
	grace := w.cfg.Keys.RetiredGrace
	if grace == 0 {
		grace = max(w.cfg.Tokens.AccessTTL, w.cfg.Tokens.IDTTL) + time.Minute
	}
	if _, err := w.keys.Rotate(ctx, time.Now(), grace); err != nil {
		return err
	}
	return b.ReloadKeys(ctx)
}

// revokePerson ends the person's SSO sessions (each telling its clients by back-channel
// logout) and revokes the grants they obtained until now (Broker.EndSessions); the console
// audits it with the operator as actor.
func (w *consoleWiring) revokePerson(ctx context.Context, cf string) (int, error) {
	b, err := w.broker()
	if err != nil {
		return 0, err
	}
	return b.EndSessions(ctx, cf)
}

// unlockPIN lifts a PIN lockout through the PIN provider; the PIN service's pin.unlocked
// record names the operator, as the admin API's does, never a generic "console".
func (w *consoleWiring) unlockPIN(ctx context.Context, operator, cf string) error {
	b, err := w.broker()
	if err != nil {
		return err
	}
	for _, p := range b.Providers() {
		if pw, ok := p.(*pinweb.Web); ok {
			return pw.Service().Unlock(ctx, operator, cf)
		}
	}
	return fmt.Errorf("%w: this broker has no PIN provider", console.ErrNotFound)
}
