package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/go-logr/logr"
)

// The libraries' own loggers write records of the process's slog handler: a go-redis message
// is one JSON line (a warning of component go-redis), and OpenTelemetry's logr calls reach
// whatever handler is slog's default at the time, with their key-value pairs.
func TestLibraryLoggersWriteThroughSlog(t *testing.T) {
	var buf bytes.Buffer
	h := slog.NewJSONHandler(&buf, nil)
	redisLogger{handler: func() slog.Handler { return h }}.Printf(context.Background(),
		"redis: connection pool: failed to dial after %d attempts: %v\n", 5, errors.New("connection refused"))
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil || strings.Count(buf.String(), "\n") != 1 {
		t.Fatalf("go-redis message: %q is not one JSON line (%v)", buf.String(), err)
	}
	if rec["level"] != "WARN" || rec["component"] != "go-redis" || rec["msg"] != "redis: connection pool: failed to dial after 5 attempts: connection refused" {
		t.Fatalf("go-redis record %v", rec)
	}

	prev := slog.Default()
	defer slog.SetDefault(prev)
	l := logr.FromSlogHandler(defaultHandler{}).WithValues("exporter", "otlp")
	for _, out := range []*bytes.Buffer{{}, {}} { // the default of the moment, each time
		slog.SetDefault(slog.New(slog.NewJSONHandler(out, nil)))
		l.Error(errors.New("export failed"), "otel")
		if err := json.Unmarshal(out.Bytes(), &rec); err != nil || rec["exporter"] != "otlp" || rec["err"] != "export failed" || rec["level"] != "ERROR" {
			t.Fatalf("otel record %q (%v)", out.String(), err)
		}
	}
}
