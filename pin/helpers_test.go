package pin

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inps/sportello/internal/audit"
	"github.com/inps/sportello/internal/notify"
	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/internal/store/memory"
	"github.com/inps/sportello/internal/store/storetest"
)

// testArgon2 keeps tests fast; the benchmark uses the production parameters.
var testArgon2 = Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1, KeyLen: 32}

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// outbox records notifications (SMS and post are outside the machine).
type outbox struct {
	mu   sync.Mutex
	msgs []notify.Notification
}

func (o *outbox) Notify(_ context.Context, n notify.Notification) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.msgs = append(o.msgs, n)
	return nil
}

// last returns the last message on channel.
func (o *outbox) last(t *testing.T, channel string) notify.Notification {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	for i := len(o.msgs) - 1; i >= 0; i-- {
		if o.msgs[i].Channel == channel {
			return o.msgs[i]
		}
	}
	t.Fatalf("no %s message in %+v", channel, o.msgs)
	return notify.Notification{}
}

// auditLog records audit events.
type auditLog struct {
	mu  sync.Mutex
	evs []audit.Event
}

func (a *auditLog) Audit(_ context.Context, ev audit.Event) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.evs = append(a.evs, ev)
	return nil
}

type env struct {
	svc   *Service
	clock *storetest.Clock
	store store.Store
	out   *outbox
	audit *auditLog
}

func newEnv(t testing.TB, mutate ...func(*Config)) *env {
	t.Helper()
	clock := storetest.NewClock(t0)
	st := memory.New(memory.Options{Now: clock.Now})
	t.Cleanup(func() { st.Close() })
	return newEnvOn(t, st, clock, mutate...)
}

func newEnvOn(t testing.TB, st store.Store, clock *storetest.Clock, mutate ...func(*Config)) *env {
	t.Helper()
	cfg := Config{Argon2: testArgon2}
	for _, m := range mutate {
		m(&cfg)
	}
	e := &env{clock: clock, store: st, out: &outbox{}, audit: &auditLog{}}
	svc, err := New(Options{Store: st, Config: cfg, Now: clock.Now, Notifier: e.out, Auditor: e.audit})
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	return e
}

// holder writes an active record with an 8-character PIN set at t0.
func (e *env) holder(t testing.TB, cf, pin string, cat Category, typ Type) {
	t.Helper()
	h, err := e.svc.newHash(pin)
	if err != nil {
		t.Fatal(err)
	}
	rec := Record{Person: Person{FiscalCode: cf, GivenName: "Anna", FamilyName: "Neri", ResidentAbroad: true,
		Contacts: Contacts{Mobile: "+393331112222", Email: "anna@example.org", PEC: "anna@pec.example.org", Postal: "Via Roma 1"}},
		Category: cat, Type: typ, State: Active, Current: h, IssuedAt: e.clock.Now(), ActivatedAt: e.clock.Now(), PINSetAt: e.clock.Now()}
	if err := e.svc.putJSON(context.Background(), key(cf, "rec"), rec, 0); err != nil {
		t.Fatal(err)
	}
}

// requestPIN runs an online request and returns the 16-character PIN read from the two
// messages that deliver it.
func (e *env) requestPIN(t *testing.T, p Person) string {
	t.Helper()
	if err := e.svc.RequestPIN(context.Background(), Request{Person: p}); err != nil {
		t.Fatalf("RequestPIN: %v", err)
	}
	first := e.out.last(t, "sms").Body
	second := e.out.last(t, "post").Body
	return lastField(first) + secondHalf(second)
}

func lastField(s string) string {
	f := strings.Fields(s)
	return f[len(f)-1]
}

func secondHalf(body string) string {
	for _, line := range strings.Split(body, "\n") {
		if strings.Contains(line, "Second half") {
			return lastField(line)
		}
	}
	return ""
}

const (
	cfAnna  = "RSSMRA80A01H501U"
	cfOther = "BRNSRA75E52Z114J"
)

func person(cf string) Person {
	return Person{FiscalCode: cf, GivenName: "Sara", FamilyName: "Bruno", ResidentAbroad: true, Country: "GB",
		Contacts:   Contacts{Mobile: "+44 7700 900000", Email: "sara@example.org", PEC: "sara@pec.example.org", Postal: "10 Downing St, London"},
		HealthCard: &HealthCard{Number: "80380000000000000001", Expiry: "2030-12-31"}}
}
