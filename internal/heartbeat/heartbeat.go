package heartbeat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/internal/store/members"
)

// Defaults of a Beater.
const (
	// DefaultInterval is how often a replica writes its heartbeat.
	DefaultInterval = 5 * time.Second
	// DefaultTTL is how long a heartbeat lasts: three missed beats and the replica is gone.
	DefaultTTL = 3 * DefaultInterval
	// IndexKey holds the ids of the replicas seen.
	IndexKey = "heartbeat:index"
	// MaxIDLen bounds a replica id.
	MaxIDLen = 128
	// MaxReplicas bounds the index.
	MaxReplicas = 1000
)

// ErrBadID is returned for an id that is empty, too long, or holds anything but letters,
// digits and "-._:".
var ErrBadID = errors.New("heartbeat: a replica id is 1 to 128 letters, digits or -._:")

// Replica is what a replica reports about itself.
type Replica struct {
	ID       string    `json:"id"`
	Hostname string    `json:"hostname"`
	Version  string    `json:"version"`
	Started  time.Time `json:"started"`
	LastSeen time.Time `json:"last_seen"`
}

// ValidID reports whether id may name a replica.
func ValidID(id string) bool {
	if id == "" || len(id) > MaxIDLen {
		return false
	}
	return !strings.ContainsFunc(id, func(r rune) bool {
		return r > unicode.MaxASCII || !(unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("-._:", r))
	})
}

func recordKey(id string) string { return "heartbeat:{" + id + "}" }

// Beater writes one replica's heartbeat.
type Beater struct {
	Store store.Store
	// Self describes this replica; LastSeen is set at each beat.
	Self Replica
	// Interval between beats (0: DefaultInterval); TTL of a beat (0: DefaultTTL, at least
	// twice Interval).
	Interval, TTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (b *Beater) ttl() time.Duration {
	ttl := b.TTL
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	return max(ttl, 2*b.interval())
}

func (b *Beater) interval() time.Duration {
	if b.Interval <= 0 {
		return DefaultInterval
	}
	return b.Interval
}

// Beat writes the heartbeat now and makes sure the index names this replica.
func (b *Beater) Beat(ctx context.Context) error {
	if !ValidID(b.Self.ID) {
		return ErrBadID
	}
	now := time.Now
	if b.Now != nil {
		now = b.Now
	}
	self := b.Self
	self.LastSeen = now().UTC()
	raw, err := json.Marshal(self)
	if err != nil {
		return err
	}
	if err := b.Store.Put(ctx, recordKey(self.ID), raw, b.ttl()); err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	if err := index.Join(ctx, b.Store, self.ID); err != nil {
		return fmt.Errorf("heartbeat: index: %w", err)
	}
	return nil
}

// Run beats every Interval until ctx ends; failures are passed to onErr (nil: ignored) and
// the next beat tries again.
func (b *Beater) Run(ctx context.Context, onErr func(error)) {
	t := time.NewTicker(b.interval())
	defer t.Stop()
	for {
		if err := b.Beat(ctx); err != nil && onErr != nil && ctx.Err() == nil {
			onErr(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Leave removes this replica's heartbeat (a clean shutdown); the index drops it later.
func (b *Beater) Leave(ctx context.Context) error {
	return b.Store.Delete(ctx, recordKey(b.Self.ID))
}

// List returns the replicas whose heartbeat has not expired, sorted by id.
func List(ctx context.Context, s store.Store) ([]Replica, error) {
	ids, err := index.Read(ctx, s)
	if errors.Is(err, members.ErrCorrupt) {
		ids = nil // rebuilt by the next beats
	} else if err != nil {
		return nil, fmt.Errorf("heartbeat: index: %w", err)
	}
	out := make([]Replica, 0, len(ids))
	for _, id := range ids {
		raw, err := s.Get(ctx, recordKey(id))
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("heartbeat: list: %w", err)
		}
		var r Replica
		if err := json.Unmarshal(raw, &r); err != nil || r.ID != id {
			continue // not a heartbeat: never shown as a replica
		}
		out = append(out, r)
	}
	return out, nil
}

// index lists the replicas that beat (internal/store/members): ids that are not valid are
// dropped, so a bad entry cannot make List read keys outside the heartbeat namespace.
var index = members.List{Key: IndexKey, Record: recordKey, Valid: ValidID, Max: MaxReplicas}
