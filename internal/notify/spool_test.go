package notify

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSpoolWritesOneWholeFilePerMessage(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "spool")
	s := &Spool{Dir: dir}
	for _, ch := range []string{"sms", "post", "../../etc/passwd"} {
		if err := s.Notify(context.Background(), Notification{Channel: ch, To: "+390000000", Body: "PIN 1234ABCD"}); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 {
		t.Fatalf("%d files, want 3", len(entries))
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") || strings.Contains(e.Name(), "/") || !strings.HasSuffix(e.Name(), ".json") {
			t.Fatalf("unexpected file %q", e.Name())
		}
		info, _ := e.Info()
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", e.Name(), info.Mode().Perm())
		}
		raw, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		var rec spoolRecord
		if err := json.Unmarshal(raw, &rec); err != nil || rec.Body != "PIN 1234ABCD" {
			t.Fatalf("bad record %s: %v", raw, err)
		}
	}
	if st, _ := os.Stat(dir); st.Mode().Perm() != 0o700 {
		t.Errorf("spool dir mode %v, want 0700", st.Mode().Perm())
	}
	if err := (&Spool{}).Notify(context.Background(), Notification{Channel: "sms"}); err == nil {
		t.Fatal("a spool without a directory accepted a message")
	}
}
