package memory_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/internal/store/memory"
	"github.com/inps/sportello/internal/store/storetest"
)

// The instrumented store keeps the whole contract of the store it wraps.
func TestInstrumentedConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		c := storetest.NewClock(epoch)
		s := memory.New(memory.Options{Now: c.Now})
		in, err := store.Instrument(s, prometheus.NewRegistry())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = in.Close() })
		return storetest.ClockedStore{Store: in, Clock: c}
	})
}

// failing is a store whose Get fails as an unreachable Redis would.
type failing struct{ store.Store }

var errDown = errors.New("dial tcp: connection refused")

func (failing) Get(context.Context, string) ([]byte, error) { return nil, errDown }

func TestInstrumentedStoreCountsOperationsAndFailures(t *testing.T) {
	reg := prometheus.NewRegistry()
	base := memory.New(memory.Options{})
	defer base.Close()
	in, err := store.Instrument(failing{base}, reg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	_ = in.Put(ctx, "k", []byte("v"), time.Minute)
	if _, err := in.Take(ctx, "absent"); !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	if ok, err := in.PutIfAbsent(ctx, "k", []byte("w"), 0); ok || err != nil {
		t.Fatal(ok, err)
	}
	if _, err := in.Get(ctx, "k"); !errors.Is(err, errDown) {
		t.Fatalf("the wrapped error must come through unchanged: %v", err)
	}
	want := `
# HELP sportello_store_errors_total Failed shared-state store operations (unreachable, timeout, not durable), by operation.
# TYPE sportello_store_errors_total counter
sportello_store_errors_total{op="compare_and_swap"} 0
sportello_store_errors_total{op="delete"} 0
sportello_store_errors_total{op="get"} 1
sportello_store_errors_total{op="incr"} 0
sportello_store_errors_total{op="ping"} 0
sportello_store_errors_total{op="put"} 0
sportello_store_errors_total{op="put_if_absent"} 0
sportello_store_errors_total{op="take"} 0
sportello_store_errors_total{op="throttle"} 0
sportello_store_errors_total{op="ttl"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "sportello_store_errors_total"); err != nil {
		t.Fatal(err)
	}
	for op, n := range map[string]int{"put": 1, "take": 1, "put_if_absent": 1, "get": 1, "delete": 0} {
		if got := histogramCount(t, reg, op); got != n {
			t.Errorf("%s observed %d times, want %d", op, got, n)
		}
	}
	// A second registration of the same metrics is refused, not silently shared.
	if _, err := store.Instrument(base, reg); err == nil {
		t.Fatal("registering the store metrics twice on one registry must fail")
	}
}

func histogramCount(t *testing.T, reg *prometheus.Registry, op string) int {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "sportello_store_operation_duration_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "op" && l.GetValue() == op {
					return int(m.GetHistogram().GetSampleCount())
				}
			}
		}
	}
	return 0
}

// Wrap counts a second view of the store (the Redis store without WAIT) in the same metrics.
func TestInstrumentedWrapSharesTheMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	a, b := memory.New(memory.Options{}), memory.New(memory.Options{})
	defer a.Close()
	defer b.Close()
	in, err := store.Instrument(a, reg)
	if err != nil {
		t.Fatal(err)
	}
	view := in.Wrap(failing{b})
	_ = in.Put(t.Context(), "k", []byte("v"), 0)
	_ = view.Put(t.Context(), "k", []byte("v"), 0)
	if _, err := view.Get(t.Context(), "k"); !errors.Is(err, errDown) {
		t.Fatalf("the view does not wrap its own store: %v", err)
	}
	if got := histogramCount(t, reg, "put"); got != 2 {
		t.Errorf("put observed %d times, want 2 (one per view)", got)
	}
	if got := histogramCount(t, reg, "get"); got != 1 {
		t.Errorf("get observed %d times, want 1", got)
	}
}
