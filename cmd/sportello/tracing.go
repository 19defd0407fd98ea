package main

import (
	"context"
	"fmt"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/redis/go-redis/extra/redisotel/v9"
	goredis "github.com/redis/go-redis/v9"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"

	"github.com/inps/sportello/config"
)

// tracing is the process's OpenTelemetry set-up; nil when tracing.otlp_endpoint is empty, and
// then nothing is wrapped (no cost per request).
type tracing struct {
	tp *sdktrace.TracerProvider
}

func newTracing(ctx context.Context, cfg config.Tracing) (*tracing, error) {
	if cfg.OTLPEndpoint == "" {
		return nil, nil
	}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(strings.TrimSuffix(cfg.OTLPEndpoint, "/")+"/v1/traces"))
	if err != nil {
		return nil, fmt.Errorf("tracing.otlp_endpoint: %w", err)
	}
	res := resource.NewSchemaless(semconv.ServiceName(cfg.ServiceName), semconv.ServiceVersion(buildVersion()))
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(time.Second)),
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(cfg.Ratio()))),
	)
	return &tracing{tp: tp}, nil
}

// handler wraps h with a server span per request, named by route (never by raw path, which
// carries login ids), continuing a W3C traceparent.
func (t *tracing) handler(h http.Handler) http.Handler {
	if t == nil {
		return h
	}
	return otelhttp.NewHandler(h, "sportello",
		otelhttp.WithTracerProvider(t.tp),
		otelhttp.WithPropagators(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method + " " + routeOf(r.URL.Path) }))
}

// instrumentRedis adds a span per Redis command (and pipeline) to a Redis store's client.
func (t *tracing) instrumentRedis(st any) error {
	if t == nil {
		return nil
	}
	c, ok := st.(interface {
		Client() goredis.UniversalClient
	})
	if !ok {
		return nil // the memory store: nothing crosses a network
	}
	return redisotel.InstrumentTracing(c.Client(), redisotel.WithTracerProvider(t.tp), redisotel.WithDBStatement(false))
}

// shutdown flushes the spans still buffered.
func (t *tracing) shutdown(ctx context.Context) {
	if t != nil {
		_ = t.tp.Shutdown(ctx)
	}
}

// fixedRoutes are paths that are routes themselves; any other path is named by its first
// segment, so span names stay few whatever the requests.
var fixedRoutes = map[string]bool{"/authorize": true, "/oauth/token": true, "/oauth/par": true, "/oauth/introspect": true, "/oauth/revoke": true,
	"/userinfo": true, "/end_session": true, "/jwks": true, "/.well-known/openid-configuration": true, "/.well-known/oauth-authorization-server": true, "/healthz": true,
	"/readyz": true, "/metrics": true, "/logged-out": true, "/login/done": true, "/login/act": true}

func routeOf(path string) string {
	if fixedRoutes[path] {
		return path
	}
	seg, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	if seg == "" {
		return "/"
	}
	if len(seg) > 32 {
		seg = seg[:32]
	}
	return "/" + seg + "/*"
}

// buildVersion is the module version the binary was built from ("(devel)" from a checkout).
func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		return bi.Main.Version
	}
	return "unknown"
}
