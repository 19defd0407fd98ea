package loginstats

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/internal/store/members"
)

const (
	// DefaultInterval is how often a Publisher writes this replica's buckets.
	DefaultInterval = 10 * time.Second
	// IndexKey holds the ids of the replicas whose buckets the Store holds.
	IndexKey = "loginstats:index"
	// MaxReplicas bounds the index.
	MaxReplicas = 1000
	// maxRecord bounds one replica's record as read back.
	maxRecord = 8 << 20
)

// ErrBadID is returned for a replica id that is empty, too long, or holds anything but
// letters, digits and "-._:".
var ErrBadID = errors.New("loginstats: a replica id is 1 to 128 letters, digits or -._:")

// ValidID reports whether id may name a replica.
func ValidID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	return !strings.ContainsFunc(id, func(r rune) bool {
		return r > unicode.MaxASCII || !(unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("-._:", r))
	})
}

func recordKey(id string) string { return "loginstats:{" + id + "}" }

// record is one replica's buckets as the Store holds them.
type record struct {
	Replica string   `json:"replica"`
	Minutes []bucket `json:"minutes"`
}

type bucket struct {
	Minute int64   `json:"m"`
	Counts []count `json:"c"`
}

type count struct {
	Key
	N int64 `json:"n"`
}

func encode(replica string, bs map[minute]map[Key]int64) ([]byte, error) {
	rec := record{Replica: replica, Minutes: []bucket{}}
	for _, m := range slices.Sorted(maps.Keys(bs)) {
		b := bucket{Minute: m}
		for k, n := range bs[m] {
			b.Counts = append(b.Counts, count{k, n})
		}
		sort.Slice(b.Counts, func(i, j int) bool {
			a, c := b.Counts[i].Key, b.Counts[j].Key
			return a.Kind+"\x00"+a.ID+"\x00"+a.Outcome < c.Kind+"\x00"+c.ID+"\x00"+c.Outcome
		})
		rec.Minutes = append(rec.Minutes, b)
	}
	return json.Marshal(rec)
}

// decode reads a replica's record, keeping only well-formed counts: a damaged or foreign
// value adds nothing rather than failing the whole answer.
func decode(raw []byte, replica string) (map[minute]map[Key]int64, error) {
	if len(raw) > maxRecord {
		return nil, errors.New("loginstats: record too large")
	}
	var rec record
	if err := json.Unmarshal(raw, &rec); err != nil {
		return nil, fmt.Errorf("loginstats: record: %w", err)
	}
	if rec.Replica != replica {
		return nil, errors.New("loginstats: record of another replica")
	}
	out := map[minute]map[Key]int64{}
	for _, b := range rec.Minutes {
		for _, c := range b.Counts {
			if c.N <= 0 || c.Kind == "" || c.ID == "" || c.Outcome == "" || len(c.ID) > MaxIDLen || len(c.Kind) > 16 || len(c.Outcome) > 64 {
				continue
			}
			if out[b.Minute] == nil {
				out[b.Minute] = map[Key]int64{}
			}
			if n := out[b.Minute][c.Key]; n > 1<<53-c.N {
				continue // an absurd count: dropped, never an overflow
			}
			out[b.Minute][c.Key] += c.N
		}
	}
	return out, nil
}

// Publisher writes one replica's buckets to the Store.
type Publisher struct {
	Store   store.Store
	Replica string
	Counter *Counter
	// Interval between writes (0: DefaultInterval).
	Interval time.Duration
}

func (p *Publisher) interval() time.Duration {
	if p.Interval <= 0 {
		return DefaultInterval
	}
	return p.Interval
}

// Publish writes the buckets now (they expire a Window after this write, so a replica that
// stops still counts until its logins are an hour old) and makes sure the index names this
// replica.
func (p *Publisher) Publish(ctx context.Context) error {
	if !ValidID(p.Replica) {
		return ErrBadID
	}
	raw, err := encode(p.Replica, p.Counter.snapshot())
	if err != nil {
		return err
	}
	if err := p.Store.Put(ctx, recordKey(p.Replica), raw, Window+p.interval()); err != nil {
		return fmt.Errorf("loginstats: %w", err)
	}
	if err := index.Join(ctx, p.Store, p.Replica); err != nil {
		return fmt.Errorf("loginstats: index: %w", err)
	}
	return nil
}

// Run publishes every Interval until ctx ends, and once more as it ends (a clean shutdown
// leaves its last counts); failures go to onErr (nil: ignored) and the next write tries again.
func (p *Publisher) Run(ctx context.Context, onErr func(error)) {
	t := time.NewTicker(p.interval())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			_ = p.Publish(fctx)
			cancel()
			return
		case <-t.C:
		}
		if err := p.Publish(ctx); err != nil && onErr != nil && ctx.Err() == nil {
			onErr(err)
		}
	}
}

// Cluster sums the last Window's counts of every replica in the Store at now. self, when
// set, is this replica's live Counter, used instead of its published (older) record.
func Cluster(ctx context.Context, s store.Store, now time.Time, selfID string, self *Counter) (Totals, error) {
	ids, err := index.Read(ctx, s)
	if err != nil {
		return nil, fmt.Errorf("loginstats: index: %w", err)
	}
	t := Totals{}
	cur := minuteOf(now)
	addAll := func(bs map[minute]map[Key]int64) {
		for m, b := range bs {
			if !inWindow(m, cur) {
				continue
			}
			for k, n := range b {
				t.add(k, n)
			}
		}
	}
	if self != nil {
		addAll(self.snapshot())
	}
	for _, id := range ids {
		if self != nil && id == selfID {
			continue
		}
		raw, err := s.Get(ctx, recordKey(id))
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("loginstats: %w", err)
		}
		bs, err := decode(raw, id)
		if err != nil {
			continue // not a record of this package: counts nothing
		}
		addAll(bs)
	}
	return t, nil
}

// index lists the replicas whose buckets the Store holds (internal/store/members): ids that
// are not valid are dropped, so a bad entry cannot make Cluster read keys outside this
// package's namespace.
var index = members.List{Key: IndexKey, Record: recordKey, Valid: ValidID, Max: MaxReplicas}
