package pin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/providers"
)

// ChangeRequest is one submission of the form that sets the holder's own PIN.
type ChangeRequest struct {
	FiscalCode string
	// Current is the PIN in use: the 16-character one at first access, the holder's own
	// otherwise.
	Current string
	// Next is the new 8-character PIN.
	Next string
	// Browser names the browser that sent the form (for the web pages, the broker's
	// per-browser form token); empty when there is none. It lets Change recognise the retry
	// of a change that committed.
	Browser string
}

// ChangePIN is Change for a caller without a browser (no retry is recognised).
func (s *Service) ChangePIN(ctx context.Context, cf, current, next string) (*providers.Identity, error) {
	return s.Change(ctx, ChangeRequest{FiscalCode: cf, Current: current, Next: next})
}

// Change sets the holder's own 8-character PIN, proving the current one: the first access
// with the 16-character PIN (which stops working at once), the guided renewal of an expired
// PIN (same type, category and authorisations), or a voluntary change. It returns the
// identity, so the login in progress can finish. The new PIN must follow CheckNewPIN's rules
// and repeat none of the holder's last Config.PINHistory PINs; a *RuleError names the rule
// broken.
//
// A change whose store write committed but whose answer was lost (a cut connection, a
// failover) leaves the person on an error page with a form they will send again, holding the
// old PIN, which no longer works. So, before writing, Change remembers for
// Config.ChangeRetryWindow, under the browser, the hash the change replaces and the one it
// sets. When the same browser sends the same form again (the old PIN matches the replaced
// hash, the new one the hash in force) the answer is the success it was, and no wrong PIN is
// counted. Another browser, another form or a later retry is a wrong PIN as ever.
func (s *Service) Change(ctx context.Context, req ChangeRequest) (*providers.Identity, error) {
	np, err := NormalizePIN(req.Next)
	if err != nil {
		return nil, &RuleError{Rule: RuleLength}
	}
	if err := CheckNewPIN(np, Person{}); err != nil {
		return nil, err
	}
	var retried bool
	rec, matched, err := s.verifyPINOr(ctx, req.FiscalCode, req.Current, func(r *Record, cur string) (bool, error) {
		ok, err := s.committedRetry(ctx, r, req.Browser, cur, np)
		retried = ok
		return ok, err
	})
	if err != nil {
		return nil, err
	}
	if err := s.usable(ctx, rec); err != nil {
		return nil, err
	}
	if retried {
		s.audit(ctx, "pin.change_retried", rec.FiscalCode, nil)
		return s.identity(ctx, rec)
	}
	if err := CheckNewPIN(np, rec.Person); err != nil {
		return nil, err
	}
	if cur, _ := NormalizePIN(req.Current); cur == np {
		return nil, &RuleError{Rule: RuleSame}
	}
	if err := s.checkHistory(ctx, rec, np); err != nil {
		return nil, err
	}
	h, err := s.newHash(np)
	if err != nil {
		return nil, err
	}
	if err := s.rememberChange(ctx, rec.FiscalCode, req.Browser, matched, h); err != nil {
		return nil, err
	}
	first := rec.Initial != nil
	rec, err = s.updateRecord(ctx, rec.FiscalCode, func(r *Record) (*Record, error) {
		if r == nil || (r.State != Active && r.State != Issued) {
			return nil, ErrBadState
		}
		// The PIN proved must still be in force: a concurrent change went first.
		if !sameHash(r.Initial, matched) && !sameHash(r.Current, matched) {
			return nil, ErrBadState
		}
		now := s.now()
		if r.Current != nil {
			r.Previous = remember(r.Current, r.Previous, s.cfg.PINHistory-1)
		}
		r.Initial, r.Current = nil, h
		r.State = Active
		if r.ActivatedAt.IsZero() {
			r.ActivatedAt = now
		}
		r.PINSetAt = now
		return r, nil
	})
	if errors.Is(err, ErrBadState) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("pin: save the new PIN: %w: %w", providers.ErrUnavailable, err)
	}
	ev := "pin.changed"
	if first {
		ev = "pin.first_access"
	}
	s.audit(ctx, ev, rec.FiscalCode, nil)
	return s.identity(ctx, rec)
}

// checkHistory refuses a new PIN equal to one of the holder's previous PINs (the current
// one is compared by Change without hashing).
func (s *Service) checkHistory(ctx context.Context, rec *Record, np string) error {
	prev := rec.Previous
	if n := s.cfg.PINHistory - 1; len(prev) > n {
		prev = prev[:n]
	}
	for _, h := range prev {
		same, err := s.verify(ctx, h, np)
		if err != nil {
			return err
		}
		if same {
			return &RuleError{Rule: RuleRecent}
		}
	}
	return nil
}

// remember puts h in front of the previous hashes, keeping at most n.
func remember(h *Hash, prev []*Hash, n int) []*Hash {
	out := append([]*Hash{h}, prev...)
	if len(out) > n {
		out = out[:max(n, 0)]
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// sameHash reports whether a and b are the same stored hash.
func sameHash(a, b *Hash) bool {
	return a != nil && b != nil && bytes.Equal(a.Salt, b.Salt) && bytes.Equal(a.Sum, b.Sum)
}

// changeMarker is what Change remembers of a change about to be written, under
// "pin:{CF}:changed:<browser digest>": the hash it replaces and the one it sets.
type changeMarker struct {
	Prev *Hash     `json:"prev"`
	Next *Hash     `json:"next"`
	At   time.Time `json:"at"`
}

func changeKey(cf, browser string) string {
	sum := sha256.Sum256([]byte("pin-change:" + browser))
	return key(cf, "changed:"+hex.EncodeToString(sum[:16]))
}

// rememberChange writes the marker before the change itself: if it cannot be written nothing
// has changed yet, and once the change commits the marker is already there.
func (s *Service) rememberChange(ctx context.Context, cf, browser string, prev, next *Hash) error {
	if browser == "" || prev == nil {
		return nil
	}
	err := s.putJSON(ctx, changeKey(cf, browser), changeMarker{Prev: prev, Next: next, At: s.now()}, s.cfg.ChangeRetryWindow)
	if err != nil {
		return fmt.Errorf("%w: %w", providers.ErrUnavailable, err)
	}
	return nil
}

// committedRetry reports whether cur and np, which did not prove r's PIN, are the form of a
// change this browser made within the window and that did commit: the marker names the hash
// now in force, cur matches the hash it replaced and np the one in force.
func (s *Service) committedRetry(ctx context.Context, r *Record, browser, cur, np string) (bool, error) {
	if browser == "" || r.Current == nil {
		return false, nil
	}
	b, err := s.store.Get(ctx, changeKey(r.FiscalCode, browser))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("pin: change marker: %w: %w", providers.ErrUnavailable, err)
	}
	var m changeMarker
	if json.Unmarshal(b, &m) != nil || m.Prev == nil || !sameHash(r.Current, m.Next) ||
		s.now().Sub(m.At) > s.cfg.ChangeRetryWindow {
		return false, nil
	}
	if ok, err := s.verify(ctx, m.Prev, cur); err != nil || !ok {
		return false, err
	}
	return s.verify(ctx, r.Current, np)
}
