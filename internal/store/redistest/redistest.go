package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Environment variables read by this package.
const (
	// EnvURL names an existing Redis to use instead of starting one.
	EnvURL = "SPORTELLO_TEST_REDIS_URL"
	// EnvRequire set to 1 turns a missing redis-server into a failure instead of a skip.
	EnvRequire = "SPORTELLO_REQUIRE_REDIS"
	// InstallHint is the command that installs redis-server on the project's images.
	InstallHint = "apt-get install -y redis-server"
)

// Server is a Redis a test may use: its URL and a key prefix no other test uses.
type Server struct {
	URL    string
	Prefix string
}

// Start returns a Redis for t: the one named by SPORTELLO_TEST_REDIS_URL (whose keys under
// Prefix are deleted when t ends), or a fresh redis-server stopped when t ends.
func Start(t testing.TB) Server {
	t.Helper()
	prefix := UniquePrefix()
	if url := os.Getenv(EnvURL); url != "" {
		t.Cleanup(func() { deletePrefix(url, prefix) })
		return Server{URL: url, Prefix: prefix}
	}
	p := StartProcess(t)
	return Server{URL: p.URL(), Prefix: prefix}
}

// UniquePrefix returns a fresh key prefix such as "test:9f86d081884c7d65:"; it holds no glob
// or hash-tag characters.
func UniquePrefix() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "test:" + hex.EncodeToString(b) + ":"
}

// binary finds redis-server, or ends the test: a skip with the install command on a developer
// machine, a failure in CI or when SPORTELLO_REQUIRE_REDIS=1.
func binary(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err == nil {
		return path
	}
	msg := "redis-server not found on PATH; install it with `" + InstallHint + "` or set " + EnvURL
	if os.Getenv(EnvRequire) == "1" || os.Getenv("CI") == "true" {
		t.Fatal(msg + " (Redis tests are required here: CI=true or " + EnvRequire + "=1)")
	}
	t.Skip(msg)
	return ""
}

// deletePrefix removes the keys a test left on a shared server, best effort.
func deletePrefix(url, prefix string) {
	opts, err := goredis.ParseURL(url)
	if err != nil {
		return
	}
	c := goredis.NewClient(opts)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var batch []string
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 500 {
			c.Unlink(ctx, batch...)
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		c.Unlink(ctx, batch...)
	}
}
