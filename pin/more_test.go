package pin

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/providers"
)

func spidIdentity(cf string) *providers.Identity {
	return &providers.Identity{FiscalNumber: cf, Method: providers.MethodSPID, ACR: loa.SpidL2, AuthTime: t0}
}

func TestPhonePIN(t *testing.T) {
	t.Run("it needs a SPID, CIE or CNS login", func(t *testing.T) {
		e := newEnv(t)
		id := spidIdentity(cfAnna)
		id.Method = providers.MethodPIN
		if _, _, err := e.svc.GeneratePhonePIN(ctx, id, OneDay); !errors.Is(err, ErrNeedsStrongLogin) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("it never works on the web login", func(t *testing.T) {
		e := newEnv(t)
		e.holder(t, cfAnna, "K7M2P9Q4", Citizen, Ordinario)
		pin, _, err := e.svc.GeneratePhonePIN(ctx, spidIdentity(cfAnna), OneWeek)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.svc.CheckPhonePIN(ctx, "cc-op", cfAnna, pin); err != nil {
			t.Fatalf("Contact Center check: %v", err)
		}
		if _, err := e.svc.Authenticate(ctx, cfAnna, pin); !errors.Is(err, providers.ErrBadCredentials) {
			t.Fatalf("web login with the PIN telefonico: %v", err)
		}
	})
	validity := []struct {
		name string
		v    PhoneValidity
		life time.Duration
	}{
		{"a 1-day PIN telefonico is refused after a day", OneDay, 24 * time.Hour},
		{"a 1-week PIN telefonico is refused after a week", OneWeek, 7 * 24 * time.Hour},
		{"a 1-month PIN telefonico is refused after a month", OneMonth, t0.AddDate(0, 1, 0).Sub(t0)},
		{"a 3-month PIN telefonico is refused after 3 months", ThreeMonths, t0.AddDate(0, 3, 0).Sub(t0)},
	}
	for _, tt := range validity {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			pin, exp, err := e.svc.GeneratePhonePIN(ctx, spidIdentity(cfAnna), tt.v)
			if err != nil || exp.Sub(t0) != tt.life {
				t.Fatalf("expiry %v, %v", exp.Sub(t0), err)
			}
			e.clock.Advance(tt.life - time.Second)
			if err := e.svc.CheckPhonePIN(ctx, "cc-op", cfAnna, pin); err != nil {
				t.Fatalf("a second before expiry: %v", err)
			}
			e.clock.Advance(time.Second)
			if err := e.svc.CheckPhonePIN(ctx, "cc-op", cfAnna, pin); !errors.Is(err, providers.ErrBadCredentials) {
				t.Fatalf("at expiry: %v", err)
			}
		})
	}
	t.Run("a second PIN telefonico cancels the first", func(t *testing.T) {
		e := newEnv(t)
		first, _, _ := e.svc.GeneratePhonePIN(ctx, spidIdentity(cfAnna), OneMonth)
		second, _, _ := e.svc.GeneratePhonePIN(ctx, spidIdentity(cfAnna), OneDay)
		if first == second {
			t.Skip("random collision")
		}
		if err := e.svc.CheckPhonePIN(ctx, "cc-op", cfAnna, first); !errors.Is(err, providers.ErrBadCredentials) {
			t.Fatalf("first after second: %v", err)
		}
		e.clock.Advance(3 * time.Minute)
		if err := e.svc.CheckPhonePIN(ctx, "cc-op", cfAnna, second); err != nil {
			t.Fatalf("second: %v", err)
		}
	})
	t.Run("an operator's checks are rate-limited", func(t *testing.T) {
		e := newEnv(t, func(c *Config) { c.PhoneChecksPerMinute = 3 })
		for i := 0; i < 3; i++ {
			e.svc.CheckPhonePIN(ctx, "cc-op", cfAnna, "bad")
		}
		if err := e.svc.CheckPhonePIN(ctx, "cc-op", cfAnna, "bad"); !errors.Is(err, ErrRateLimited) {
			t.Fatalf("4th check in a minute: %v", err)
		}
		if err := e.svc.CheckPhonePIN(ctx, "cc-other", cfAnna, "bad"); errors.Is(err, ErrRateLimited) {
			t.Fatal("the limit is per operator")
		}
		e.clock.Advance(time.Minute)
		if err := e.svc.CheckPhonePIN(ctx, "cc-op", cfAnna, "bad"); errors.Is(err, ErrRateLimited) {
			t.Fatal("the limit is per minute")
		}
	})
	t.Run("it is locked like the web PIN", func(t *testing.T) {
		e := newEnv(t)
		pin, _, _ := e.svc.GeneratePhonePIN(ctx, spidIdentity(cfAnna), OneMonth)
		e.svc.CheckPhonePIN(ctx, "cc-op", cfAnna, "00000000")
		if err := e.svc.CheckPhonePIN(ctx, "cc-op", cfAnna, pin); lockOf(t, err) != 3*time.Minute {
			t.Fatalf("got %v", err)
		}
	})
}

func TestLostPIN(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.PublicURL = "http://broker.test" })
	e.holder(t, cfAnna, "K7M2P9Q4", Citizen, Dispositivo)
	tests := []struct {
		name  string
		cf    string
		given Contacts
		sent  bool
	}{
		{"one contact proved is not enough", cfAnna, Contacts{Mobile: "+39 333 111 2222"}, false},
		{"an unknown fiscal code answers the same", cfOther, Contacts{Mobile: "+393331112222", Email: "anna@example.org"}, false},
		{"two of three contacts proved send the link", cfAnna, Contacts{Mobile: "+39 333 111 2222", PEC: "ANNA@pec.example.org"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := len(e.out.msgs)
			if err := e.svc.StartRecovery(ctx, tt.cf, tt.given); err != nil {
				t.Fatalf("the answer must not differ: %v", err)
			}
			if sent := len(e.out.msgs) > n; sent != tt.sent {
				t.Fatalf("link sent = %v, want %v", sent, tt.sent)
			}
		})
	}
	link := lastField(strings.TrimSpace(e.out.last(t, "email").Body))
	u, err := url.Parse(link)
	if err != nil || !strings.HasPrefix(link, "http://broker.test/pin/lost/complete?") {
		t.Fatalf("link %q", link)
	}
	if err := e.svc.CompleteRecovery(ctx, "WRONGCODE"); !errors.Is(err, ErrRecovery) {
		t.Fatalf("wrong code: %v", err)
	}
	e.svc.StartRecovery(ctx, cfAnna, Contacts{Mobile: "+393331112222", Email: "anna@example.org"})
	u, _ = url.Parse(lastField(strings.TrimSpace(e.out.last(t, "email").Body)))
	if err := e.svc.CompleteRecovery(ctx, u.Query().Get("code")); err != nil {
		t.Fatal(err)
	}
	pin := lastField(e.out.last(t, "sms").Body) + lastField(strings.TrimSpace(e.out.last(t, "email").Body))
	if _, err := e.svc.Authenticate(ctx, cfAnna, pin); !errors.Is(err, ErrFirstAccess) {
		t.Fatalf("new 16-character PIN: %v", err)
	}
	if _, err := e.svc.Authenticate(ctx, cfAnna, "K7M2P9Q4"); !errors.Is(err, providers.ErrBadCredentials) {
		t.Fatalf("old PIN after recovery: %v", err)
	}
	if err := e.svc.CompleteRecovery(ctx, u.Query().Get("code")); !errors.Is(err, ErrRecovery) {
		t.Fatalf("a recovery code works once: %v", err)
	}
	e.clock.Advance(3 * time.Minute)
	var re *RuleError
	if _, err := e.svc.ChangePIN(ctx, cfAnna, pin, "K7M2P9Q4"); !errors.As(err, &re) || re.Rule != RuleRecent {
		t.Fatalf("the lost PIN chosen again at first access: %v, want rule %s", err, RuleRecent)
	}
}

func TestRevokeWithHealthCard(t *testing.T) {
	e := newEnv(t)
	pin := e.requestPIN(t, person(cfOther))
	if err := e.svc.RevokeWithHealthCard(ctx, cfOther, HealthCard{Number: "1", Expiry: "2030-12-31"}); err != nil {
		t.Fatalf("a wrong card answers like a right one: %v", err)
	}
	if err := e.svc.RevokeWithHealthCard(ctx, cfAnna, HealthCard{Number: "1", Expiry: "2030-12-31"}); err != nil {
		t.Fatalf("an unknown fiscal code answers the same: %v", err)
	}
	e.clock.Advance(3 * time.Minute) // the wrong card locked the account (TestRevokeWithHealthCardCountsInTheLockout)
	if err := e.svc.RevokeWithHealthCard(ctx, cfOther, *person(cfOther).HealthCard); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Authenticate(ctx, cfOther, pin); !errors.Is(err, ErrRevoked) {
		t.Fatalf("revoked PIN: %v", err)
	}
}

func TestOfficialsAuthorisations(t *testing.T) {
	e := newEnv(t)
	e.holder(t, cfAnna, "K7M2P9Q4", Citizen, Ordinario)
	g := Grant{FiscalCode: cfAnna, Municipality: "Comune di Roma", Convenzione: "CONV-1", Authorisations: []string{AuthISEEConsultation}}
	t.Run("authorisations need the convenzione", func(t *testing.T) {
		bad := g
		bad.Convenzione = ""
		if _, err := e.svc.AddAuthorisations(ctx, "op", bad); !errors.Is(err, ErrNoConvenzione) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("adding authorisations extends the existing PIN", func(t *testing.T) {
		if _, err := e.svc.AddAuthorisations(ctx, "op", g); err != nil {
			t.Fatal(err)
		}
		id, err := e.svc.Authenticate(ctx, cfAnna, "K7M2P9Q4")
		if err != nil {
			t.Fatalf("the existing PIN must keep working: %v", err)
		}
		if !slices.Equal(id.Entitlements, []string{AuthISEEConsultation}) || id.Attributes["pin_category"] != "official" {
			t.Fatalf("identity %+v", id)
		}
	})
	t.Run("acquisition replaces consultation only", func(t *testing.T) {
		g2 := g
		g2.Authorisations = []string{AuthISEEAcquisition, AuthCasellarioPensionati}
		out, err := e.svc.AddAuthorisations(ctx, "op", g2)
		if err != nil || !slices.Equal(out.Authorisations, []string{AuthCasellarioPensionati, AuthISEEAcquisition}) {
			t.Fatalf("%+v %v", out, err)
		}
	})
	t.Run("entitlements hold for any credential", func(t *testing.T) {
		ent, err := e.svc.Entitlements(ctx, cfAnna)
		if err != nil || len(ent) != 2 {
			t.Fatalf("%v %v", ent, err)
		}
		if ent, _ := e.svc.Entitlements(ctx, cfOther); ent != nil {
			t.Fatalf("no grants: %v", ent)
		}
	})
	t.Run("removal on request", func(t *testing.T) {
		out, err := e.svc.RemoveAuthorisations(ctx, "op", cfAnna, []string{AuthCasellarioPensionati}, "prot. 123/2026")
		if err != nil || !slices.Equal(out.Authorisations, []string{AuthISEEAcquisition}) {
			t.Fatalf("%+v %v", out, err)
		}
	})
	t.Run("unknown authorisations are refused", func(t *testing.T) {
		g3 := g
		g3.Authorisations = []string{"root"}
		if _, err := e.svc.AddAuthorisations(ctx, "op", g3); !errors.Is(err, ErrInvalidInput) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestSeedDev(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Login.RequireEligible = true })
	if err := SeedDev(ctx, e.svc); err != nil {
		t.Fatal(err)
	}
	giovanna, err := e.svc.Authenticate(ctx, DevGiovannaFerrari, "A1B2C3D4")
	if err != nil || giovanna.PINType != "dispositivo" || giovanna.ACR != loa.SpidL2 {
		t.Fatalf("Giovanna Ferrari: %+v %v", giovanna, err)
	}
	marco, err := e.svc.Authenticate(ctx, DevMarcoColombo, "z9y8x7w6")
	if err != nil || marco.PINType != "ordinario" || !slices.Equal(marco.Entitlements, []string{"isee:consultazione"}) {
		t.Fatalf("Marco Colombo: %+v %v", marco, err)
	}
	if _, err := e.svc.Authenticate(ctx, DevLuciaEsposito, "1A2B3C4D5E6F7089"); !errors.Is(err, ErrFirstAccess) {
		t.Fatalf("Lucia Esposito: %v", err)
	}
	if _, err := e.svc.Authenticate(ctx, DevPaoloGreco, "E5X9P2R7"); !errors.Is(err, ErrExpired) {
		t.Fatalf("Paolo Greco: %v", err)
	}
	if err := e.svc.Activate(ctx, DevSaraBruno, HealthCard{Number: "80380000000000000001", Expiry: "2030-12-31"}); err != nil {
		t.Fatalf("Sara Bruno: %v", err)
	}
	if err := e.svc.CheckPhonePIN(ctx, "cc", DevMarioRossi, "12345678"); err != nil {
		t.Fatalf("Mario Rossi's PIN telefonico: %v", err)
	}
}

func TestDecodeConfig(t *testing.T) {
	decode := func(src string, dev bool) (*Config, []error) {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(src), &n); err != nil {
			t.Fatal(err)
		}
		return DecodeConfig(n.Content[0], dev)
	}
	t.Run("defaults follow the INPS rules", func(t *testing.T) {
		c, errs := decode("type: pin\n", false)
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		if c.ActivationDays != 90 || c.ExpiryMonths.Citizen != 6 || c.ExpiryMonths.Intermediary != 3 ||
			c.LockStep != 3*time.Minute || c.Argon2 != DefaultArgon2 || c.Eligibility.Policy != EligibleResidentsAbroad ||
			c.PINHistory != 5 || c.ChangeRetryWindow != 10*time.Minute || c.NoticeInterval != time.Hour {
			t.Fatalf("%+v", c)
		}
	})
	t.Run("unknown keys are refused with their path", func(t *testing.T) {
		_, errs := decode("type: pin\nlock_stepp: 3m\n", false)
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), "lock_stepp") {
			t.Fatalf("%v", errs)
		}
	})
	t.Run("every error is listed with its path", func(t *testing.T) {
		_, errs := decode("argon2: {memory_kib: 1024}\neligibility: {policy: some}\nacr: {ordinario: L1}\n", false)
		var paths []string
		for _, err := range errs {
			var fe *FieldError
			if errors.As(err, &fe) {
				paths = append(paths, fe.Path)
			}
		}
		slices.Sort(paths)
		if !slices.Equal(paths, []string{"acr.ordinario", "argon2.memory_kib", "eligibility.policy"}) {
			t.Fatalf("%v", errs)
		}
	})
	t.Run("the PIN history, retry window and notice interval are bounded", func(t *testing.T) {
		_, errs := decode("pin_history: 13\nchange_retry_window: 2h\nnotice_interval: 10s\n", false)
		var paths []string
		for _, err := range errs {
			var fe *FieldError
			if errors.As(err, &fe) {
				paths = append(paths, fe.Path)
			}
		}
		slices.Sort(paths)
		if !slices.Equal(paths, []string{"change_retry_window", "notice_interval", "pin_history"}) {
			t.Fatalf("%v", errs)
		}
	})
	t.Run("paths start at the section", func(t *testing.T) {
		var n yaml.Node
		yaml.Unmarshal([]byte("type: pin\nlock_step: soon\nactivation_days: -1\n"), &n)
		_, errs := DecodeConfigAt(n.Content[0], "providers.pin", false)
		var paths []string
		for _, err := range errs {
			var fe *FieldError
			if errors.As(err, &fe) {
				paths = append(paths, fe.Path)
			}
		}
		if !slices.Contains(paths, "providers.pin.lock_step") {
			t.Fatalf("%v", errs)
		}
	})
	t.Run("weak Argon2 parameters only in dev mode", func(t *testing.T) {
		if _, errs := decode("argon2: {memory_kib: 1024}\n", true); len(errs) > 0 {
			t.Fatal(errs)
		}
	})
	t.Run("the pepper is read from its file", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "pepper")
		os.WriteFile(p, []byte("0123456789abcdef0123\n"), 0o600)
		c, errs := decode("pepper_file: "+p+"\n", false)
		if len(errs) > 0 || string(c.Pepper) != "0123456789abcdef0123" {
			t.Fatalf("%v %q", errs, c.Pepper)
		}
	})
}

func TestPepperChangesTheHash(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Pepper = []byte("server-side-secret-0123") })
	e.holder(t, cfAnna, "K7M2P9Q4", Citizen, Ordinario)
	if _, err := e.svc.Authenticate(ctx, cfAnna, "K7M2P9Q4"); err != nil {
		t.Fatal(err)
	}
	other := newEnvOn(t, e.store, e.clock) // same store, no pepper
	if _, err := other.svc.Authenticate(ctx, cfAnna, "K7M2P9Q4"); errors.Is(err, nil) {
		t.Fatal("a peppered hash verified without the pepper")
	}
}

// Revoking with health-card data is guarded like a PIN: a wrong card counts in the person's
// lockout (whether or not the fiscal code has a PIN), and a locked account is refused before
// any comparison, even with the right card.
func TestRevokeWithHealthCardCountsInTheLockout(t *testing.T) {
	e := newEnv(t)
	pin := e.requestPIN(t, person(cfOther))
	right, wrong := *person(cfOther).HealthCard, HealthCard{Number: "1", Expiry: "2030-12-31"}
	for _, cf := range []string{cfOther, cfAnna} {
		if err := e.svc.RevokeWithHealthCard(ctx, cf, wrong); err != nil {
			t.Fatalf("%s: a wrong card answers like a right one: %v", cf, err)
		}
		var locked *providers.LockedError
		if err := e.svc.RevokeWithHealthCard(ctx, cf, right); !errors.As(err, &locked) || !locked.Until.Equal(t0.Add(3*time.Minute)) {
			t.Fatalf("%s: the attempt after a wrong card: %v, want locked until %s", cf, err, t0.Add(3*time.Minute))
		}
	}
	if _, err := e.svc.Authenticate(ctx, cfOther, pin); errors.Is(err, ErrRevoked) {
		t.Fatal("revoked while locked")
	}
	e.clock.Advance(3 * time.Minute)
	if err := e.svc.RevokeWithHealthCard(ctx, cfOther, right); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Authenticate(ctx, cfOther, pin); !errors.Is(err, ErrRevoked) {
		t.Fatalf("the right card after the lock: %v, want revoked", err)
	}
}
