package delegation

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inps/sportello/internal/audit"
	"github.com/inps/sportello/internal/fiscalcode"
	"github.com/inps/sportello/internal/notify"
	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/internal/store/memory"
	"github.com/inps/sportello/internal/store/storetest"
)

var (
	ctx = context.Background()
	t0  = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	day = 24 * time.Hour
)

// cf returns the i-th valid test fiscal code (distinct for i < 26*26*31).
func cf(i int) string {
	s := fmt.Sprintf("%c%cSMRA80A%02dH501", 'A'+byte(i/26%26), 'A'+byte(i%26), 1+i/676%31)
	c, err := fiscalcode.CheckLetter(s)
	if err != nil {
		panic(err)
	}
	return s + string(c)
}

// recorder is an Auditor and a Notifier keeping what they got.
type recorder struct {
	mu     sync.Mutex
	events []audit.Event
	notes  []notify.Notification
}

func (r *recorder) Audit(_ context.Context, ev audit.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
	return nil
}

func (r *recorder) Notify(_ context.Context, n notify.Notification) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notes = append(r.notes, n)
	return nil
}

func (r *recorder) types() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		out = append(out, e.Type+"/"+e.Actor)
	}
	return strings.Join(out, " ")
}

type fixture struct {
	reg   *Registry
	clock *storetest.Clock
	rec   *recorder
	st    store.Store
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	clock := storetest.NewClock(t0)
	st := memory.New(memory.Options{Now: clock.Now})
	t.Cleanup(func() { st.Close() })
	return newFixtureOn(t, st, clock)
}

func newFixtureOn(t testing.TB, st store.Store, clock *storetest.Clock) *fixture {
	t.Helper()
	rec := &recorder{}
	reg, err := New(Options{Store: st, Now: clock.Now, Notifier: rec, Auditor: rec})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{reg: reg, clock: clock, rec: rec, st: st}
}

func online(from, to string) Request {
	return Request{Kind: KindOnline, Delegator: Person{FiscalCode: from}, Delegate: Person{FiscalCode: to}}
}

func office(kind Kind, from, to string) Request {
	r := Request{Kind: kind, Delegator: Person{FiscalCode: from}, Delegate: Person{FiscalCode: to}, Operator: "op-roma-1", Reference: "prot-1"}
	if kind == KindLegalAA10 {
		r.Role = RoleTutore
	}
	return r
}

func (f *fixture) must(t testing.TB, req Request) *Delegation {
	t.Helper()
	d, err := f.reg.Register(ctx, req)
	if err != nil {
		t.Fatalf("register %s→%s: %v", req.Delegator.FiscalCode, req.Delegate.FiscalCode, err)
	}
	return d
}
