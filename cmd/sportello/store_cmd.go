package main

import (
	"context"
	"fmt"

	"github.com/inps/sportello/config"
	"github.com/inps/sportello/internal/store"
)

// openConfiguredStore loads the configuration at path and opens its store, for the operators'
// commands once their command line is understood; the caller closes the store.
func openConfiguredStore(ctx context.Context, path string) (*config.Config, store.Store, error) {
	cfg, err := config.Load(path, configOptions())
	if err != nil {
		return nil, nil, err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("store: %w", err)
	}
	return cfg, st, nil
}
