package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inps/sportello/broker/console"
	"github.com/inps/sportello/internal/audit"
)

// The console searches the trail file by person, client, type and time, newest first, and
// reports the chain's verification; an edited line is named.
func TestConsoleAuditLogSearchesAndVerifiesTheTrail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	w, err := audit.Open(audit.Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	for i, ev := range []audit.Event{
		{Time: t0, Type: "login.success", Actor: "RSSMRA80A01H501U", Fields: map[string]any{"client_id": "demo-rp"}},
		{Time: t0.Add(time.Minute), Type: "login.success", Actor: "BNCLRA85M41F205C", Fields: map[string]any{"client_id": "demo-spa"}},
		{Time: t0.Add(2 * time.Minute), Type: "console.unlock_pin", Actor: "demo-operator", Fields: map[string]any{"fiscal_number": "RSSMRA80A01H501U"}},
	} {
		if err := w.Audit(t.Context(), ev); err != nil {
			t.Fatal(i, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	l, err := newFileAuditLog(path, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		q     console.AuditQuery
		types []string
	}{
		{"a person as actor and in the fields, newest first", console.AuditQuery{Person: "RSSMRA80A01H501U"}, []string{"console.unlock_pin", "login.success"}},
		{"a client", console.AuditQuery{Client: "demo-spa"}, []string{"login.success"}},
		{"a type", console.AuditQuery{Type: "console.unlock_pin"}, []string{"console.unlock_pin"}},
		{"a time window", console.AuditQuery{Since: t0.Add(30 * time.Second), Until: t0.Add(90 * time.Second)}, []string{"login.success"}},
		{"a limit", console.AuditQuery{Type: "login.success", Limit: 1}, []string{"login.success"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs, err := l.Search(t.Context(), tc.q)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range recs {
				if r.Type != "checkpoint" {
					got = append(got, r.Type)
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.types, ",") {
				t.Fatalf("got %v, want %v", got, tc.types)
			}
		})
	}
	chain, err := l.Verify(t.Context())
	if err != nil || !chain.Verified || chain.LastSeq < 3 {
		t.Fatalf("Verify = %+v, %v", chain, err)
	}
	raw, _ := os.ReadFile(path)
	if err := os.WriteFile(path, []byte(strings.Replace(string(raw), "demo-spa", "demo-rpx", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	chain, err = l.Verify(t.Context())
	if err != nil || chain.Verified || !strings.Contains(chain.Problem, "line 2") {
		t.Fatalf("Verify of an edited trail = %+v, %v", chain, err)
	}
}
