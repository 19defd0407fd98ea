package pin

import (
	"context"
	"fmt"
	"time"
)

// Dev fixtures: the people SeedDev creates (see testdata/pin/README.md).
const (
	DevGiovannaFerrari = "FRRGNN55T50Z600A" // resident abroad, dispositivo, active, PIN A1B2C3D4
	DevMarcoColombo    = "CLMMRC70B10G273W" // municipal official, ordinario, PIN Z9Y8X7W6, ISEE consultation
	DevLuciaEsposito   = "ESPLCU90D45Z404Y" // fresh 16-character PIN 1A2B3C4D5E6F7089 awaiting first access
	DevPaoloGreco      = "GRCPLA60M01Z112Q" // PIN E5X9P2R7 expired: guided renewal
	DevSaraBruno       = "BRNSRA75E52Z114J" // issued 16-character PIN FEDCBA9876543210 awaiting activation
	DevMarioRossi      = "RSSMRA80A01H501U" // no PIN; PIN telefonico 12345678 (3 months)
)

// SeedDev creates the dev-mode people (idempotent: existing records are overwritten).
func SeedDev(ctx context.Context, s *Service) error {
	now := s.now()
	type fixture struct {
		rec       Record
		pin       string
		initial   bool
		authority *Grant
	}
	abroad := func(cf, given, family, birth, country, postal string) Person {
		return Person{FiscalCode: cf, GivenName: given, FamilyName: family, Birthdate: birth, Country: country,
			ResidentAbroad: true, Residence: postal,
			Contacts: Contacts{Mobile: "+390000000" + cf[13:15], Email: lower(given) + "." + lower(family) + "@example.org", Postal: postal}}
	}
	giovanna := abroad(DevGiovannaFerrari, "Giovanna", "Ferrari", "1955-12-10", "AR", "Avenida de Mayo 1370, Buenos Aires, Argentina")
	giovanna.Contacts.PEC = "giovanna.ferrari@pec.example.org"
	marco := Person{FiscalCode: DevMarcoColombo, GivenName: "Marco", FamilyName: "Colombo", Birthdate: "1970-02-10",
		Country: "IT", Residence: "Piazza Pretoria 1, 90133 Palermo",
		Contacts: Contacts{Mobile: "+393330000001", Email: "marco.colombo@comune.example.it", Postal: "Piazza Pretoria 1, 90133 Palermo"}}
	lucia := abroad(DevLuciaEsposito, "Lucia", "Esposito", "1990-04-05", "US", "350 Fifth Avenue, New York, NY, USA")
	paolo := abroad(DevPaoloGreco, "Paolo", "Greco", "1960-08-01", "DE", "Unter den Linden 1, Berlin, Deutschland")
	sara := abroad(DevSaraBruno, "Sara", "Bruno", "1975-05-12", "GB", "10 Downing Street, London, UK")
	sara.HealthCard = &HealthCard{Number: "80380000000000000001", Expiry: "2030-12-31"}

	fixtures := []fixture{
		{rec: Record{Person: giovanna, Category: Citizen, Type: Dispositivo, State: Active, Channel: Office,
			IssuedAt: now, ActivatedAt: now, PINSetAt: now}, pin: "A1B2C3D4"},
		{rec: Record{Person: marco, Category: Official, Type: Ordinario, State: Active, Channel: Office,
			IssuedAt: now, ActivatedAt: now, PINSetAt: now}, pin: "Z9Y8X7W6",
			authority: &Grant{FiscalCode: DevMarcoColombo, Municipality: "Comune di Palermo", Convenzione: "CONV-PA-2011-119",
				Authorisations: []string{AuthISEEConsultation}}},
		{rec: Record{Person: lucia, Category: Citizen, Type: Ordinario, State: Issued, Channel: Online, IssuedAt: now},
			pin: "1A2B3C4D5E6F7089", initial: true},
		{rec: Record{Person: paolo, Category: Citizen, Type: Ordinario, State: Active, Channel: Online,
			IssuedAt: now.AddDate(0, -8, 0), ActivatedAt: now.AddDate(0, -8, 0), PINSetAt: now.AddDate(0, -7, 0)}, pin: "E5X9P2R7"},
		{rec: Record{Person: sara, Category: Citizen, Type: Ordinario, State: Issued, Channel: Online, IssuedAt: now},
			pin: "FEDCBA9876543210", initial: true},
	}
	for _, f := range fixtures {
		h, err := s.newHash(f.pin)
		if err != nil {
			return err
		}
		rec := f.rec
		rec.RequestedAt = rec.IssuedAt
		if f.initial {
			rec.Initial = h
		} else {
			rec.Current = h
		}
		if err := s.putJSON(ctx, key(rec.FiscalCode, "rec"), rec, 0); err != nil {
			return err
		}
		if f.authority != nil {
			if _, err := s.AddAuthorisations(ctx, "dev-seed", *f.authority); err != nil {
				return fmt.Errorf("pin: seed %s: %w", rec.FiscalCode, err)
			}
		}
	}
	h, err := s.newHash("12345678")
	if err != nil {
		return err
	}
	exp := now.AddDate(0, 3, 0)
	if err := s.putJSON(ctx, key(DevMarioRossi, "phone"), phonePIN{Hash: h, CreatedAt: now, ExpiresAt: exp}, exp.Sub(now)); err != nil {
		return err
	}
	s.log.InfoContext(ctx, "pin: dev people seeded", "count", len(fixtures)+1)
	return nil
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// View is what an operator may see of a record: everything but the hashes.
type View struct {
	Person
	Category    Category  `json:"category"`
	Type        Type      `json:"type"`
	State       State     `json:"state"`
	Channel     Channel   `json:"channel"`
	FirstAccess bool      `json:"first_access_pending"`
	IssuedAt    time.Time `json:"issued_at,omitempty"`
	ActivatedAt time.Time `json:"activated_at,omitempty"`
	ExpiresAt   time.Time `json:"expires_at,omitempty"`
	RevokedAt   time.Time `json:"revoked_at,omitempty"`
	LockedUntil time.Time `json:"locked_until,omitempty"`
	Grants      *Grants   `json:"grants,omitempty"`
	Conversion  string    `json:"conversion,omitempty"`
	Operator    string    `json:"operator,omitempty"`
}

// Show returns the operator's view of cf's PIN (never the PIN nor its hash); the look is
// audited under the operator's name.
func (s *Service) Show(ctx context.Context, operator, cf string) (*View, error) {
	cf, err := ParseFiscalCode(cf)
	if err != nil {
		return nil, err
	}
	rec, err := s.loadRecord(ctx, cf)
	if err != nil {
		return nil, err
	}
	v := &View{Person: rec.Person, Category: rec.Category, Type: rec.Type, State: rec.State, Channel: rec.Channel,
		FirstAccess: rec.Initial != nil, IssuedAt: rec.IssuedAt, ActivatedAt: rec.ActivatedAt, RevokedAt: rec.RevokedAt,
		Operator: rec.Operator}
	if rec.Current != nil {
		v.ExpiresAt = s.expiresAt(rec)
	}
	if v.LockedUntil, err = s.LockedUntil(ctx, cf); err != nil {
		return nil, err
	}
	if v.Grants, err = s.Grants(ctx, cf); err != nil {
		return nil, err
	}
	if c, err := s.ConversionRequest(ctx, cf); err == nil {
		v.Conversion = c.Status
	}
	s.audit(ctx, "pin.shown", operator, map[string]any{"fiscal_code": cf})
	return v, nil
}
