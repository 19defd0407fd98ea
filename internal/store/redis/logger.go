package redis

import (
	"context"
	"fmt"
	"log/slog"
)

// Logger adapts a slog.Logger to go-redis' internal logger (reconnections, Sentinel
// switches, pool dial failures), which otherwise prints to stderr. go-redis has one logger
// per process, so installing it is the caller's choice, once, in main:
//
//	goredis.SetLogger(redis.Logger{Logger: logger.With("component", "redis")})
type Logger struct {
	*slog.Logger
}

// Printf logs one go-redis message at Warn level.
func (l Logger) Printf(ctx context.Context, format string, v ...any) {
	l.Logger.WarnContext(ctx, fmt.Sprintf(format, v...))
}
