package main

import (
	"context"
	"crypto/ed25519"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/inps/sportello/config"
	"github.com/inps/sportello/internal/audit"
)

// Operator commands (sportello pin, sportello delegation) are audited in the configured trail's
// operators' file — a signed chain of their own — while a running broker holds the main file.
func TestOperatorCommandsWriteTheirOwnSignedTrail(t *testing.T) {
	dir := t.TempDir()
	cfg := &config.Config{Dev: true, Keys: config.Keys{Dir: dir}, Audit: config.Audit{File: filepath.Join(dir, "audit.log")}}
	broker, err := openAuditTrail(cfg, cfg.Audit.File, io.Discard, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	w, closeAudit, err := operatorAuditor(cfg, io.Discard)
	if err != nil {
		t.Fatalf("the operators' trail cannot open while the broker holds its own: %v", err)
	}
	if err := w.Audit(context.Background(), audit.Event{Type: "pin.revoked", Actor: "op-milano-7",
		Fields: map[string]any{"fiscal_code": "RSSMRA80A01H501U"}}); err != nil {
		t.Fatal(err)
	}
	closeAudit()
	key, err := audit.EnsureDevKey(filepath.Join(dir, "audit.key"), nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := audit.Verify([]string{filepath.Join(dir, "audit-operators.log")}, key.Public().(ed25519.PublicKey))
	if err != nil || rep.Records < 1 || rep.Checkpoints < 1 || !rep.SignaturesChecked {
		t.Fatalf("operators' trail: %+v, %v", rep, err)
	}
	if got := operatorAuditPath("/var/log/sportello/audit.jsonl"); got != "/var/log/sportello/audit-operators.jsonl" {
		t.Fatalf("operators' path %q", got)
	}
}
