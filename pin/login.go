package pin

import (
	"context"
	"errors"
	"fmt"

	"github.com/inps/sportello/providers"
)

// Authenticate checks a fiscal code and PIN typed into the login form and returns the verified
// identity. The lock is checked before any hashing. Errors: a *WrongPINError (wrong PIN, which
// also locks), a *providers.LockedError, ErrFirstAccess (right 16-character PIN: choose your
// own with ChangePIN), ErrExpired (right PIN, expired: renew with ChangePIN),
// ErrActivationExpired, ErrRevoked, ErrLoginDisabled, ErrBusy; all wrap providers sentinels.
// An unknown fiscal code behaves exactly like a wrong PIN. The PIN telefonico never works here.
func (s *Service) Authenticate(ctx context.Context, cf, pin string) (*providers.Identity, error) {
	rec, err := s.verifyPIN(ctx, cf, pin)
	if err != nil {
		return nil, err
	}
	if err := s.usable(ctx, rec); err != nil {
		return nil, err
	}
	if rec.Initial != nil {
		s.audit(ctx, "pin.first_access_required", rec.FiscalCode, nil)
		return nil, ErrFirstAccess
	}
	if !s.now().Before(s.expiresAt(rec)) {
		s.audit(ctx, "pin.expired", rec.FiscalCode, map[string]any{"expired_at": s.expiresAt(rec)})
		return nil, ErrExpired
	}
	id, err := s.identity(ctx, rec)
	if err != nil {
		return nil, err
	}
	s.audit(ctx, "pin.login", rec.FiscalCode, map[string]any{"pin_type": rec.Type, "acr": id.ACR})
	return id, nil
}

// verifyPIN parses the input and runs the guarded verification against the hash the PIN's
// length selects (16 characters: the initial PIN; 8: the holder's own). It returns the record
// when the PIN is right, whatever its state.
func (s *Service) verifyPIN(ctx context.Context, cf, pin string) (*Record, error) {
	code, p, err := ParseCredentials(cf, pin)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", providers.ErrBadCredentials, err)
	}
	var rec *Record
	err = s.attempt(ctx, code, realmWeb, func() (bool, error) {
		r, err := s.loadRecord(ctx, code)
		if errors.Is(err, ErrNoPIN) {
			return false, s.dummyVerify(ctx, p)
		}
		if err != nil {
			return false, fmt.Errorf("%w: %w", providers.ErrUnavailable, err)
		}
		h := r.Current
		if len(p) == InitialLen {
			h = r.Initial
		}
		if h == nil {
			return false, s.dummyVerify(ctx, p)
		}
		if ok, err := s.verify(ctx, h, p); err != nil || !ok {
			return false, err
		}
		rec = r
		return true, nil
	})
	if err != nil {
		var wrong *WrongPINError
		if errors.As(err, &wrong) {
			s.audit(ctx, "pin.login_failed", code, map[string]any{"failures": wrong.Failures})
		}
		return nil, err
	}
	return rec, nil
}

// usable refuses records whose state or population forbids a login; it runs only after the
// right PIN, so it reveals nothing to someone guessing.
func (s *Service) usable(ctx context.Context, rec *Record) error {
	switch rec.State {
	case Revoked:
		return ErrRevoked
	case Expired:
		return ErrActivationExpired
	case Requested:
		return ErrNotActive
	case Issued:
		if s.now().After(s.activationDeadline(rec)) {
			if err := s.expireUnactivated(ctx, rec.FiscalCode); err != nil {
				return err
			}
			return ErrActivationExpired
		}
	}
	if !s.cfg.Login.enabled(rec.Category) || (s.cfg.Login.RequireEligible && !s.eligible(rec.Person, rec.Category)) {
		return ErrLoginDisabled
	}
	return nil
}

// expireUnactivated moves an issued PIN past its activation window to Expired.
func (s *Service) expireUnactivated(ctx context.Context, cf string) error {
	_, err := s.updateRecord(ctx, cf, func(r *Record) (*Record, error) {
		if r == nil || r.State != Issued {
			return r, nil
		}
		r.State = Expired
		return r, nil
	})
	if err != nil {
		return fmt.Errorf("pin: expire: %w", err)
	}
	s.audit(ctx, "pin.activation_expired", cf, nil)
	return nil
}

// ChangePIN sets the holder's own 8-character PIN, proving the current one: the first access
// with the 16-character PIN (which stops working at once), the guided renewal of an expired
// PIN (same type, category and authorisations), or a voluntary change. It returns the identity,
// so the login in progress can finish.
func (s *Service) ChangePIN(ctx context.Context, cf, current, next string) (*providers.Identity, error) {
	np, err := NormalizePIN(next)
	if err != nil {
		return nil, &RuleError{Rule: RuleLength}
	}
	if err := CheckNewPIN(np, "", "", ""); err != nil {
		return nil, err
	}
	rec, err := s.verifyPIN(ctx, cf, current)
	if err != nil {
		return nil, err
	}
	if err := s.usable(ctx, rec); err != nil {
		return nil, err
	}
	if err := CheckNewPIN(np, rec.FiscalCode, rec.GivenName, rec.FamilyName); err != nil {
		return nil, err
	}
	if cur, _ := NormalizePIN(current); cur == np {
		return nil, &RuleError{Rule: RuleSame}
	}
	h, err := s.newHash(np)
	if err != nil {
		return nil, err
	}
	first := rec.Initial != nil
	rec, err = s.updateRecord(ctx, rec.FiscalCode, func(r *Record) (*Record, error) {
		if r == nil || (r.State != Active && r.State != Issued) {
			return nil, ErrBadState
		}
		now := s.now()
		r.Initial, r.Current = nil, h
		r.State = Active
		if r.ActivatedAt.IsZero() {
			r.ActivatedAt = now
		}
		r.PINSetAt = now
		return r, nil
	})
	if err != nil {
		return nil, err
	}
	ev := "pin.changed"
	if first {
		ev = "pin.first_access"
	}
	s.audit(ctx, ev, rec.FiscalCode, nil)
	return s.identity(ctx, rec)
}

// identity builds the verified identity of a PIN login.
func (s *Service) identity(ctx context.Context, rec *Record) (*providers.Identity, error) {
	ent, err := s.Entitlements(ctx, rec.FiscalCode)
	if err != nil {
		return nil, err
	}
	acr := s.cfg.ACR.Ordinario
	if rec.Type == Dispositivo {
		acr = s.cfg.ACR.Dispositivo
	}
	return &providers.Identity{
		FiscalNumber: rec.FiscalCode,
		GivenName:    rec.GivenName,
		FamilyName:   rec.FamilyName,
		Birthdate:    rec.Birthdate,
		Email:        rec.Contacts.Email,
		PhoneNumber:  rec.Contacts.Mobile,
		Method:       providers.MethodPIN,
		ACR:          acr,
		AMR:          []string{"pwd"},
		AuthTime:     s.now(),
		PINType:      string(rec.Type),
		Entitlements: ent,
		Attributes:   map[string]string{"pin_category": string(rec.Category)},
	}, nil
}
