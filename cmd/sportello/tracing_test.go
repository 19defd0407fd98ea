package main

import (
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/inps/sportello/config"
	"github.com/inps/sportello/internal/store/redistest"
)

// collector is an OTLP/HTTP trace receiver: it decodes what the exporter posts.
type collector struct {
	mu    sync.Mutex
	spans map[string][]string // trace id -> span names
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "unexpected", http.StatusBadRequest)
		return
	}
	body, _ := io.ReadAll(r.Body)
	var req coltrace.ExportTraceServiceRequest
	if err := proto.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			for _, sp := range ss.GetSpans() {
				id := hex.EncodeToString(sp.GetTraceId())
				c.spans[id] = append(c.spans[id], sp.GetName())
			}
		}
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(nil)
}

func (c *collector) trace(id string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.spans[id]...)
}

// A request carrying a W3C traceparent continues that trace through the broker and into
// Redis: the collector receives the server span and the Redis command's span with the
// caller's trace id.
func TestTracingAcrossBrokerAndRedis(t *testing.T) {
	col := &collector{spans: map[string][]string{}}
	srv := httptest.NewServer(col)
	defer srv.Close()
	redis := redistest.StartProcess(t)
	issuer, _ := devBroker(t, "--otlp", srv.URL, "--redis", redis.URL())

	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	req, _ := http.NewRequest(http.MethodGet, issuer+"/readyz", nil)
	req.Header.Set("Traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/readyz: %d", resp.StatusCode)
	}
	var names []string
	for end := time.Now().Add(15 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if names = col.trace(traceID); len(names) >= 2 {
			break
		}
	}
	has := func(n string) bool {
		for _, x := range names {
			if x == n {
				return true
			}
		}
		return false
	}
	if !has("GET /readyz") || !has("ping") {
		t.Fatalf("spans of trace %s: %v, want the server span and the Redis ping", traceID, names)
	}
	// Login ids never name a span: paths are reduced to their route.
	for path, want := range map[string]string{"/login/abc123/pin": "/login/*", "/oauth/token": "/oauth/token", "/": "/", "/deleghe/": "/deleghe/*"} {
		if got := routeOf(path); got != want {
			t.Errorf("routeOf(%q) = %q, want %q", path, got, want)
		}
	}
}

// Without an endpoint nothing is wrapped.
func TestTracingOffWrapsNothing(t *testing.T) {
	tr, err := newTracing(t.Context(), configTracing(""))
	if err != nil || tr != nil {
		t.Fatalf("%v %v", tr, err)
	}
	h := http.NotFoundHandler()
	if got := tr.handler(h); got == nil || tr.instrumentRedis(nil) != nil {
		t.Fatal("nil tracing must pass the handler through")
	}
}

func configTracing(endpoint string) config.Tracing { return config.Tracing{OTLPEndpoint: endpoint} }
