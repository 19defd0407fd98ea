package audit

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// rotatedLayout is the suffix of rotated files: the UTC time of the rotation.
const rotatedLayout = "20060102T150405.000000000Z"

// fileSink is the current file plus its rotation state. The Writer serialises calls.
type fileSink struct {
	opts Options
	lock *os.File // held while the sink is open (nil where unsupported)
	f    *os.File
	size int64
	day  string
}

func dayOf(t time.Time) string { return t.UTC().Format("2006-01-02") }

// openSink opens opts.Path for appending and returns the last record on disk (nil for a new
// trail), from the current file or else the newest rotated one.
func openSink(opts Options) (_ *fileSink, _ *Record, err error) {
	lock, err := lockWriter(opts.Path)
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if err != nil && lock != nil {
			_ = lock.Close()
		}
	}()
	f, err := os.OpenFile(opts.Path, os.O_APPEND|os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("audit: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, nil, fmt.Errorf("audit: %w", err)
	}
	s := &fileSink{opts: opts, lock: lock, f: f, size: st.Size(), day: dayOf(opts.Now())}
	if s.size > 0 {
		s.day = dayOf(st.ModTime())
	}
	last, err := s.resume()
	if err != nil {
		_ = f.Close()
		return nil, nil, err
	}
	if s.size > 0 && last != nil && !last.Time.IsZero() {
		// The day the current file belongs to is the day of its records, read on the same
		// clock as the writes (the file's mtime is the OS clock and changes when copied).
		s.day = dayOf(last.Time)
	}
	s.prune(opts.Now())
	return s, last, nil
}

// resume finds the last record: in the current file, else in the newest rotated file.
func (s *fileSink) resume() (*Record, error) {
	line, partial, err := lastLine(s.f, s.size)
	if err != nil {
		return nil, fmt.Errorf("audit: reading %s: %w", s.opts.Path, err)
	}
	if partial {
		// A crash cut the last write short: start a fresh line after it. Verify will name the
		// broken line; the chain continues from the last whole record.
		if _, err := s.f.Write([]byte("\n")); err != nil {
			return nil, fmt.Errorf("audit: %w", err)
		}
		s.size++
	}
	where := s.opts.Path
	if line == nil {
		rotated := s.rotated()
		for i := len(rotated) - 1; i >= 0 && line == nil; i-- {
			rf, err := os.Open(rotated[i].path)
			if err != nil {
				return nil, fmt.Errorf("audit: %w", err)
			}
			st, err := rf.Stat()
			if err == nil {
				line, _, err = lastLine(rf, st.Size())
			}
			_ = rf.Close()
			if err != nil {
				return nil, fmt.Errorf("audit: reading %s: %w", rotated[i].path, err)
			}
			where = rotated[i].path
		}
	}
	if line == nil {
		return nil, nil
	}
	r, err := decode(line)
	if err != nil {
		// Fail closed: continuing would graft new records onto a chain we cannot check.
		return nil, fmt.Errorf("audit: last record of %s is damaged (%w); verify the trail and move the file aside", where, err)
	}
	return r, nil
}

// lastLine returns the last newline-terminated line of the first size bytes of f (nil when
// there is none) and whether bytes without a newline follow it.
func lastLine(f *os.File, size int64) (line []byte, partial bool, err error) {
	for chunk := int64(64 << 10); ; chunk *= 2 {
		off := max(0, size-chunk)
		buf := make([]byte, size-off)
		if _, err := f.ReadAt(buf, off); err != nil {
			return nil, false, err
		}
		end := bytes.LastIndexByte(buf, '\n')
		partial = end != len(buf)-1
		if end < 0 {
			if off == 0 {
				return nil, partial, nil
			}
			continue
		}
		body := buf[:end]
		start := bytes.LastIndexByte(body, '\n')
		if start < 0 && off > 0 {
			continue
		}
		return body[start+1:], partial, nil
	}
}

// before rotates when writing n more bytes at now would pass the size limit or cross midnight.
func (s *fileSink) before(n int, now time.Time) error {
	if s.size == 0 {
		s.day = dayOf(now)
		return nil
	}
	if s.size+int64(n) <= s.opts.MaxBytes && (s.opts.NoDaily || dayOf(now) == s.day) {
		return nil
	}
	return s.rotate(now)
}

func (s *fileSink) rotate(now time.Time) error {
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	if err := s.f.Close(); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	to := s.opts.Path + "." + now.UTC().Format(rotatedLayout)
	if err := os.Rename(s.opts.Path, to); err != nil {
		return fmt.Errorf("audit: rotating: %w", err)
	}
	f, err := os.OpenFile(s.opts.Path, os.O_APPEND|os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	s.f, s.size, s.day = f, 0, dayOf(now)
	s.opts.Logger.Info("audit file rotated", "to", to)
	s.prune(now)
	return nil
}

type rotatedFile struct {
	path string
	at   time.Time
}

// rotated lists the rotated files, oldest first.
func (s *fileSink) rotated() []rotatedFile {
	matches, _ := filepath.Glob(s.opts.Path + ".*")
	var out []rotatedFile
	for _, m := range matches {
		at, err := time.Parse(rotatedLayout, strings.TrimPrefix(m, s.opts.Path+"."))
		if err == nil {
			out = append(out, rotatedFile{m, at})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].at.Before(out[j].at) })
	return out
}

// prune deletes rotated files whose newest record is older than the retention.
func (s *fileSink) prune(now time.Time) {
	cutoff, ok := s.opts.Retention.cutoff(now)
	if !ok {
		return
	}
	for _, r := range s.rotated() {
		if r.at.Before(cutoff) {
			if err := os.Remove(r.path); err != nil {
				s.opts.Logger.Warn("audit retention: cannot delete", "path", r.path, "err", err)
				continue
			}
			s.opts.Logger.Info("audit retention: deleted", "path", r.path)
		}
	}
}

// Write appends p.
func (s *fileSink) Write(p []byte) (int, error) {
	n, err := s.f.Write(p)
	s.size += int64(n)
	return n, err
}

// Close syncs and closes the current file, then releases the lock.
func (s *fileSink) Close() error {
	if s.lock != nil {
		defer s.lock.Close()
	}
	if err := s.f.Sync(); err != nil {
		_ = s.f.Close()
		return err
	}
	return s.f.Close()
}
