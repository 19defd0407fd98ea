package main

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/go-logr/logr"
	goredis "github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel"
)

// installLibraryLoggers routes the libraries that keep a logger of their own — go-redis
// (connection pool and Sentinel messages) and OpenTelemetry (exporter and SDK errors), both
// plain text on standard error by default — through slog's default logger, which serve sets
// to its JSON handler and dev mode to its text one. Both loggers are process globals, so
// main installs them once; they look slog.Default up on every call, so each command's
// logger (and each in-process test's) is the one used.
func installLibraryLoggers() {
	goredis.SetLogger(redisLogger{handler: func() slog.Handler { return slog.Default().Handler() }})
	otel.SetLogger(logr.FromSlogHandler(defaultHandler{}))
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		slog.Default().Error("opentelemetry", "component", "otel", "error", err)
	}))
}

// redisLogger implements go-redis' logging interface (Printf) over a slog handler. go-redis
// logs what goes wrong underneath a command (a dial that failed, a Sentinel that did not
// answer), never a command's arguments, so nothing secret passes here.
type redisLogger struct {
	handler func() slog.Handler
}

// Printf logs one go-redis message as a warning of component go-redis.
func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	msg := strings.TrimSpace(fmt.Sprintf(format, v...))
	msg = strings.TrimPrefix(msg, "redis: ")
	slog.New(l.handler()).WarnContext(ctx, "redis: "+msg, "component", "go-redis")
}

// defaultHandler hands every record to slog.Default's handler of the moment, with the
// attributes it was given (groups are flattened: OpenTelemetry's logr calls use none).
type defaultHandler struct {
	attrs []slog.Attr
}

func (h defaultHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return slog.Default().Handler().Enabled(ctx, l)
}

func (h defaultHandler) Handle(ctx context.Context, r slog.Record) error {
	if len(h.attrs) > 0 {
		r = r.Clone()
		r.AddAttrs(h.attrs...)
	}
	return slog.Default().Handler().Handle(ctx, r)
}

func (h defaultHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return defaultHandler{attrs: append(slices.Clip(h.attrs), attrs...)}
}

func (h defaultHandler) WithGroup(string) slog.Handler { return h }
