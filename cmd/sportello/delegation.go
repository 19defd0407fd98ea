package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/inps/sportello/broker/delegation"
	"github.com/inps/sportello/broker/store"
	"github.com/inps/sportello/config"
)

// cmdDelegation runs "sportello delegation --config FILE register|revoke|show ...": office
// operations on the delegation registry of the configured store.
func cmdDelegation(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return withConfiguredStore(ctx, "delegation", args, stderr, func(cfg *config.Config, st store.Store, rest []string) int {
		aw, closeAudit, err := operatorAuditor(cfg, stderr)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		defer closeAudit()
		reg, err := delegation.New(delegation.Options{Store: st, Notifier: buildNotifier(cfg), Auditor: aw,
			Logger: slog.New(slog.NewTextHandler(stderr, nil))})
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		return delegation.CLI(ctx, reg, rest, stdout, stderr)
	})
}
