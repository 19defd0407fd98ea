package main

import (
	"context"
	"fmt"
	"io"

	"github.com/inps/sportello/broker/store"
	"github.com/inps/sportello/config"
)

// withConfiguredStore runs an operators' command on the store of a configuration: args are
// "--config FILE <command...>"; run gets the configuration, the open store and the rest.
func withConfiguredStore(ctx context.Context, name string, args []string, stderr io.Writer,
	run func(cfg *config.Config, st store.Store, rest []string) int) int {
	if len(args) < 3 || args[0] != "--config" {
		fmt.Fprintf(stderr, "usage: sportello %s --config FILE <command> ...\n", name)
		return 2
	}
	cfg, err := config.Load(args[1], configOptions())
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "store:", err)
		return 1
	}
	defer st.Close()
	return run(cfg, st, args[2:])
}
