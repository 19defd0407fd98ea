package pin

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/providers"
)

// Lockout realms: the web PIN and the PIN telefonico are locked separately, by the same rule.
const (
	realmWeb   = "web"
	realmPhone = "phone"
)

// failureMemory bounds how long a failure counter is kept after its first error.
const failureMemory = 90 * 24 * time.Hour

// WrongPINError is a wrong PIN: a bad credential that also set a lock until Until.
// errors.Is(err, providers.ErrBadCredentials) and errors.As(err, **providers.LockedError)
// both hold.
type WrongPINError struct {
	// Failures counts the consecutive wrong PINs so far.
	Failures int64
	Until    time.Time
}

// Error says how many errors and until when; never the PIN.
func (e *WrongPINError) Error() string {
	return fmt.Sprintf("pin: wrong PIN (%d consecutive), locked until %s", e.Failures, e.Until.UTC().Format(time.RFC3339))
}

// Unwrap exposes both the bad-credentials sentinel and the lock.
func (e *WrongPINError) Unwrap() []error {
	return []error{providers.ErrBadCredentials, &providers.LockedError{Until: e.Until}}
}

// LockedUntil returns when the lock on cf's PIN ends (zero when not locked). It never hashes.
func (s *Service) LockedUntil(ctx context.Context, cf string) (time.Time, error) {
	return s.lockedUntil(ctx, cf, realmWeb)
}

func (s *Service) lockedUntil(ctx context.Context, cf, realm string) (time.Time, error) {
	b, err := s.store.Get(ctx, key(cf, realm+":lock"))
	if errors.Is(err, store.ErrNotFound) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("pin: lock: %w: %w", providers.ErrUnavailable, err)
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("pin: lock record: %w", err)
	}
	until := time.Unix(0, n)
	if !s.now().Before(until) {
		return time.Time{}, nil
	}
	return until, nil
}

// Whether a successful attempt clears the failure counter: the right PIN does; the right
// health-card data do not, or knowing them would reset the count of wrong PINs.
const (
	clearOnSuccess = true
	keepOnSuccess  = false
)

// attempt runs one guarded verification: the lock is checked before check runs (check is where
// Argon2id happens), a store lease lets only one attempt per account verify at a time across
// every broker instance, and a failed check adds one error to the shared counter and extends
// the lock to now + errors × LockStep. A successful check clears counter and lock when clear
// is set.
func (s *Service) attempt(ctx context.Context, cf, realm string, clear bool, check func() (bool, error)) error {
	if until, err := s.lockedUntil(ctx, cf, realm); err != nil {
		return err
	} else if !until.IsZero() {
		return &providers.LockedError{Until: until}
	}
	release, err := s.acquireLease(ctx, key(cf, realm+":lease"))
	if err != nil {
		return err
	}
	defer release()
	// Checked again under the lease: an attempt that passed the first check while another
	// was failing must not verify once that one has set the lock.
	if until, err := s.lockedUntil(ctx, cf, realm); err != nil {
		return err
	} else if !until.IsZero() {
		return &providers.LockedError{Until: until}
	}
	good, err := check()
	if err != nil {
		return err
	}
	if good && !clear {
		return nil
	}
	if good {
		for _, k := range []string{key(cf, realm+":fails"), key(cf, realm+":lock")} {
			if err := s.store.Delete(ctx, k); err != nil {
				return fmt.Errorf("pin: clear lock: %w: %w", providers.ErrUnavailable, err)
			}
		}
		return nil
	}
	return s.fail(ctx, cf, realm)
}

// acquireLease takes the per-account verification lease under a token of this attempt, so
// that only this attempt releases it. A write whose answer was lost may have taken the lease
// all the same (a cut connection the client retried, a durable write the replicas did not
// acknowledge in time): the token recognises it, and an attempt that fails releases what it
// may hold, so the account is not left busy for the lease's lifetime once Redis answers
// again. A lease nobody could release still ends with its ttl (AttemptLease).
func (s *Service) acquireLease(ctx context.Context, leaseKey string) (release func(), err error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		return nil, fmt.Errorf("pin: lease: %w", err)
	}
	token := []byte(hex.EncodeToString(b))
	release = func() {
		// A fresh context: the lease must go even when the request was cancelled.
		if _, err := s.store.CompareAndSwap(context.WithoutCancel(ctx), leaseKey, token, nil, 0); err != nil {
			s.log.WarnContext(ctx, "pin: lease not released", "err", err)
		}
	}
	ok, err := s.store.PutIfAbsent(ctx, leaseKey, token, s.cfg.AttemptLease)
	if err != nil {
		release()
		return nil, fmt.Errorf("pin: lease: %w: %w", providers.ErrUnavailable, err)
	}
	if !ok {
		held, err := s.store.Get(ctx, leaseKey)
		if store.IsOutage(err) {
			return nil, fmt.Errorf("pin: lease: %w: %w", providers.ErrUnavailable, err)
		}
		if err != nil || !bytes.Equal(held, token) {
			return nil, ErrBusy
		}
		// Ours: a retried write whose first try had taken it.
	}
	return release, nil
}

// fail records one wrong PIN and sets the lock.
func (s *Service) fail(ctx context.Context, cf, realm string) error {
	n, err := s.store.Incr(ctx, key(cf, realm+":fails"), 1, failureMemory)
	if err != nil {
		return fmt.Errorf("pin: count failure: %w: %w", providers.ErrUnavailable, err)
	}
	now := s.now()
	until := now.Add(time.Duration(n) * s.cfg.LockStep)
	ttl := until.Sub(now) + time.Minute
	// Keep the later of the stored lock and ours.
	_, err = store.Update(ctx, s.store, key(cf, realm+":lock"), ttl, func(old []byte) ([]byte, error) {
		if old != nil {
			if prev, perr := strconv.ParseInt(string(old), 10, 64); perr == nil && prev >= until.UnixNano() {
				return old, nil
			}
		}
		return []byte(strconv.FormatInt(until.UnixNano(), 10)), nil
	})
	if err != nil {
		return fmt.Errorf("pin: set lock: %w: %w", providers.ErrUnavailable, err)
	}
	s.audit(ctx, "pin.locked", cf, map[string]any{"realm": realm, "failures": n, "until": until})
	return &WrongPINError{Failures: n, Until: until}
}

// Unlock clears the lock and the failure counter of cf's web PIN and PIN telefonico.
func (s *Service) Unlock(ctx context.Context, operator, cf string) error {
	cf, err := ParseFiscalCode(cf)
	if err != nil {
		return err
	}
	for _, realm := range []string{realmWeb, realmPhone} {
		for _, k := range []string{key(cf, realm+":fails"), key(cf, realm+":lock")} {
			if err := s.store.Delete(ctx, k); err != nil {
				return fmt.Errorf("pin: unlock: %w", err)
			}
		}
	}
	s.audit(ctx, "pin.unlocked", operator, map[string]any{"fiscal_code": cf})
	return nil
}
