package pinweb

import (
	"context"
	"net/http"

	"github.com/inps/sportello/config"
	"github.com/inps/sportello/pin"
	"github.com/inps/sportello/providers"
)

// Type is the pin provider type for cmd/sportello's list.
var Type = providers.Type{
	Name:  "pin",
	Order: 3,
	Decode: func(id string, p *config.Provider, dev bool) (any, []error) {
		return pin.FromProvider(id, p, dev)
	},
	Open: func(h providers.Host, cfg any) (providers.Provider, error) {
		return Open(h, cfg.(*pin.Config))
	},
	Messages: Messages(),
}

// Open builds the INPS PIN service of c and its pages with what the broker gives it. The
// links sent to people (lost-PIN recovery) are rooted at the issuer unless public_url says
// otherwise; in dev mode the dev people are seeded.
func Open(h providers.Host, c *pin.Config) (*Web, error) {
	cfg := *c
	if cfg.PublicURL == "" {
		cfg.PublicURL = h.Issuer
	}
	log := h.Logger.With("provider", h.ID)
	svc, err := pin.New(pin.Options{Store: h.Store, Config: cfg, Notifier: h.Notifier, Auditor: h.Auditor, Logger: log})
	if err != nil {
		return nil, err
	}
	if h.Dev {
		if err := pin.SeedDev(context.Background(), svc); err != nil {
			log.Warn("dev PIN people not seeded", "error", err)
		}
	}
	d := Deps{ID: h.ID, Logger: log}
	if s := h.Broker; s != nil {
		d.CSRF, d.Lang, d.Session, d.Authorize, d.ChooserURL, d.LoginURL = brokerCSRF{s}, s.Lang, s.SessionIdentity, s.AuthorizeBearer, s.ChooserURL, s.SignInURL
	}
	return New(svc, d)
}

// brokerCSRF adapts the broker's form tokens to CSRF.
type brokerCSRF struct{ s providers.Services }

func (c brokerCSRF) Token(r *http.Request) string { return c.s.CSRFToken(r) }
func (c brokerCSRF) Check(r *http.Request) bool   { return c.s.CheckCSRF(r) }

// Entitlements are an official's authorisations (see pin.Service.Entitlements).
func (w *Web) Entitlements(ctx context.Context, fiscalNumber string) ([]string, error) {
	return w.svc.Entitlements(ctx, fiscalNumber)
}

var _ providers.Entitler = (*Web)(nil)

// Service is the PIN service behind the pages (the console unlocks lockouts through it).
func (w *Web) Service() *pin.Service { return w.svc }
