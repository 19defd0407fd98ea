package delegation

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/inps/sportello/internal/fiscalcode"
	"github.com/inps/sportello/internal/store"
)

// TestRegistrationRules: one table row per rule of registration.
func TestRegistrationRules(t *testing.T) {
	A, B, C, D := cf(0), cf(1), cf(2), cf(3)
	tests := []struct {
		name  string
		setup func(f *fixture)
		req   Request
		want  error
	}{
		{"an online delegation is active at once", nil, online(A, B), nil},
		{"one active delegate per delegator", func(f *fixture) { f.must(t, online(A, B)) }, online(A, C), ErrLimitDelegator},
		{"the delegator limit counts office delegations too", func(f *fixture) { f.must(t, office(KindOfficeAA08, A, B)) }, office(KindOfficeAA09, A, C), ErrLimitDelegator},
		{"a revoked delegation frees the delegator", func(f *fixture) {
			d := f.must(t, online(A, B))
			if err := f.reg.Revoke(ctx, d.ID, Operator("op")); err != nil {
				t.Fatal(err)
			}
		}, online(A, C), nil},
		{"an ended delegation frees the delegator", func(f *fixture) {
			r := online(A, B)
			r.End = t0.Add(10 * day)
			f.must(t, r)
			f.clock.Advance(10 * day)
		}, online(A, C), nil},
		{"a delegation one second before its end still counts", func(f *fixture) {
			r := online(A, B)
			r.End = t0.Add(10 * day)
			f.must(t, r)
			f.clock.Advance(10*day - time.Second)
		}, online(A, C), ErrLimitDelegator},
		{"a delegate holds at most 3 delegations", func(f *fixture) {
			for i := 10; i < 13; i++ {
				f.must(t, online(cf(i), D))
			}
		}, online(A, D), ErrLimitDelegate},
		{"an expired delegation frees the delegate's slot", func(f *fixture) {
			for i := 10; i < 13; i++ {
				r := online(cf(i), D)
				if i == 10 {
					r.End = t0.Add(day)
				}
				f.must(t, r)
			}
			f.clock.Advance(day)
		}, online(A, D), nil},
		{"a legal representative is not limited as delegate", func(f *fixture) {
			for i := 10; i < 13; i++ {
				f.must(t, online(cf(i), D))
			}
		}, office(KindLegalAA10, A, D), nil},
		{"a legal representation does not take the delegate's slot", func(f *fixture) {
			for i := 10; i < 12; i++ {
				f.must(t, online(cf(i), D))
			}
			for i := 12; i < 16; i++ {
				f.must(t, office(KindLegalAA10, cf(i), D))
			}
		}, online(A, D), nil},
		{"a person under legal representation may also have a delegate", func(f *fixture) {
			f.must(t, office(KindLegalAA10, A, B))
		}, office(KindOfficeAA08, A, C), nil},
		{"several legal representatives for one person", func(f *fixture) {
			f.must(t, office(KindLegalAA10, A, B))
		}, office(KindLegalAA10, A, C), nil},
		{"the same delegate twice is a duplicate", func(f *fixture) { f.must(t, office(KindLegalAA10, A, B)) }, office(KindOfficeAA08, A, B), ErrDuplicate},
		{"no self-delegation", nil, online(A, A), ErrSelfDelegation},
		{"the delegate's fiscal code is validated", nil, online(A, "RSSMRA80A01H501X"), fiscalcode.ErrInvalid},
		{"the delegator's fiscal code is validated", nil, online("NOTACODE", B), fiscalcode.ErrInvalid},
		{"an end date in the past is refused", nil, func() Request { r := online(A, B); r.End = t0.Add(-time.Hour); return r }(), ErrInvalid},
		{"an end date more than MaxEndYears away is refused (past year 9999 it cannot be stored)", nil, func() Request { r := online(A, B); r.End = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC); return r }(), ErrInvalid},
		{"an end date now is refused", nil, func() Request { r := online(A, B); r.End = t0; return r }(), ErrInvalid},
		{"AA09 needs the doctor's certificate", nil, func() Request { r := office(KindOfficeAA09, A, B); r.Reference = ""; return r }(), ErrInvalid},
		{"AA10 needs a role", nil, func() Request { r := office(KindLegalAA10, A, B); r.Role = ""; return r }(), ErrInvalid},
		{"a role is only for AA10", nil, func() Request { r := office(KindOfficeAA08, A, B); r.Role = RoleTutore; return r }(), ErrInvalid},
		{"office kinds need an operator", nil, func() Request { r := office(KindOfficeAA08, A, B); r.Operator = ""; return r }(), ErrInvalid},
		{"an operator does not register online kinds", nil, func() Request { r := online(A, B); r.Operator = "op"; return r }(), ErrInvalid},
		{"unknown kinds are refused", nil, Request{Kind: "fax", Delegator: Person{FiscalCode: A}, Delegate: Person{FiscalCode: B}}, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			if tt.setup != nil {
				tt.setup(f)
			}
			d, err := f.reg.Register(ctx, tt.req)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if err == nil {
				if ok, err := f.reg.Active(ctx, d.ID); err != nil || !ok {
					t.Fatalf("not active at once: %v %v", ok, err)
				}
			}
		})
	}
}

// TestRevocationRules: one row per revocation right.
func TestRevocationRules(t *testing.T) {
	A, B, T := cf(0), cf(1), cf(2)
	tests := []struct {
		name  string
		setup func(f *fixture) *Delegation
		after time.Duration
		by    func(d *Delegation) Actor
		want  error
	}{
		{"an online delegation is not revocable online on day 29", func(f *fixture) *Delegation { return f.must(t, online(A, B)) },
			29 * day, delegator, ErrRevokeWindow},
		{"an online delegation is not revocable online one second before 30 days", func(f *fixture) *Delegation { return f.must(t, online(A, B)) },
			30*day - time.Second, delegator, ErrRevokeWindow},
		{"an online delegation is revocable online on day 31", func(f *fixture) *Delegation { return f.must(t, online(A, B)) },
			31 * day, delegator, nil},
		{"an online delegation is revocable at an office on day 1", func(f *fixture) *Delegation { return f.must(t, online(A, B)) },
			day, operator, nil},
		{"an office delegation is revocable online at once", func(f *fixture) *Delegation { return f.must(t, office(KindOfficeAA08, A, B)) },
			0, delegator, nil},
		{"an AA09 delegation is revocable online at once", func(f *fixture) *Delegation { return f.must(t, office(KindOfficeAA09, A, B)) },
			0, delegator, nil},
		{"only the delegator revokes online, not the delegate", func(f *fixture) *Delegation { return f.must(t, office(KindOfficeAA08, A, B)) },
			0, func(*Delegation) Actor { return Online(B) }, ErrForbidden},
		{"a stranger cannot revoke online", func(f *fixture) *Delegation { return f.must(t, office(KindOfficeAA08, A, B)) },
			0, func(*Delegation) Actor { return Online(cf(9)) }, ErrForbidden},
		{"a person under legal protection cannot revoke online", func(f *fixture) *Delegation {
			f.must(t, office(KindLegalAA10, A, T))
			return f.must(t, office(KindOfficeAA08, A, B))
		}, 0, delegator, ErrProtectedPerson},
		{"a person under legal protection cannot revoke the representation online", func(f *fixture) *Delegation {
			return f.must(t, office(KindLegalAA10, A, T))
		}, 0, delegator, ErrProtectedPerson},
		{"a legal representation is revocable at an office", func(f *fixture) *Delegation {
			return f.must(t, office(KindLegalAA10, A, T))
		}, 0, operator, nil},
		{"a person whose protection ended may revoke online", func(f *fixture) *Delegation {
			r := office(KindLegalAA10, A, T)
			r.End = t0.Add(day)
			f.must(t, r)
			return f.must(t, office(KindOfficeAA08, A, B))
		}, day, delegator, nil},
		{"a revoked delegation cannot be revoked again", func(f *fixture) *Delegation {
			d := f.must(t, office(KindOfficeAA08, A, B))
			if err := f.reg.Revoke(ctx, d.ID, Operator("op")); err != nil {
				t.Fatal(err)
			}
			return d
		}, 0, operator, ErrNotActive},
		{"an expired delegation cannot be revoked", func(f *fixture) *Delegation {
			r := office(KindOfficeAA08, A, B)
			r.End = t0.Add(day)
			return f.must(t, r)
		}, 2 * day, operator, ErrNotActive},
		{"an unknown delegation is not found", func(f *fixture) *Delegation { return &Delegation{ID: "nope"} },
			0, operator, ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			d := tt.setup(f)
			f.clock.Advance(tt.after)
			err := f.reg.Revoke(ctx, d.ID, tt.by(d))
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if tt.want == nil {
				if ok, _ := f.reg.Active(ctx, d.ID); ok {
					t.Fatal("still active after revocation")
				}
				got, _ := f.reg.Get(ctx, d.ID)
				if got.RevokedAt.IsZero() || got.RevokedBy != tt.by(d).String() {
					t.Fatalf("record: %+v", got)
				}
			}
		})
	}
}

func delegator(d *Delegation) Actor { return Online(d.Delegator.FiscalCode) }
func operator(*Delegation) Actor    { return Operator("op-milano-7") }

func TestEndDates(t *testing.T) {
	f := newFixture(t)
	r := online(cf(0), cf(1))
	r.End = t0.Add(5 * day)
	d := f.must(t, r)
	for _, c := range []struct {
		at   time.Duration
		want bool
	}{{0, true}, {5*day - time.Second, true}, {5 * day, false}, {400 * day, false}} {
		f.clock.Advance(c.at - (f.clock.Now().Sub(t0)))
		if ok, err := f.reg.Active(ctx, d.ID); err != nil || ok != c.want {
			t.Fatalf("at +%v active = %v (%v), want %v", c.at, ok, err, c.want)
		}
	}
	noEnd := f.must(t, online(cf(2), cf(1)))
	f.clock.Advance(50 * 365 * day)
	if ok, _ := f.reg.Active(ctx, noEnd.ID); !ok {
		t.Fatal("a delegation with no end date ended")
	}
}

func TestHistoryIsKeptAndActiveForListsDelegators(t *testing.T) {
	f := newFixture(t)
	D := cf(5)
	a := f.must(t, Request{Kind: KindOnline, Delegator: Person{FiscalCode: cf(0), GivenName: "Anna", FamilyName: "Neri"}, Delegate: Person{FiscalCode: D}})
	b := f.must(t, office(KindOfficeAA08, cf(1), D))
	c := f.must(t, func() Request { r := office(KindOfficeAA08, cf(2), D); r.End = t0.Add(day); return r }())
	if err := f.reg.Revoke(ctx, b.ID, Operator("op")); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(2 * day)
	recv, err := f.reg.Received(ctx, D)
	if err != nil || len(recv) != 3 {
		t.Fatalf("received: %v %v", recv, err)
	}
	var st []string
	for _, d := range recv {
		st = append(st, d.Status(f.clock.Now()))
	}
	if strings.Join(st, ",") != "active,revoked,expired" {
		t.Fatalf("statuses %v", st)
	}
	act, err := f.reg.ActiveFor(ctx, D)
	if err != nil || len(act) != 1 || act[0].ID != a.ID || act[0].Delegator.Name() != "Anna Neri" {
		t.Fatalf("active for: %+v %v", act, err)
	}
	given, _ := f.reg.Given(ctx, cf(2))
	if len(given) != 1 || given[0].ID != c.ID {
		t.Fatalf("given: %+v", given)
	}
	if _, err := f.reg.Received(ctx, "bad"); !errors.Is(err, fiscalcode.ErrInvalid) {
		t.Fatalf("bad cf: %v", err)
	}
}

func TestDelegateNotifiedByEmailWhenKnownElseByPost(t *testing.T) {
	f := newFixture(t)
	r := online(cf(0), cf(1))
	r.Delegator.GivenName, r.Delegator.FamilyName = "Giuseppe", "Verdi"
	r.Delegate.Email = "laura@example.it"
	d := f.must(t, r)
	f.must(t, office(KindOfficeAA08, cf(2), cf(3)))
	if err := f.reg.Revoke(ctx, d.ID, Operator("op-9")); err != nil {
		t.Fatal(err)
	}
	n := f.rec.notes
	if len(n) != 3 || n[0].Channel != "email" || n[0].To != "laura@example.it" || !strings.Contains(n[0].Body, "Giuseppe Verdi") ||
		n[1].Channel != "post" || n[1].To != cf(3) || !strings.Contains(n[2].Subject, "revocata") {
		t.Fatalf("notifications: %+v", n)
	}
	if got := f.rec.types(); got != "delegation.registered/"+cf(0)+" delegation.registered/op-roma-1 delegation.revoked/op-9" {
		t.Fatalf("audit: %s", got)
	}
}

func TestRefusedOnlineRevocationIsAudited(t *testing.T) {
	f := newFixture(t)
	d := f.must(t, online(cf(0), cf(1)))
	if err := f.reg.Revoke(ctx, d.ID, Online(cf(0))); !errors.Is(err, ErrRevokeWindow) {
		t.Fatal(err)
	}
	if !strings.Contains(f.rec.types(), "delegation.revoke_refused/"+cf(0)) {
		t.Fatal(f.rec.types())
	}
}

// TestStalledReservation: a registrant that reserved and stalled holds the slot until its
// deadline; then the next registration aborts it with a tombstone, and the late commit fails.
func TestStalledReservation(t *testing.T) {
	f := newFixture(t)
	A, B, C := cf(0), cf(1), cf(2)
	stalled := entry{ID: "stalled", Other: B, Kind: KindOnline, Pending: t0.Add(reservationTTL)}
	if err := f.reg.reserve(ctx, givenKey(A), stalled, MaxPerDelegator, ErrLimitDelegator); err != nil {
		t.Fatal(err)
	}
	if _, err := f.reg.Register(ctx, online(A, C)); !errors.Is(err, ErrLimitDelegator) {
		t.Fatalf("within the deadline the reservation counts: %v", err)
	}
	f.clock.Advance(reservationTTL)
	if _, err := f.reg.Register(ctx, online(A, C)); err != nil {
		t.Fatalf("after the deadline the reservation lapses: %v", err)
	}
	if ok, _ := f.st.PutIfAbsent(ctx, recordKey("stalled"), []byte(`{"id":"stalled"}`), 0); ok {
		t.Fatal("the late commit succeeded over the tombstone")
	}
	if _, err := f.reg.Get(ctx, "stalled"); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	given, _ := f.reg.Given(ctx, A)
	if len(given) != 1 || given[0].Delegate.FiscalCode != C {
		t.Fatalf("given %+v", given)
	}
}

func TestCommittedReservationPastDeadlineStillCounts(t *testing.T) {
	f := newFixture(t)
	A := cf(0)
	d := f.must(t, online(A, cf(1)))
	// Simulate a crash before the pending marks were cleared.
	if err := f.reg.change(ctx, givenKey(A), d.ID, func(e *entry) bool { e.Pending = t0.Add(time.Minute); return true }); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Hour)
	if _, err := f.reg.Register(ctx, online(A, cf(2))); !errors.Is(err, ErrLimitDelegator) {
		t.Fatalf("err = %v", err)
	}
}

func TestSeedDev(t *testing.T) {
	f := newFixture(t)
	for range 2 {
		if err := SeedDev(ctx, f.reg); err != nil {
			t.Fatal(err)
		}
	}
	act, err := f.reg.ActiveFor(ctx, DevDelegateCF)
	if err != nil || len(act) != 1 || act[0].Delegator.Name() != "Giuseppe Verdi" || act[0].Kind != KindOfficeAA08 || !act[0].End.IsZero() {
		t.Fatalf("%+v %v", act, err)
	}
	if err := f.reg.CanRevokeOnline(ctx, &act[0], DevDelegatorCF); err != nil {
		t.Fatalf("Verdi cannot revoke online: %v", err)
	}
	if _, err := f.reg.Register(ctx, online(DevDelegatorCF, cf(1))); !errors.Is(err, ErrLimitDelegator) {
		t.Fatal(err)
	}
	given, _ := f.reg.Given(ctx, DevDelegatorCF)
	if !slices.ContainsFunc(given, func(d Delegation) bool { return d.ID == DevDelegationID }) {
		t.Fatal(given)
	}
}

// TestRevocationLostBeforeTheIndexIsRepaired: a crash after the record was revoked but before
// the indexes were marked does not keep the slot taken.
func TestRevocationLostBeforeTheIndexIsRepaired(t *testing.T) {
	f := newFixture(t)
	A, D := cf(0), cf(9)
	var ids []string
	for i := 0; i < 3; i++ {
		ids = append(ids, f.must(t, online(cf(10+i), D)).ID)
	}
	d := f.must(t, office(KindOfficeAA08, A, cf(1)))
	// Revoke the records only, as a crash right after the commit point would leave them.
	for _, id := range []string{ids[0], d.ID} {
		if _, err := store.Update(ctx, f.st, recordKey(id), 0, func(old []byte) ([]byte, error) {
			var rec Delegation
			_ = json.Unmarshal(old, &rec)
			rec.RevokedAt, rec.RevokedBy = f.clock.Now(), "operator:x"
			return json.Marshal(rec)
		}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.reg.Register(ctx, online(cf(20), D)); err != nil {
		t.Fatalf("the delegate's freed slot: %v", err)
	}
	if _, err := f.reg.Register(ctx, online(A, cf(2))); err != nil {
		t.Fatalf("the delegator's freed slot: %v", err)
	}
	if _, err := f.reg.Register(ctx, online(cf(21), D)); !errors.Is(err, ErrLimitDelegate) {
		t.Fatalf("limit after repair: %v", err)
	}
}
