package pin

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/providers"
)

var ctx = context.Background()

func TestActivationWindow(t *testing.T) {
	hc := HealthCard{Number: "80380000000000000001", Expiry: "2030-12-31"}
	tests := []struct {
		name string
		days int
		want error
	}{
		{"activation on day 89 works", 89, nil},
		{"activation on day 90 works", 90, nil},
		{"activation on day 91 is refused: request a new PIN", 91, ErrActivationExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.requestPIN(t, person(cfOther))
			e.clock.Advance(time.Duration(tt.days) * 24 * time.Hour)
			err := e.svc.Activate(ctx, cfOther, hc)
			if !errors.Is(err, tt.want) && !(tt.want == nil && err == nil) {
				t.Fatalf("Activate after %d days = %v, want %v", tt.days, err, tt.want)
			}
		})
	}
	t.Run("first access on day 91 is refused", func(t *testing.T) {
		e := newEnv(t)
		pin := e.requestPIN(t, person(cfOther))
		e.clock.Advance(91 * 24 * time.Hour)
		if _, err := e.svc.Authenticate(ctx, cfOther, pin); !errors.Is(err, ErrActivationExpired) {
			t.Fatalf("got %v", err)
		}
		if v, _ := e.svc.Show(ctx, "op", cfOther); v.State != Expired {
			t.Fatalf("state %s, want expired", v.State)
		}
		// An expired PIN may be requested again.
		e.requestPIN(t, person(cfOther))
	})
	t.Run("activation needs the right health card", func(t *testing.T) {
		e := newEnv(t)
		e.requestPIN(t, person(cfOther))
		var ae *ActivationError
		if err := e.svc.Activate(ctx, cfOther, HealthCard{Number: "1", Expiry: "2030-12-31"}); !errors.As(err, &ae) {
			t.Fatalf("got %v, want an ActivationError", err)
		}
	})
}

func TestFirstAccess(t *testing.T) {
	e := newEnv(t)
	pin := e.requestPIN(t, person(cfOther))
	if len(pin) != 16 || strings.Trim(pin, "0123456789ABCDEF") != "" {
		t.Fatalf("initial PIN %q is not 16 characters over 0-9A-F", pin)
	}
	if e.out.last(t, "sms").To != "+447700900000" {
		t.Fatalf("first half not sent by SMS to the mobile")
	}
	if _, err := e.svc.Authenticate(ctx, cfOther, pin); !errors.Is(err, ErrFirstAccess) {
		t.Fatalf("16-character PIN at first access: got %v, want ErrFirstAccess", err)
	}
	id, err := e.svc.ChangePIN(ctx, cfOther, strings.ToLower(pin[:8])+" "+pin[8:], "k7m2p9q4")
	if err != nil {
		t.Fatalf("ChangePIN: %v", err)
	}
	if id.PINType != "ordinario" || id.ACR != loa.SpidL1 {
		t.Fatalf("identity %+v", id)
	}
	t.Run("the 16-character PIN stops working at once", func(t *testing.T) {
		_, err := e.svc.Authenticate(ctx, cfOther, pin)
		if !errors.Is(err, providers.ErrBadCredentials) {
			t.Fatalf("got %v", err)
		}
		e.clock.Advance(3 * time.Minute)
	})
	t.Run("the new PIN compares case-insensitively", func(t *testing.T) {
		id, err := e.svc.Authenticate(ctx, cfOther, "K7M2P9Q4")
		if err != nil {
			t.Fatal(err)
		}
		if err := id.Validate(); err != nil || id.Method != "pin" || len(id.AMR) != 1 || id.AMR[0] != "pwd" {
			t.Fatalf("identity %+v: %v", id, err)
		}
	})
}

func TestExpiry(t *testing.T) {
	tests := []struct {
		name   string
		cat    Category
		months int
	}{
		{"a citizen's PIN expires after 6 months", Citizen, 6},
		{"an intermediary's PIN expires after 3 months", Intermediary, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.holder(t, cfAnna, "K7M2P9Q4", tt.cat, Dispositivo)
			end := t0.AddDate(0, tt.months, 0)
			e.clock.Advance(end.Sub(t0) - time.Minute)
			if _, err := e.svc.Authenticate(ctx, cfAnna, "K7M2P9Q4"); err != nil {
				t.Fatalf("a minute before expiry: %v", err)
			}
			e.clock.Advance(time.Minute)
			if _, err := e.svc.Authenticate(ctx, cfAnna, "K7M2P9Q4"); !errors.Is(err, ErrExpired) {
				t.Fatalf("at expiry: got %v, want ErrExpired", err)
			}
			// Guided renewal keeps type and services.
			id, err := e.svc.ChangePIN(ctx, cfAnna, "K7M2P9Q4", "B4N8C2V6")
			if err != nil {
				t.Fatalf("renewal: %v", err)
			}
			if id.PINType != string(Dispositivo) {
				t.Fatalf("renewal lost the type: %+v", id)
			}
			if _, err := e.svc.Authenticate(ctx, cfAnna, "B4N8C2V6"); err != nil {
				t.Fatalf("after renewal: %v", err)
			}
		})
	}
}

func TestEligibility(t *testing.T) {
	abroad := person(cfOther)
	inItaly := person(cfOther)
	inItaly.ResidentAbroad = false
	withID := person(cfOther)
	withID.ItalianIDDocument = true
	tests := []struct {
		name   string
		policy string
		p      Person
		cat    Category
		want   bool
	}{
		{"in force: a resident abroad without an Italian document gets a PIN", EligibleResidentsAbroad, abroad, Citizen, true},
		{"in force: a resident in Italy gets none", EligibleResidentsAbroad, inItaly, Citizen, false},
		{"in force: a resident abroad with an Italian document gets none", EligibleResidentsAbroad, withID, Citizen, false},
		{"in force: a municipal official is exempt", EligibleResidentsAbroad, inItaly, Official, true},
		{"policy all: a resident in Italy gets a PIN", EligibleAll, inItaly, Citizen, true},
		{"policy none: nobody gets a PIN", EligibleNone, abroad, Citizen, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *Config) {
				c.Eligibility.Policy = tt.policy
				if tt.policy == EligibleNone {
					c.Eligibility.Exempt = []Category{}
				}
			})
			err := e.svc.RequestPIN(ctx, Request{Person: tt.p, Category: tt.cat})
			if got := err == nil; got != tt.want {
				t.Fatalf("RequestPIN = %v, want eligible=%v", err, tt.want)
			}
			if !tt.want && !errors.Is(err, ErrNotEligible) {
				t.Fatalf("got %v, want ErrNotEligible", err)
			}
		})
	}
	t.Run("the login switch turns a population off without a code change", func(t *testing.T) {
		off := false
		e := newEnv(t, func(c *Config) { c.Login.Intermediary = &off })
		e.holder(t, cfAnna, "K7M2P9Q4", Intermediary, Ordinario)
		if _, err := e.svc.Authenticate(ctx, cfAnna, "K7M2P9Q4"); !errors.Is(err, providers.ErrDisabled) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("require_eligible stops PINs of residents in Italy", func(t *testing.T) {
		e := newEnv(t, func(c *Config) { c.Login.RequireEligible = true })
		e.holder(t, cfAnna, "K7M2P9Q4", Citizen, Ordinario)
		rec, _ := e.svc.loadRecord(ctx, cfAnna)
		rec.ResidentAbroad = false
		e.svc.putJSON(ctx, key(cfAnna, "rec"), rec, 0)
		if _, err := e.svc.Authenticate(ctx, cfAnna, "K7M2P9Q4"); !errors.Is(err, ErrLoginDisabled) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestOfficeIssuance(t *testing.T) {
	e := newEnv(t)
	env, err := e.svc.IssueAtOffice(ctx, "op-roma-1", OfficeRequest{Person: person(cfOther), IDDocument: "passport YA1234567"})
	if err != nil {
		t.Fatal(err)
	}
	var pin string
	for _, line := range strings.Split(env.Text, "\n") {
		if strings.HasPrefix(line, "PIN: ") {
			pin = strings.ReplaceAll(strings.TrimPrefix(line, "PIN: "), " ", "")
		}
	}
	if _, err := e.svc.Authenticate(ctx, cfOther, pin); !errors.Is(err, ErrFirstAccess) {
		t.Fatalf("office PIN first access: %v", err)
	}
	id, err := e.svc.ChangePIN(ctx, cfOther, pin, "Q2W3E4R5")
	if err != nil {
		t.Fatal(err)
	}
	if id.PINType != "dispositivo" || id.ACR != loa.SpidL2 {
		t.Fatalf("an office PIN is dispositivo at once: %+v", id)
	}
	for _, ev := range e.audit.evs {
		for _, v := range ev.Fields {
			if s, ok := v.(string); ok && (strings.Contains(s, pin[:8]) || strings.Contains(s, pin[8:])) {
				t.Fatalf("audit record %s holds the PIN", ev.Type)
			}
		}
	}
}

func TestConversion(t *testing.T) {
	e := newEnv(t)
	e.holder(t, cfAnna, "K7M2P9Q4", Citizen, Ordinario)
	pdf := []byte("%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n")
	tests := []struct {
		name string
		doc  []byte
		want error
	}{
		{"a text file is refused whatever its name", []byte("hello, I am a PDF, trust me"), ErrDocument},
		{"a file over 1 MiB is refused", append([]byte("%PDF-1.4\n"), make([]byte, 1<<20)...), ErrDocument},
		{"an empty file is refused", nil, ErrDocument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := e.svc.RequestConversion(ctx, cfAnna, "K7M2P9Q4", "form.pdf", tt.doc); !errors.Is(err, tt.want) {
				t.Fatalf("got %v", err)
			}
		})
	}
	if err := e.svc.RequestConversion(ctx, cfAnna, "K7M2P9Q4", "form.pdf", pdf); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.DecideConversion(ctx, "op-1", cfAnna, true, ""); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(e.out.last(t, "email").Body, "dispositivo") {
		t.Fatal("holder not notified")
	}
	id, err := e.svc.Authenticate(ctx, cfAnna, "K7M2P9Q4")
	if err != nil || id.PINType != "dispositivo" || id.ACR != loa.SpidL2 {
		t.Fatalf("after approval: %+v %v", id, err)
	}
	if err := e.svc.DecideConversion(ctx, "op-1", cfAnna, false, "late"); !errors.Is(err, ErrBadState) {
		t.Fatalf("deciding twice: %v", err)
	}
}
