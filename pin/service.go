package pin

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/inps/sportello/internal/audit"
	"github.com/inps/sportello/internal/notify"
	"github.com/inps/sportello/internal/store"
)

// Options are the Service's dependencies.
type Options struct {
	// Store keeps every record (required).
	Store store.Store
	// Config holds the rules; unset fields take their defaults.
	Config Config
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Rand is the source of PINs, salts and codes (default crypto/rand).
	Rand io.Reader
	// Notifier delivers PINs and messages (required for issuance).
	Notifier notify.Notifier
	// Auditor receives the audit trail (optional).
	Auditor audit.Auditor
	// Logger is the structured log (default: discard).
	Logger *slog.Logger
	// OnHash, when set, is called for every Argon2id computation (a metrics hook).
	OnHash func()
}

// Service runs the PIN lifecycle over a Store. It is safe for concurrent use, and several
// Services (one per broker instance) may share one Store.
type Service struct {
	store    store.Store
	cfg      Config
	now      func() time.Time
	rand     io.Reader
	notifier notify.Notifier
	auditor  audit.Auditor
	log      *slog.Logger
	onHash   func()
	hashes   atomic.Uint64
	// slots bound concurrent Argon2id computations to the memory budget.
	slots      chan struct{}
	overloaded atomic.Uint64
}

// New builds a Service.
func New(o Options) (*Service, error) {
	if o.Store == nil {
		return nil, errors.New("pin: Options.Store is required")
	}
	s := &Service{
		store:    o.Store,
		cfg:      o.Config.WithDefaults(),
		now:      o.Now,
		rand:     o.Rand,
		notifier: o.Notifier,
		auditor:  o.Auditor,
		log:      o.Logger,
		onHash:   o.OnHash,
	}
	s.slots = make(chan struct{}, hashSlots(s.cfg))
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With("component", "pin")
	return s, nil
}

// Config returns the effective configuration (defaults applied).
func (s *Service) Config() Config { return s.cfg }

// Hashes returns how many Argon2id computations this Service has run.
func (s *Service) Hashes() uint64 { return s.hashes.Load() }

// Now returns the Service's clock reading.
func (s *Service) Now() time.Time { return s.now() }

// audit writes one audit record; a failing auditor is logged, never fatal.
func (s *Service) audit(ctx context.Context, typ, actor string, fields map[string]any) {
	if s.auditor == nil {
		return
	}
	ev := audit.Event{Time: s.now(), Type: typ, Actor: actor, Fields: fields}
	if err := s.auditor.Audit(ctx, ev); err != nil {
		s.log.ErrorContext(ctx, "audit failed", "type", typ, "err", err)
	}
}

// notify delivers one message; missing addresses are skipped.
func (s *Service) notify(ctx context.Context, channel, to, subject, body string) error {
	if to == "" {
		return nil
	}
	if s.notifier == nil {
		return errors.New("pin: no notifier configured")
	}
	return s.notifier.Notify(ctx, notify.Notification{Channel: channel, To: to, Subject: subject, Body: body})
}

// eligible applies the issuance policy.
func (s *Service) eligible(p Person, cat Category) bool {
	for _, c := range s.cfg.Eligibility.Exempt {
		if c == cat {
			return true
		}
	}
	switch s.cfg.Eligibility.Policy {
	case EligibleAll:
		return true
	case EligibleResidentsAbroad:
		return p.ResidentAbroad && !p.ItalianIDDocument
	}
	return false
}

// Eligible reports whether the policy in force would issue a PIN to p in category cat.
func (s *Service) Eligible(p Person, cat Category) bool { return s.eligible(p, cat) }

// expiresAt is when the holder's current PIN expires.
func (s *Service) expiresAt(r *Record) time.Time {
	return r.PINSetAt.AddDate(0, s.cfg.ExpiryMonths.of(r.Category), 0)
}

// activationDeadline is the last moment an issued PIN may be activated.
func (s *Service) activationDeadline(r *Record) time.Time {
	return r.IssuedAt.AddDate(0, 0, s.cfg.ActivationDays)
}
