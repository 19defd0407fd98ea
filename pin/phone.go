package pin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/providers"
)

// PhoneValidity is how long a PIN telefonico lasts.
type PhoneValidity string

// Validities offered.
const (
	OneDay      PhoneValidity = "1d"
	OneWeek     PhoneValidity = "1w"
	OneMonth    PhoneValidity = "1m"
	ThreeMonths PhoneValidity = "3m"
)

// PhonePINLen is the length of a PIN telefonico (digits, easy to say on the phone).
const PhonePINLen = 8

// expiry returns when a PIN telefonico created at t expires.
func (v PhoneValidity) expiry(t time.Time) (time.Time, bool) {
	switch v {
	case OneDay:
		return t.AddDate(0, 0, 1), true
	case OneWeek:
		return t.AddDate(0, 0, 7), true
	case OneMonth:
		return t.AddDate(0, 1, 0), true
	case ThreeMonths:
		return t.AddDate(0, 3, 0), true
	}
	return time.Time{}, false
}

// phonePIN is stored under "pin:{CF}:phone", apart from the web PIN record: the web login
// never reads it.
type phonePIN struct {
	Hash      *Hash     `json:"hash"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// GeneratePhonePIN creates a PIN telefonico for a person logged in with SPID, CIE or CNS,
// replacing any previous one. The PIN is returned once, to be shown to its holder.
func (s *Service) GeneratePhonePIN(ctx context.Context, id *providers.Identity, v PhoneValidity) (string, time.Time, error) {
	if id == nil || (id.Method != providers.MethodSPID && id.Method != providers.MethodCIE && id.Method != providers.MethodCNS) {
		return "", time.Time{}, ErrNeedsStrongLogin
	}
	cf, err := ParseFiscalCode(id.FiscalNumber)
	if err != nil {
		return "", time.Time{}, err
	}
	now := s.now()
	exp, ok := v.expiry(now)
	if !ok {
		return "", time.Time{}, fmt.Errorf("%w: unknown validity %q", ErrInvalidInput, v)
	}
	pin, err := generateDigits(s.rand, PhonePINLen)
	if err != nil {
		return "", time.Time{}, err
	}
	h, err := s.newHash(pin)
	if err != nil {
		return "", time.Time{}, err
	}
	if err := s.putJSON(ctx, key(cf, "phone"), phonePIN{Hash: h, CreatedAt: now, ExpiresAt: exp}, exp.Sub(now)); err != nil {
		return "", time.Time{}, err
	}
	s.audit(ctx, "pin.phone_generated", cf, map[string]any{"validity": v, "expires_at": exp, "via": id.Method})
	return pin, exp, nil
}

// CheckPhonePIN is the Contact-Center check of a caller's PIN telefonico: nil when valid. It is
// locked like the web PIN (its own counter), and refuses an expired or replaced PIN as wrong.
func (s *Service) CheckPhonePIN(ctx context.Context, operator, cf, pin string) error {
	minute := s.now().Unix() / 60
	n, err := s.store.Incr(ctx, fmt.Sprintf("pin:rate:phone:%s:%d", operator, minute), 1, 2*time.Minute)
	if err != nil {
		return fmt.Errorf("pin: rate limit: %w: %w", providers.ErrUnavailable, err)
	}
	if n > int64(s.cfg.PhoneChecksPerMinute) {
		return ErrRateLimited
	}
	code, p, err := ParseCredentials(cf, pin)
	if err != nil || len(p) != PhonePINLen {
		return fmt.Errorf("%w: %w", providers.ErrBadCredentials, ErrInvalidInput)
	}
	err = s.attempt(ctx, code, realmPhone, clearOnSuccess, func() (bool, error) {
		var rec phonePIN
		err := s.getJSON(ctx, key(code, "phone"), &rec)
		if errors.Is(err, store.ErrNotFound) {
			return false, s.dummyVerify(ctx, p)
		}
		if err != nil {
			return false, fmt.Errorf("%w: %w", providers.ErrUnavailable, err)
		}
		good, err := s.verify(ctx, rec.Hash, p)
		return good && s.now().Before(rec.ExpiresAt), err
	})
	s.audit(ctx, "pin.phone_checked", operator, map[string]any{"fiscal_code": code, "valid": err == nil})
	return err
}

// RevokePhonePIN deletes the person's PIN telefonico.
func (s *Service) RevokePhonePIN(ctx context.Context, cf string) error {
	if err := s.store.Delete(ctx, key(cf, "phone")); err != nil {
		return fmt.Errorf("pin: revoke phone PIN: %w", err)
	}
	s.audit(ctx, "pin.phone_revoked", cf, nil)
	return nil
}
