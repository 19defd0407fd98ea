package switches

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/inps/sportello/internal/store"
)

// Key is the Store key of the switches document.
const Key = "switches:v1"

// Kind says what a switch turns off.
type Kind string

// The kinds of switch.
const (
	// KindIdP is one identity provider behind a provider (a SPID IdP: id is its entityID; a
	// CIE or CNS certification authority: id is the hexadecimal SHA-256 of its certificate).
	KindIdP Kind = "idp"
	// KindProvider is a whole provider (spid, cie, cns, pin, ...: id is its configured name).
	KindProvider Kind = "provider"
	// KindClient is a relying party (id is its client_id).
	KindClient Kind = "client"
)

// Kinds lists every kind, in the order the console shows them.
var Kinds = []Kind{KindIdP, KindProvider, KindClient}

// Limits on what an operator may write.
const (
	// MaxIDLen bounds an id: an entityID is a URL, and SAML caps it at 1024 characters.
	MaxIDLen = 1024
	// MaxReasonLen bounds a reason.
	MaxReasonLen = 500
	// MaxActorLen bounds an actor.
	MaxActorLen = 256
	// MaxSwitches bounds the document, so a runaway script cannot grow it without end.
	MaxSwitches = 1000
)

// Errors of Set. Each is an operator's mistake; a Store failure is returned as it came.
var (
	ErrBadKind   = errors.New("switches: kind must be idp, provider or client")
	ErrBadID     = errors.New("switches: id must be 1 to 1024 printable characters")
	ErrBadReason = errors.New("switches: a reason of 1 to 500 printable characters is required to switch something off")
	ErrBadActor  = errors.New("switches: the actor must be 1 to 256 printable characters")
	ErrBadExpiry = errors.New("switches: the expiry must be in the future")
	ErrTooMany   = errors.New("switches: too many switches in force")
	// ErrCorrupt means the stored document could not be read: nothing is written over it.
	ErrCorrupt = errors.New("switches: stored document is corrupt")
)

// Switch is one override.
type Switch struct {
	Kind    Kind      `json:"kind"`
	ID      string    `json:"id"`
	Enabled bool      `json:"enabled"`
	Reason  string    `json:"reason,omitempty"`
	Actor   string    `json:"actor"`
	SetAt   time.Time `json:"set_at"`
	// ExpiresAt, when set, ends the override by itself: from then on the configuration rules.
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// Active reports whether s is in force at now.
func (s Switch) Active(now time.Time) bool {
	return s.ExpiresAt == nil || now.Before(*s.ExpiresAt)
}

// document is what Key holds.
type document struct {
	Switches []Switch `json:"switches"`
}

// ValidKind reports whether k is a kind of switch.
func ValidKind(k Kind) bool { return slices.Contains(Kinds, k) }

// printable reports whether s is 1 to max bytes of valid UTF-8 without control characters.
func printable(s string, max int) bool {
	if s == "" || len(s) > max || !utf8.ValidString(s) {
		return false
	}
	return !strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || r == utf8.RuneError })
}

// ValidID reports whether id may name a switch.
func ValidID(id string) bool { return printable(id, MaxIDLen) && strings.TrimSpace(id) == id }

// Change is what an operator asks Set to do.
type Change struct {
	Kind    Kind
	ID      string
	Enabled bool
	Reason  string
	Actor   string
	// ExpiresAt, optional, ends a switch-off by itself.
	ExpiresAt *time.Time
}

func (c Change) validate(now time.Time) error {
	switch {
	case !ValidKind(c.Kind):
		return ErrBadKind
	case !ValidID(c.ID):
		return ErrBadID
	case !printable(c.Actor, MaxActorLen):
		return ErrBadActor
	case !c.Enabled && !printable(c.Reason, MaxReasonLen):
		return ErrBadReason
	case c.Enabled && c.Reason != "" && !printable(c.Reason, MaxReasonLen):
		return ErrBadReason
	case c.ExpiresAt != nil && !c.ExpiresAt.After(now):
		return ErrBadExpiry
	}
	return nil
}

// Switches writes and lists the overrides in a Store.
type Switches struct {
	Store store.Store
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (s *Switches) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Set applies one change: a switch-off is recorded (replacing an earlier one of the same
// kind and id), a switch-on removes the override. It returns the switch as recorded. When
// the Store fails, nothing changed and the error says so (store.IsOutage).
func (s *Switches) Set(ctx context.Context, c Change) (Switch, error) {
	now := s.now().UTC()
	if err := c.validate(now); err != nil {
		return Switch{}, err
	}
	sw := Switch{Kind: c.Kind, ID: c.ID, Enabled: c.Enabled, Reason: c.Reason, Actor: c.Actor, SetAt: now}
	if !c.Enabled && c.ExpiresAt != nil {
		t := c.ExpiresAt.UTC()
		sw.ExpiresAt = &t
	}
	_, err := store.Update(ctx, s.Store, Key, 0, func(old []byte) ([]byte, error) {
		doc, err := decode(old)
		if err != nil {
			return nil, err
		}
		kept := doc.Switches[:0]
		for _, o := range doc.Switches {
			if o.Active(now) && (o.Kind != c.Kind || o.ID != c.ID) {
				kept = append(kept, o)
			}
		}
		if !c.Enabled {
			if len(kept) >= MaxSwitches {
				return nil, ErrTooMany
			}
			kept = append(kept, sw)
		}
		doc.Switches = kept
		return json.Marshal(doc)
	})
	if err != nil {
		return Switch{}, fmt.Errorf("switches: set %s %q: %w", c.Kind, c.ID, err)
	}
	return sw, nil
}

// List returns the overrides in force, read from the Store now, sorted by kind then id.
func (s *Switches) List(ctx context.Context) ([]Switch, error) {
	raw, err := s.Store.Get(ctx, Key)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("switches: list: %w", err)
	}
	doc, err := decode(raw)
	if err != nil {
		return nil, err
	}
	return active(doc.Switches, s.now()), nil
}

// active returns the switches of all in force at now, sorted.
func active(all []Switch, now time.Time) []Switch {
	out := make([]Switch, 0, len(all))
	for _, sw := range all {
		if sw.Active(now) {
			out = append(out, sw)
		}
	}
	slices.SortFunc(out, func(a, b Switch) int {
		if c := strings.Compare(string(a.Kind), string(b.Kind)); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// decode reads a stored document; nil (no document yet) is an empty one.
func decode(raw []byte) (document, error) {
	var doc document
	if raw == nil {
		return doc, nil
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return document{}, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	for _, sw := range doc.Switches {
		if !ValidKind(sw.Kind) || !ValidID(sw.ID) {
			return document{}, fmt.Errorf("%w: a switch of kind %q has a bad kind or id", ErrCorrupt, sw.Kind)
		}
	}
	return doc, nil
}
