package audit

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"
)

// Defaults of Options.
const (
	DefaultCheckpointEvery    = 1000
	DefaultCheckpointInterval = time.Minute
	DefaultMaxBytes           = 256 << 20
)

// DefaultRetention keeps rotated files 24 months (SPID traces rule).
var DefaultRetention = Retention{Months: 24}

// Retention is how long rotated files are kept.
type Retention struct {
	// Months, then Days, are added together; zero for both (and Forever false) means the default.
	Months, Days int
	// Forever keeps every file.
	Forever bool
}

func (r Retention) cutoff(now time.Time) (time.Time, bool) {
	if r.Forever {
		return time.Time{}, false
	}
	if r.Months == 0 && r.Days == 0 {
		r = DefaultRetention
	}
	return now.AddDate(0, -r.Months, -r.Days), true
}

// Options configures Open.
type Options struct {
	// Path is the current file; rotated files sit beside it.
	Path string
	// Out, when set instead of Path, receives the records (a new chain; no rotation), for
	// example standard error in dev mode.
	Out io.Writer
	// SigningKey signs checkpoints; nil writes none (the chain alone).
	SigningKey ed25519.PrivateKey
	// CheckpointEvery and CheckpointInterval space checkpoints (defaults 1000 records, 1 minute);
	// the interval is checked when a record is written (and by Checkpoint, for a ticker).
	CheckpointEvery    int
	CheckpointInterval time.Duration
	// MaxBytes rotates the file before it would grow past this size (default 256 MiB).
	MaxBytes int64
	// NoDaily turns off the rotation at UTC midnight.
	NoDaily bool
	// Retention is how long rotated files are kept (default 24 months).
	Retention Retention
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives rotation, retention and checkpoint notes (default: discarded).
	Logger *slog.Logger
}

// Writer is a Auditor appending hash-chained records; safe for concurrent use.
type Writer struct {
	mu      sync.Mutex
	w       io.Writer
	c       io.Closer
	file    *fileSink // nil for NewWriter
	key     ed25519.PrivateKey
	every   int
	ival    time.Duration
	now     func() time.Time
	log     *slog.Logger
	seq     uint64
	head    string
	since   int       // records since the last checkpoint
	lastCP  time.Time // time of the last checkpoint (or of opening)
	dirty   bool      // records written since the last checkpoint
	closed  bool
	records uint64 // records written by this Writer, checkpoints excluded
}

var _ Auditor = (*Writer)(nil)

// NewWriter writes chained records to w, starting a new chain (no rotation, no checkpoints).
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: w, head: Genesis, now: time.Now, log: slog.New(slog.DiscardHandler), every: DefaultCheckpointEvery, ival: DefaultCheckpointInterval}
}

// OpenFile appends records to the file at path (mode 0600) with default rotation and
// retention and no checkpoints, resuming the chain found there.
func OpenFile(path string) (*Writer, error) { return Open(Options{Path: path}) }

// Open opens the file sink described by opts, resuming the chain from the last record on disk.
func Open(opts Options) (*Writer, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.CheckpointEvery <= 0 {
		opts.CheckpointEvery = DefaultCheckpointEvery
	}
	if opts.CheckpointInterval <= 0 {
		opts.CheckpointInterval = DefaultCheckpointInterval
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	a := &Writer{key: opts.SigningKey, every: opts.CheckpointEvery, ival: opts.CheckpointInterval,
		now: opts.Now, log: opts.Logger, head: Genesis, lastCP: opts.Now()}
	if opts.Out != nil {
		a.w = opts.Out
		return a, nil
	}
	fs, last, err := openSink(opts)
	if err != nil {
		return nil, err
	}
	a.w, a.c, a.file = fs, fs, fs
	if last != nil {
		a.seq, a.head = last.Seq, last.Hash
		a.log.Info("audit trail resumed", "path", opts.Path, "seq", last.Seq)
	}
	return a, nil
}

// Audit appends ev as one chained record, then a checkpoint when one is due.
func (a *Writer) Audit(_ context.Context, ev Event) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return fmt.Errorf("audit: writer closed")
	}
	r := fromEvent(ev, a.now())
	if err := a.append(&r); err != nil {
		return err
	}
	a.records++
	a.since++
	a.dirty = true
	if a.key != nil && (a.since >= a.every || a.now().Sub(a.lastCP) >= a.ival) {
		return a.checkpoint()
	}
	return nil
}

// Checkpoint writes a signed checkpoint now if records were written since the last one (and
// a key is set). Call it from a ticker to bound the unsigned tail in quiet periods.
func (a *Writer) Checkpoint(_ context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed || a.key == nil || !a.dirty {
		return nil
	}
	return a.checkpoint()
}

// Head returns the last record's seq and hash.
func (a *Writer) Head() (uint64, string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.seq, a.head
}

func (a *Writer) checkpoint() error {
	r := Record{Time: a.now().UTC()}
	r.Seq, r.Prev = a.seq+1, a.head
	signCheckpoint(&r, a.key, a.records)
	if err := a.write(&r); err != nil {
		return err
	}
	a.since, a.dirty, a.lastCP = 0, false, a.now()
	a.log.Info("audit checkpoint", "seq", r.Seq, "head", r.Prev, "hash", r.Hash)
	return nil
}

// append chains r after the head and writes it.
func (a *Writer) append(r *Record) error {
	r.Seq, r.Prev = a.seq+1, a.head
	return a.write(r)
}

func (a *Writer) write(r *Record) error {
	line, err := encode(r)
	if err != nil {
		return err
	}
	if a.file != nil {
		if err := a.file.before(len(line), a.now()); err != nil {
			return err
		}
	}
	if _, err := a.w.Write(line); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	a.seq, a.head = r.Seq, r.Hash
	return nil
}

// Close writes a last checkpoint (when a key is set) and closes the file, if any.
func (a *Writer) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return nil
	}
	var cpErr error
	if a.key != nil && a.dirty {
		cpErr = a.checkpoint()
	}
	a.closed = true
	if a.c == nil {
		return cpErr
	}
	if err := a.c.Close(); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return cpErr
}

// CheckpointEvery calls w.Checkpoint every d until ctx ends, bounding the unsigned tail in
// quiet periods; run it in its own goroutine.
func CheckpointEvery(ctx context.Context, w *Writer, d time.Duration) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := w.Checkpoint(ctx); err != nil {
				w.log.Warn("audit checkpoint failed", "err", err)
			}
		}
	}
}
