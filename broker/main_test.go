package broker

import (
	"flag"
	"log/slog"
	"os"
	"testing"
)

// TestMain silences the default logger (zitadel's router announces every route through it)
// unless the tests run verbosely.
func TestMain(m *testing.M) {
	flag.Parse()
	if !testing.Verbose() {
		slog.SetDefault(slog.New(slog.DiscardHandler))
	}
	os.Exit(m.Run())
}
