package delegation

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/internal/store/memory"
	"github.com/inps/sportello/internal/store/storetest"
	"github.com/inps/sportello/providers"
)

// A store outage is providers.ErrUnavailable to the registry's callers, the store's own
// answers are not: absent stays absent (the registry's ErrNotFound), and a refusal of the
// registry's own (a delegation no longer active) stays that refusal.
func TestTheRegistryNamesAStoreOutage(t *testing.T) {
	clock := storetest.NewClock(t0)
	cut := storetest.NewCutStore(memory.New(memory.Options{Now: clock.Now}))
	t.Cleanup(func() { cut.Close() })
	fx := newFixtureOn(t, cut, clock)
	d := fx.must(t, online(DevDelegatorCF, DevDelegateCF))
	if err := fx.reg.Revoke(ctx, d.ID, Operator("op-roma-3")); err != nil {
		t.Fatal(err)
	}
	if _, err := fx.reg.Get(ctx, "nope"); !errors.Is(err, ErrNotFound) || errors.Is(err, providers.ErrUnavailable) {
		t.Fatalf("an unknown id: %v", err)
	}
	if err := fx.reg.Revoke(ctx, d.ID, Operator("op-roma-3")); !errors.Is(err, ErrNotActive) || errors.Is(err, providers.ErrUnavailable) {
		t.Fatalf("revoked twice: %v", err)
	}
	cut.Before(func(string, string) bool { return true })
	if _, err := fx.reg.Get(ctx, d.ID); !errors.Is(err, providers.ErrUnavailable) || !errors.Is(err, storetest.ErrCut) || !store.IsOutage(err) {
		t.Fatalf("during the outage: %v", err)
	}
}

// The operators' API answers a store outage as the broker's endpoints do: 503
// temporarily_unavailable with Retry-After, the cause in the log only; never a 500
// "internal error".
func TestTheOperatorsAPIAnswersAnOutageAsTemporarilyUnavailable(t *testing.T) {
	clock := storetest.NewClock(t0)
	cut := storetest.NewCutStore(memory.New(memory.Options{Now: clock.Now}))
	t.Cleanup(func() { cut.Close() })
	fx := newWebFixtureOf(t, newFixtureOn(t, cut, clock))
	cut.Before(func(string, string) bool { return true })
	req, _ := http.NewRequest(http.MethodGet, fx.srv.URL+"/admin/delegations/show?fiscal_code="+DevDelegatorCF, nil)
	req.Header.Set("Authorization", "Bearer "+ScopeOffice)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "30" ||
		!strings.Contains(string(body), `"error":"temporarily_unavailable"`) || strings.Contains(string(body), "storetest") {
		t.Fatalf("%d, Retry-After %q: %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
}
