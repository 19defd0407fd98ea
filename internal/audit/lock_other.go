//go:build !unix

package audit

import "os"

// lockWriter is a no-op where flock is not available: one writer per file stays the rule.
func lockWriter(string) (*os.File, error) { return nil, nil }
