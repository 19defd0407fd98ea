package redis_test

import (
	"flag"
	"log/slog"
	"os"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/inps/sportello/internal/store/redis"
)

// TestMain keeps go-redis' reconnection chatter (servers are stopped on purpose here) out of
// the output unless -v is given.
func TestMain(m *testing.M) {
	flag.Parse()
	if !testing.Verbose() {
		goredis.SetLogger(redis.Logger{Logger: slog.New(slog.DiscardHandler)})
	}
	os.Exit(m.Run())
}
