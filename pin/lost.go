package pin

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/providers"
)

// recovery is the pending lost-PIN recovery under "pin:{CF}:recovery".
type recovery struct {
	CodeHash  []byte    `json:"code_hash"`
	CreatedAt time.Time `json:"created_at"`
}

// StartRecovery begins the lost-PIN procedure: when at least 2 of the 3 contacts given match
// the registered ones (mobile, e-mail, PEC), a link with a recovery code goes to the e-mail
// (or PEC). The answer is the same whether or not the fiscal code has a PIN and whether or not
// the contacts matched: only malformed input is reported.
func (s *Service) StartRecovery(ctx context.Context, cf string, given Contacts) error {
	cf, err := ParseFiscalCode(cf)
	if err != nil {
		return err
	}
	rec, err := s.loadRecord(ctx, cf)
	if errors.Is(err, ErrNoPIN) {
		s.audit(ctx, "pin.recovery_refused", cf, map[string]any{"reason": "no_pin"})
		return nil
	}
	if err != nil {
		return err
	}
	if rec.State == Revoked || rec.State == Requested || provedContacts(rec.Contacts, given) < 2 {
		s.audit(ctx, "pin.recovery_refused", cf, map[string]any{"reason": "contacts"})
		return nil
	}
	raw := make([]byte, 20)
	if _, err := io.ReadFull(s.rand, raw); err != nil {
		return fmt.Errorf("pin: random: %w", err)
	}
	code := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw)
	sum := sha256.Sum256([]byte(code))
	// The link carries the code only (a fiscal code in it would sit in mail archives, browser
	// histories and proxy logs): the holder is found by the code's hash. A new recovery replaces
	// the holder's record, so an older link stops working.
	if err := s.putJSON(ctx, key(cf, "recovery"), recovery{CodeHash: sum[:], CreatedAt: s.now()}, s.cfg.RecoveryTTL); err != nil {
		return err
	}
	if err := s.putJSON(ctx, recoveryKey(sum[:]), recoveryLookup{FiscalCode: cf}, s.cfg.RecoveryTTL); err != nil {
		return err
	}
	link := strings.TrimRight(s.cfg.PublicURL, "/") + "/pin/lost/complete?" + url.Values{"code": {code}}.Encode()
	body := "INPS: per ripristinare il PIN apri questo collegamento / to restore your PIN open this link:\n" + link + "\n"
	ch, to := "email", rec.Contacts.Email
	if to == "" {
		ch, to = "pec", rec.Contacts.PEC
	}
	if err := s.notify(ctx, ch, to, "INPS - PIN smarrito / lost PIN", body); err != nil {
		return fmt.Errorf("pin: send recovery link: %w", err)
	}
	s.audit(ctx, "pin.recovery_started", cf, map[string]any{"channel": ch})
	return nil
}

// provedContacts counts the registered contacts matched by the given ones.
func provedContacts(reg, given Contacts) int {
	n := 0
	if reg.Mobile != "" && normalizePhone(given.Mobile) == reg.Mobile {
		n++
	}
	if reg.Email != "" && strings.EqualFold(strings.TrimSpace(given.Email), reg.Email) {
		n++
	}
	if reg.PEC != "" && strings.EqualFold(strings.TrimSpace(given.PEC), reg.PEC) {
		n++
	}
	return n
}

// recoveryLookup finds the holder of a recovery code (key "pin:recovery:<hash of the code>").
type recoveryLookup struct {
	FiscalCode string `json:"fiscal_code"`
}

// recoveryKey is the lookup key of a recovery code's hash.
func recoveryKey(sum []byte) string { return "pin:recovery:" + hex.EncodeToString(sum) }

// maxRecoveryCode bounds what is even hashed (the codes have 32 characters).
const maxRecoveryCode = 64

// recoveryHolder returns the fiscal code whose pending recovery the code opens: the lookup
// by the code's hash (taken at once when take: two clicks cannot both pass), then the
// holder's own record, which must still name this code (a later recovery replaced it
// otherwise), deleted when take.
func (s *Service) recoveryHolder(ctx context.Context, code string, take bool) (string, error) {
	code = strings.TrimSpace(code)
	if code == "" || len(code) > maxRecoveryCode {
		return "", ErrRecovery
	}
	sum := sha256.Sum256([]byte(code))
	get := s.store.Get
	if take {
		get = s.store.Take
	}
	b, err := get(ctx, recoveryKey(sum[:]))
	if errors.Is(err, store.ErrNotFound) {
		return "", ErrRecovery
	}
	if err != nil {
		return "", storeFailed("recovery", err)
	}
	var l recoveryLookup
	if err := jsonUnmarshal(b, &l); err != nil {
		return "", err
	}
	b, err = s.store.Get(ctx, key(l.FiscalCode, "recovery"))
	if errors.Is(err, store.ErrNotFound) {
		return "", ErrRecovery
	}
	if err != nil {
		return "", storeFailed("recovery", err)
	}
	var r recovery
	if err := jsonUnmarshal(b, &r); err != nil {
		return "", err
	}
	if subtle.ConstantTimeCompare(sum[:], r.CodeHash) != 1 {
		return "", ErrRecovery // a later recovery replaced this one: its link stays valid
	}
	if take {
		if err := s.store.Delete(ctx, key(l.FiscalCode, "recovery")); err != nil {
			return "", storeFailed("recovery", err)
		}
	}
	return l.FiscalCode, nil
}

// RecoveryPending reports whether code still opens a recovery (the link's page offers the
// confirmation only then); it consumes nothing.
func (s *Service) RecoveryPending(ctx context.Context, code string) (bool, error) {
	_, err := s.recoveryHolder(ctx, code, false)
	if errors.Is(err, ErrRecovery) {
		return false, nil
	}
	return err == nil, err
}

// CompleteRecovery takes the recovery code (once) and issues a new 16-character PIN: the first
// 8 by SMS, the second 8 by e-mail. The holder then sets their own PIN at first access; type,
// category and authorisations are kept.
func (s *Service) CompleteRecovery(ctx context.Context, code string) error {
	cf, err := s.recoveryHolder(ctx, code, true)
	if err != nil {
		return err
	}
	pin, err := generateInitial(s.rand)
	if err != nil {
		return err
	}
	h, err := s.newHash(pin)
	if err != nil {
		return err
	}
	rec, err := s.updateRecord(ctx, cf, func(r *Record) (*Record, error) {
		if r == nil || r.State == Revoked || r.State == Requested {
			return nil, ErrRecovery
		}
		now := s.now()
		if r.Current != nil {
			// The lost PIN stays among the recent ones the next PIN may not repeat.
			r.Previous = remember(r.Current, r.Previous, s.cfg.PINHistory-1)
		}
		r.Initial, r.Current, r.State = h, nil, Active
		r.IssuedAt, r.PINSetAt = now, now
		if r.ActivatedAt.IsZero() {
			r.ActivatedAt = now
		}
		return r, nil
	})
	if err != nil {
		return err
	}
	if err := s.notify(ctx, "sms", rec.Contacts.Mobile, "", "INPS: prima parte del nuovo PIN / first half of your new PIN: "+pin[:8]); err != nil {
		return fmt.Errorf("pin: send first half: %w", err)
	}
	second := "INPS: seconda parte del nuovo PIN / second half of your new PIN: " + pin[8:] + "\n"
	to, ch := rec.Contacts.Email, "email"
	if to == "" {
		to, ch = rec.Contacts.PEC, "pec"
	}
	if err := s.notify(ctx, ch, to, "INPS - nuovo PIN / new PIN", second); err != nil {
		return fmt.Errorf("pin: send second half: %w", err)
	}
	s.audit(ctx, "pin.recovered", cf, nil)
	return nil
}

// RevokeWithHealthCard lets a holder without their contacts revoke the PIN with the
// health-card data. Like recovery, the answer never says whether a PIN exists.
func (s *Service) RevokeWithHealthCard(ctx context.Context, cf string, hc HealthCard) error {
	cf, err := ParseFiscalCode(cf)
	if err != nil {
		return err
	}
	// Health-card data are guessable at speed: each wrong attempt counts in the person's
	// lockout like a wrong PIN, and a locked account is refused before any comparison. The
	// answer to a wrong card stays the one to a right card (nil), whoever the fiscal code is.
	err = s.attempt(ctx, cf, realmWeb, keepOnSuccess, func() (bool, error) {
		r, err := s.loadRecord(ctx, cf)
		if err != nil && !errors.Is(err, ErrNoPIN) {
			return false, fmt.Errorf("%w: %w", providers.ErrUnavailable, err)
		}
		return matchesHealthCard(r, hc), nil
	})
	if wrong := (*WrongPINError)(nil); errors.As(err, &wrong) {
		s.audit(ctx, "pin.revocation_refused", cf, map[string]any{"failures": wrong.Failures})
		return nil
	}
	if err != nil {
		return err
	}
	_, err = s.updateRecord(ctx, cf, func(r *Record) (*Record, error) {
		if r == nil || r.State == Revoked || !matchesHealthCard(r, hc) {
			return nil, errNoChange
		}
		r.State, r.RevokedAt = Revoked, s.now()
		return r, nil
	})
	if errors.Is(err, errNoChange) {
		s.audit(ctx, "pin.revocation_refused", cf, nil)
		return nil
	}
	if err != nil {
		return err
	}
	s.audit(ctx, "pin.revoked", cf, map[string]any{"by": "holder"})
	return nil
}

// errNoChange aborts an update without writing.
var errNoChange = errors.New("pin: no change")

// Revoke is an operator's revocation.
func (s *Service) Revoke(ctx context.Context, operator, cf, reason string) error {
	cf, err := ParseFiscalCode(cf)
	if err != nil {
		return err
	}
	_, err = s.updateRecord(ctx, cf, func(r *Record) (*Record, error) {
		if r == nil {
			return nil, ErrNoPIN
		}
		r.State, r.RevokedAt, r.Operator = Revoked, s.now(), operator
		return r, nil
	})
	if err != nil {
		return err
	}
	s.audit(ctx, "pin.revoked", operator, map[string]any{"fiscal_code": cf, "by": "operator", "reason": reason})
	return nil
}
