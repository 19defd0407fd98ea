package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/inps/sportello/broker/store"
	"github.com/inps/sportello/config"
	"github.com/inps/sportello/pin"
	"github.com/inps/sportello/pin/pinweb"
)

// cmdPIN runs "sportello pin --config FILE <command>": PIN operations on the configured store
// (Redis in production: the in-memory store lives only inside a running broker).
func cmdPIN(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return withConfiguredStore(ctx, "pin", args, stderr, func(cfg *config.Config, st store.Store, rest []string) int {
		for id, p := range cfg.Providers {
			if p.Type != "pin" {
				continue
			}
			c, err := pinConfig(id, &p, cfg)
			if err != nil {
				fmt.Fprintln(stderr, err)
				return 1
			}
			aw, closeAudit, err := operatorAuditor(cfg, stderr)
			if err != nil {
				fmt.Fprintln(stderr, err)
				return 1
			}
			defer closeAudit()
			svc, err := pin.New(pin.Options{Store: st, Config: *c, Notifier: buildNotifier(cfg), Auditor: aw,
				Logger: slog.New(slog.NewTextHandler(stderr, nil))})
			if err != nil {
				fmt.Fprintln(stderr, err)
				return 1
			}
			return pinweb.CLI(ctx, svc, rest, stdout, stderr)
		}
		fmt.Fprintln(stderr, "no provider section of type pin in the configuration")
		return 1
	})
}
