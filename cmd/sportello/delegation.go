package main

import (
	"context"
	"io"
	"log/slog"

	"github.com/inps/sportello/internal/delegation"
)

// cmdDelegation runs "sportello delegation --config FILE register|revoke|show ...": office
// operations on the delegation registry of the configured store, opened only once the
// command line is understood.
func cmdDelegation(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return delegation.CLI(ctx, args, stdout, stderr, func(path string) (*delegation.Registry, func(), error) {
		cfg, st, err := openConfiguredStore(ctx, path)
		if err != nil {
			return nil, nil, err
		}
		aw, closeAudit, err := operatorAuditor(cfg, stderr)
		if err != nil {
			_ = st.Close()
			return nil, nil, err
		}
		reg, err := delegation.New(delegation.Options{Store: st, Notifier: buildNotifier(cfg), Auditor: aw,
			Logger: slog.New(slog.NewTextHandler(stderr, nil))})
		if err != nil {
			closeAudit()
			_ = st.Close()
			return nil, nil, err
		}
		return reg, func() { closeAudit(); _ = st.Close() }, nil
	})
}
