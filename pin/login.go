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
// Every error is a *providers.AttemptError with method pin, for the record of the failed login:
// after the right PIN (a state or a population that forbids the login, a first access, an
// expired PIN) it names the holder and the level their PIN reaches; before, nobody.
func (s *Service) Authenticate(ctx context.Context, cf, pin string) (*providers.Identity, error) {
	rec, err := s.verifyPIN(ctx, cf, pin)
	if err != nil {
		return nil, providers.Attempt(providers.MethodPIN, err)
	}
	// From here the PIN was right: a refusal names the holder and the level reached.
	verified := func(err error) error {
		return &providers.AttemptError{Method: providers.MethodPIN, ACR: s.acrOf(rec), FiscalNumber: rec.FiscalCode, Err: err}
	}
	if err := s.usable(ctx, rec); err != nil {
		return nil, verified(err)
	}
	if rec.Initial != nil {
		s.audit(ctx, "pin.first_access_required", rec.FiscalCode, nil)
		return nil, verified(ErrFirstAccess)
	}
	if !s.now().Before(s.expiresAt(rec)) {
		s.audit(ctx, "pin.expired", rec.FiscalCode, map[string]any{"expired_at": s.expiresAt(rec)})
		return nil, verified(ErrExpired)
	}
	id, err := s.identity(ctx, rec)
	if err != nil {
		return nil, verified(err)
	}
	s.audit(ctx, "pin.login", rec.FiscalCode, map[string]any{"pin_type": rec.Type, "acr": id.ACR})
	return id, nil
}

// verifyPIN parses the input and runs the guarded verification against the hash the PIN's
// length selects (16 characters: the initial PIN; 8: the holder's own). It returns the record
// when the PIN is right, whatever its state.
func (s *Service) verifyPIN(ctx context.Context, cf, pin string) (*Record, error) {
	rec, _, err := s.verifyPINOr(ctx, cf, pin, nil)
	return rec, err
}

// verifyPINOr is verifyPIN with a second chance: when the PIN does not match the record, rescue
// (if set) may still accept the attempt, under the same lease and before any failure is
// counted. It returns the record, and the hash the PIN matched (nil when rescue accepted).
func (s *Service) verifyPINOr(ctx context.Context, cf, pin string, rescue func(r *Record, p string) (bool, error)) (*Record, *Hash, error) {
	code, p, err := ParseCredentials(cf, pin)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", providers.ErrBadCredentials, err)
	}
	var rec *Record
	var matched *Hash
	err = s.attempt(ctx, code, realmWeb, clearOnSuccess, func() (bool, error) {
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
		var ok bool
		if h == nil {
			err = s.dummyVerify(ctx, p)
		} else {
			ok, err = s.verify(ctx, h, p)
		}
		if err != nil {
			return false, err
		}
		if ok {
			rec, matched = r, h
			return true, nil
		}
		if rescue == nil {
			return false, nil
		}
		if ok, err := rescue(r, p); err != nil || !ok {
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
		return nil, nil, err
	}
	return rec, matched, nil
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

// identity builds the verified identity of a PIN login.
func (s *Service) identity(ctx context.Context, rec *Record) (*providers.Identity, error) {
	ent, err := s.Entitlements(ctx, rec.FiscalCode)
	if err != nil {
		return nil, err
	}
	return &providers.Identity{
		FiscalNumber: rec.FiscalCode,
		GivenName:    rec.GivenName,
		FamilyName:   rec.FamilyName,
		Birthdate:    rec.Birthdate,
		Email:        rec.Contacts.Email,
		PhoneNumber:  rec.Contacts.Mobile,
		Method:       providers.MethodPIN,
		ACR:          s.acrOf(rec),
		AMR:          []string{"pwd"},
		AuthTime:     s.now(),
		PINType:      string(rec.Type),
		Entitlements: ent,
		Attributes:   map[string]string{"pin_category": string(rec.Category)},
	}, nil
}

// acrOf is the level a login with rec's PIN reaches (its type's, as configured).
func (s *Service) acrOf(rec *Record) string {
	if rec.Type == Dispositivo {
		return s.cfg.ACR.Dispositivo
	}
	return s.cfg.ACR.Ordinario
}
