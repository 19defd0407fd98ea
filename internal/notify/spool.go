package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Spool hands notifications to an external system by writing each one as a JSON file into a
// directory: the SMS gateway or the print-and-post service picks them up from there. Files
// appear atomically (written aside, then renamed) so a reader never sees half a message.
// Message bodies can carry half a PIN: the directory must be readable only by that system.
type Spool struct {
	// Dir is the spool directory (created 0700 if missing).
	Dir string
	// Now is the clock of the file names and records (default time.Now).
	Now func() time.Time
}

var _ Notifier = (*Spool)(nil)

type spoolRecord struct {
	Time time.Time `json:"time"`
	Notification
}

// Notify writes n as <dir>/<time>-<channel>-<random>.json.
func (s *Spool) Notify(_ context.Context, n Notification) error {
	if s.Dir == "" {
		return errors.New("notify: spool directory not configured")
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return fmt.Errorf("notify: spool: %w", err)
	}
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return fmt.Errorf("notify: spool: %w", err)
	}
	t := now().UTC()
	data, err := json.Marshal(spoolRecord{Time: t, Notification: n})
	if err != nil {
		return fmt.Errorf("notify: spool: %w", err)
	}
	name := fmt.Sprintf("%s-%s-%s.json", t.Format("20060102T150405.000000000Z"), safeChannel(n.Channel), hex.EncodeToString(rnd[:]))
	tmp := filepath.Join(s.Dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("notify: spool: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(s.Dir, name)); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("notify: spool: %w", err)
	}
	return nil
}

// safeChannel keeps file names tame whatever the channel string holds.
func safeChannel(c string) string {
	switch c {
	case "email", "pec", "sms", "post":
		return c
	}
	return "other"
}
