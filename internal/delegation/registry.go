package delegation

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	"github.com/inps/sportello/internal/audit"
	"github.com/inps/sportello/internal/fiscalcode"
	"github.com/inps/sportello/internal/notify"
	"github.com/inps/sportello/internal/store"
)

// Limits of the circolare 127/2021.
const (
	// MaxPerDelegate is how many active ordinary delegations a delegate may hold.
	MaxPerDelegate = 3
	// MaxPerDelegator is how many active ordinary delegates a delegator may have.
	MaxPerDelegator = 1
	// MaxEndYears bounds an optional end date: further away is a typing mistake (and past
	// year 9999 a date cannot even be stored).
	MaxEndYears = 100
	// RevokeWindow is how long after an online registration it is revocable only at an office.
	RevokeWindow = 30 * 24 * time.Hour
)

// Options configure a Registry.
type Options struct {
	// Store holds the records and indexes (required).
	Store store.Store
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Rand is the source of delegation ids (default crypto/rand).
	Rand io.Reader
	// Notifier tells the delegate (optional).
	Notifier notify.Notifier
	// Auditor receives one record per registration and revocation (optional).
	Auditor audit.Auditor
	// Logger is the structured log (default: discard).
	Logger *slog.Logger
}

// Registry is the delegation registry. It is safe for concurrent use, and several replicas
// may share one Store.
type Registry struct {
	st     store.Store
	now    func() time.Time
	rand   io.Reader
	notify notify.Notifier
	audit  audit.Auditor
	log    *slog.Logger
}

// New builds a Registry.
func New(o Options) (*Registry, error) {
	if o.Store == nil {
		return nil, errors.New("delegation: a Store is required")
	}
	r := &Registry{st: outageStore{o.Store}, now: o.Now, rand: o.Rand, notify: o.Notifier, audit: o.Auditor, log: o.Logger}
	if r.now == nil {
		r.now = time.Now
	}
	if r.rand == nil {
		r.rand = rand.Reader
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.log = r.log.With("component", "delegation")
	return r, nil
}

// Now is the registry's clock (pages use it to show statuses).
func (r *Registry) Now() time.Time { return r.now() }

// validate normalises and checks req.
func (r *Registry) validate(req *Request, now time.Time) error {
	var err error
	if req.Delegator.FiscalCode, err = fiscalcode.Parse(req.Delegator.FiscalCode); err != nil {
		return fmt.Errorf("delegation: delegator: %w", err)
	}
	if req.Delegate.FiscalCode, err = fiscalcode.Parse(req.Delegate.FiscalCode); err != nil {
		return fmt.Errorf("delegation: delegate: %w", err)
	}
	switch {
	case req.Delegator.FiscalCode == req.Delegate.FiscalCode:
		return ErrSelfDelegation
	case !req.Kind.valid():
		return fmt.Errorf("%w: unknown kind %q", ErrInvalid, req.Kind)
	case req.Kind.Legal() && !req.Role.valid():
		return fmt.Errorf("%w: a legal representation needs a role (%v)", ErrInvalid, Roles)
	case !req.Kind.Legal() && req.Role != "":
		return fmt.Errorf("%w: a role is only for legal representations", ErrInvalid)
	case req.Kind.Office() && req.Operator == "":
		return fmt.Errorf("%w: an office registration needs the operator", ErrInvalid)
	case req.Kind == KindOnline && req.Operator != "":
		return fmt.Errorf("%w: an operator registers office kinds only", ErrInvalid)
	case req.Kind == KindOfficeAA09 && req.Reference == "":
		return fmt.Errorf("%w: AA09 needs the doctor's certificate reference", ErrInvalid)
	case !req.End.IsZero() && !req.End.After(now):
		return fmt.Errorf("%w: the end date must be in the future", ErrInvalid)
	case req.End.After(now.AddDate(MaxEndYears, 0, 0)):
		return fmt.Errorf("%w: the end date is more than %d years away", ErrInvalid, MaxEndYears)
	}
	return nil
}

func (r *Registry) newID() (string, error) {
	b := make([]byte, 12)
	if _, err := io.ReadFull(r.rand, b); err != nil {
		return "", fmt.Errorf("delegation: random: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// Register records a delegation, active at once, after checking the limits atomically (see
// the package documentation), and notifies the delegate.
func (r *Registry) Register(ctx context.Context, req Request) (*Delegation, error) {
	now := r.now()
	if err := r.validate(&req, now); err != nil {
		return nil, err
	}
	id, err := r.newID()
	if err != nil {
		return nil, err
	}
	d := &Delegation{ID: id, Kind: req.Kind, Role: req.Role, Delegator: req.Delegator, Delegate: req.Delegate,
		Start: now, End: req.End, RegisteredBy: "online", Reference: req.Reference}
	if req.Operator != "" {
		d.RegisteredBy = req.Operator
	}
	if err := r.persist(ctx, d); err != nil {
		return nil, err
	}
	actor := d.Delegator.FiscalCode
	if req.Operator != "" {
		actor = req.Operator
	}
	r.auditEvent(ctx, "delegation.registered", actor, d, nil)
	r.tell(ctx, d, "registered")
	return d, nil
}

// persist runs the reservation protocol of the package documentation for the new record d.
func (r *Registry) persist(ctx context.Context, d *Delegation) error {
	id, now := d.ID, r.now()
	gk, rk := givenKey(d.Delegator.FiscalCode), receivedKey(d.Delegate.FiscalCode)
	deadline := now.Add(reservationTTL)
	if err := r.reserve(ctx, gk, entry{ID: id, Other: d.Delegate.FiscalCode, Kind: d.Kind, End: d.End, Pending: deadline},
		MaxPerDelegator, ErrLimitDelegator); err != nil {
		return err
	}
	drop := func(e *entry) bool { return false }
	if err := r.reserve(ctx, rk, entry{ID: id, Other: d.Delegator.FiscalCode, Kind: d.Kind, End: d.End, Pending: deadline},
		MaxPerDelegate, ErrLimitDelegate); err != nil {
		if rerr := r.change(ctx, gk, id, drop); rerr != nil {
			r.log.ErrorContext(ctx, "delegation: rollback failed; the reservation lapses at its deadline", "id", id, "err", rerr)
		}
		return err
	}
	rec, err := json.Marshal(d)
	if err != nil {
		return err
	}
	ok, err := r.st.PutIfAbsent(ctx, recordKey(id), rec, 0)
	if err == nil && !ok {
		err = fmt.Errorf("delegation: registration took too long and was aborted: %w", store.ErrConflict)
	}
	if err != nil {
		for _, k := range []string{gk, rk} {
			if rerr := r.change(ctx, k, id, drop); rerr != nil {
				r.log.ErrorContext(ctx, "delegation: rollback failed; the reservation lapses at its deadline", "id", id, "err", rerr)
			}
		}
		return fmt.Errorf("delegation: commit: %w", err)
	}
	commit := func(e *entry) bool { e.Pending = time.Time{}; return true }
	for _, k := range []string{gk, rk} {
		if err := r.change(ctx, k, id, commit); err != nil {
			r.log.WarnContext(ctx, "delegation: pending mark left; resolved at its deadline", "id", id, "err", err)
		}
	}
	return nil
}

// Revoke ends a delegation. An operator may revoke any active delegation; online, only its
// delegator, not within RevokeWindow of an online registration, and not when the delegator is
// under legal protection.
func (r *Registry) Revoke(ctx context.Context, id string, by Actor) error {
	d, err := r.Get(ctx, id)
	if err != nil {
		return err
	}
	now := r.now()
	if by.Operator == "" {
		if err := r.mayRevokeOnline(ctx, d, by.FiscalCode, now); err != nil {
			r.auditEvent(ctx, "delegation.revoke_refused", by.FiscalCode, d, map[string]any{"reason": err.Error()})
			return err
		}
	}
	if !d.ActiveAt(now) {
		if !d.RevokedAt.IsZero() {
			r.markRevoked(ctx, d) // repairs indexes a crash left behind
		}
		return ErrNotActive
	}
	b, err := store.Update(ctx, r.st, recordKey(id), 0, func(old []byte) ([]byte, error) {
		if old == nil {
			return nil, ErrNotFound
		}
		var cur Delegation
		if err := json.Unmarshal(old, &cur); err != nil {
			return nil, err
		}
		if !cur.ActiveAt(now) {
			return nil, ErrNotActive
		}
		cur.RevokedAt, cur.RevokedBy = now, by.String()
		return json.Marshal(cur)
	})
	if err != nil {
		return fmt.Errorf("delegation: revoke: %w", err)
	}
	_ = json.Unmarshal(b, d)
	r.markRevoked(ctx, d)
	actor := by.FiscalCode
	if by.Operator != "" {
		actor = by.Operator
	}
	r.auditEvent(ctx, "delegation.revoked", actor, d, map[string]any{"by": by.String(), "reason": by.Reason})
	r.tell(ctx, d, "revoked")
	return nil
}

// CanRevokeOnline reports whether the person cf may revoke d online now (nil) or why not.
func (r *Registry) CanRevokeOnline(ctx context.Context, d *Delegation, cf string) error {
	return r.mayRevokeOnline(ctx, d, cf, r.now())
}

func (r *Registry) mayRevokeOnline(ctx context.Context, d *Delegation, cf string, now time.Time) error {
	switch {
	case cf == "" || cf != d.Delegator.FiscalCode:
		return ErrForbidden
	case !d.ActiveAt(now):
		return ErrNotActive
	case d.Kind == KindOnline && now.Before(d.Start.Add(RevokeWindow)):
		return ErrRevokeWindow
	}
	protected, err := r.Protected(ctx, cf)
	if err != nil {
		return err
	}
	if protected {
		return ErrProtectedPerson
	}
	return nil
}

// Protected reports whether cf is under legal protection: the delegator of an active
// legal_aa10 representation.
func (r *Registry) Protected(ctx context.Context, cf string) (bool, error) {
	given, err := r.Given(ctx, cf)
	if err != nil {
		return false, err
	}
	now := r.now()
	return slices.ContainsFunc(given, func(d Delegation) bool { return d.Kind.Legal() && d.ActiveAt(now) }), nil
}

// markRevoked propagates a revocation to both indexes, freeing the slots.
func (r *Registry) markRevoked(ctx context.Context, d *Delegation) {
	mark := func(e *entry) bool { e.Revoked, e.Pending = true, time.Time{}; return true }
	for _, k := range []string{givenKey(d.Delegator.FiscalCode), receivedKey(d.Delegate.FiscalCode)} {
		if err := r.change(ctx, k, d.ID, mark); err != nil {
			r.log.ErrorContext(ctx, "delegation: index not updated after revocation; the slot stays taken until repaired", "id", d.ID, "err", err)
		}
	}
}

func (r *Registry) auditEvent(ctx context.Context, typ, actor string, d *Delegation, extra map[string]any) {
	if r.audit == nil {
		return
	}
	f := map[string]any{"id": d.ID, "kind": d.Kind, "delegator": d.Delegator.FiscalCode, "delegate": d.Delegate.FiscalCode}
	if d.Role != "" {
		f["role"] = d.Role
	}
	if !d.End.IsZero() {
		f["end"] = d.End
	}
	if d.Reference != "" {
		f["reference"] = d.Reference
	}
	for k, v := range extra {
		f[k] = v
	}
	if err := r.audit.Audit(ctx, audit.Event{Time: r.now(), Type: typ, Actor: actor, Fields: f}); err != nil {
		r.log.ErrorContext(ctx, "delegation: audit", "type", typ, "err", err)
	}
}
