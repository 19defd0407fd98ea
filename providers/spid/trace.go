package spid

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"

	"github.com/inps/sportello/internal/audit"
)

// traceFile is the optional JSON-lines sink of the AgID trace (trace_file), kept beside the
// broker's Auditor so the SPID trace can be retained on its own schedule.
type traceFile struct {
	mu sync.Mutex
	f  *os.File
}

var _ audit.Auditor = (*traceFile)(nil)

func openTrace(path string) (*traceFile, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("trace file: %w", err)
	}
	return &traceFile{f: f}, nil
}

// Audit appends one event as a JSON line.
func (t *traceFile) Audit(_ context.Context, ev audit.Event) error {
	b, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("trace: %w", err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, err := t.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("trace: %w", err)
	}
	return nil
}

// Close closes the file.
func (t *traceFile) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.f.Close()
}
