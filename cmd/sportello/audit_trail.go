package main

import (
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/inps/sportello/config"
	"github.com/inps/sportello/internal/audit"
)

// openAuditTrail opens the hash-chained audit trail at path ("" = out, dev mode only). Checkpoints are signed with audit.signing_key; in dev mode with a generated key
// (keys dir, audit.key and audit.key.pub) so "sportello audit verify" can be tried.
func openAuditTrail(cfg *config.Config, path string, out io.Writer, logger *slog.Logger) (*audit.Writer, error) {
	aopts := audit.Options{Path: path, Logger: logger, MaxBytes: cfg.Audit.MaxBytes,
		Retention: audit.Retention{Months: cfg.Audit.RetentionMonths}}
	if path == "" {
		aopts.Out = out
	}
	var err error
	if cfg.Audit.SigningKey != "" {
		if aopts.SigningKey, err = audit.LoadSigningKey(cfg.Audit.SigningKey); err != nil {
			return nil, fmt.Errorf("audit.signing_key: %w", err)
		}
	} else if cfg.Dev {
		if aopts.SigningKey, err = audit.EnsureDevKey(filepath.Join(cfg.Keys.Dir, "audit.key"), nil); err != nil {
			return nil, err
		}
	}
	return audit.Open(aopts)
}

// operatorAuditPath is the trail of the operators' commands (sportello pin, sportello
// delegation): each writing process keeps its own chain, so the commands write next to the
// broker's file — audit.log → audit-operators.log — never into the file a running broker holds.
func operatorAuditPath(file string) string {
	if file == "" {
		return ""
	}
	ext := filepath.Ext(file)
	return strings.TrimSuffix(file, ext) + "-operators" + ext
}

// operatorAuditor is the audit trail of an operator command: the operators' file of the
// configured trail, or standard error when the configuration names no file (dev mode). The
// returned close writes the closing signed checkpoint.
func operatorAuditor(cfg *config.Config, stderr io.Writer) (*audit.Writer, func(), error) {
	if cfg.Audit.File == "" {
		w := audit.NewWriter(stderr)
		return w, func() {}, nil
	}
	w, err := openAuditTrail(cfg, operatorAuditPath(cfg.Audit.File), stderr, slog.New(slog.NewTextHandler(stderr, nil)))
	if err != nil {
		return nil, nil, err
	}
	return w, func() {
		if err := w.Close(); err != nil {
			fmt.Fprintln(stderr, "audit:", err)
		}
	}, nil
}
