package broker

import (
	"context"
	"encoding/json"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/inps/sportello/providers"
)

// readyProvider is the test provider with a readiness of its own (as SPID reports its IdPs).
type readyProvider struct {
	testProvider
	status atomic.Value // string
}

func (p *readyProvider) Readiness(context.Context) providers.Readiness {
	return providers.Readiness{Status: p.status.Load().(string), Detail: "2 identity providers loaded"}
}

func readyz(t *testing.T, url string) (int, readyReport) {
	t.Helper()
	resp, err := http.Get(url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rep readyReport
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, rep
}

// /readyz names every check with its status: a failing check (a provider's, or one the
// process added, such as the store's persistence) makes it 503 and says which; a warning
// keeps it 200 and shows it.
func TestReadyzReportsEveryCheck(t *testing.T) {
	prov := &readyProvider{}
	prov.status.Store(providers.ReadyOK)
	var persistence atomic.Value
	persistence.Store(providers.Readiness{Status: providers.ReadyOK, Detail: "AOF on"})
	tb := newTestBrokerWith(t, memStore(t), func(o *Options) {
		o.Providers = []providers.Provider{prov}
		o.ReadyChecks = []ReadyCheck{{Name: "store_persistence", Check: func(context.Context) providers.Readiness {
			return persistence.Load().(providers.Readiness)
		}}}
	})

	code, rep := readyz(t, tb.URL)
	if code != 200 || rep.Status != "ready" || rep.Checks["store"].Status != "ok" ||
		rep.Checks["provider:test"].Detail != "2 identity providers loaded" || rep.Checks["store_persistence"].Detail != "AOF on" {
		t.Fatalf("all passing: %d %+v", code, rep)
	}

	persistence.Store(providers.Readiness{Status: providers.ReadyWarn, Detail: "AOF off"})
	if code, rep = readyz(t, tb.URL); code != 200 || rep.Status != "ready" || rep.Checks["store_persistence"].Status != "warn" {
		t.Fatalf("a warning: %d %+v, want 200 showing the warning", code, rep)
	}

	prov.status.Store(providers.ReadyFail)
	persistence.Store(providers.Readiness{Status: providers.ReadyFail, Detail: "AOF off"})
	if code, rep = readyz(t, tb.URL); code != 503 || rep.Status != "unavailable" || rep.Reason != "not ready: provider:test, store_persistence" {
		t.Fatalf("failing checks: %d %+v, want 503 naming both", code, rep)
	}

	prov.status.Store(providers.ReadyOK)
	persistence.Store(providers.Readiness{Status: providers.ReadyOK})
	if code, _ = readyz(t, tb.URL); code != 200 {
		t.Fatalf("the checks pass again: %d", code)
	}

	// The store unreachable: nothing else is asked, the reason stays what it was.
	_ = tb.store.Close()
	if code, rep = readyz(t, tb.URL); code != 503 || rep.Reason != "store unreachable" || len(rep.Checks) != 1 {
		t.Fatalf("store closed: %d %+v", code, rep)
	}
}
