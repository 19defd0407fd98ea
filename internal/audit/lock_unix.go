//go:build unix

package audit

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockWriter takes an exclusive advisory lock on ".<name>.lock" beside path for the Writer's
// lifetime, so a second process (a replica misconfigured with the same file) cannot fork the
// chain. The lock file's name keeps it out of "path*" globs given to Verify.
func lockWriter(path string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("audit: %s is being written by another process: each replica needs its own file", path)
		}
		return nil, fmt.Errorf("audit: locking %s: %w", path, err)
	}
	return f, nil
}
