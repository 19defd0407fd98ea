package main

import (
	"context"
	"errors"
	"io"
	"log/slog"

	"github.com/inps/sportello/config"
	"github.com/inps/sportello/pin"
	"github.com/inps/sportello/pin/pinweb"
)

// cmdPIN runs "sportello pin --config FILE <command>": PIN operations on the configured store
// (Redis in production: the in-memory store lives only inside a running broker). The store
// is opened only once the command line is understood.
func cmdPIN(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return pinweb.CLI(ctx, args, stdout, stderr, func(path string) (*pin.Service, func(), error) {
		cfg, st, err := openConfiguredStore(ctx, path)
		if err != nil {
			return nil, nil, err
		}
		for id, p := range cfg.Providers {
			if p.Type != "pin" {
				continue
			}
			c, err := pinConfig(id, &p, cfg)
			if err != nil {
				_ = st.Close()
				return nil, nil, err
			}
			aw, closeAudit, err := operatorAuditor(cfg, stderr)
			if err != nil {
				_ = st.Close()
				return nil, nil, err
			}
			svc, err := pin.New(pin.Options{Store: st, Config: *c, Notifier: buildNotifier(cfg), Auditor: aw,
				Logger: slog.New(slog.NewTextHandler(stderr, nil))})
			if err != nil {
				closeAudit()
				_ = st.Close()
				return nil, nil, err
			}
			return svc, func() { closeAudit(); _ = st.Close() }, nil
		}
		_ = st.Close()
		return nil, nil, errors.New("no provider section of type pin in the configuration")
	})
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
