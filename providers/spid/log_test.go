package spid

import (
	"bufio"
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/providers/saml/samlx"
)

// topLevelKeys counts the keys of one JSON object as written, duplicates included (decoding
// into a map would keep only the last).
func topLevelKeys(t *testing.T, line []byte) map[string]int {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(line))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not a JSON object: %s", line)
	}
	keys := map[string]int{}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys[k.(string)]++
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// TestJSONLogOfASPIDLoginHasOneLevelKey: "level" is the log record's severity; the SPID level
// of assurance is logged as "loa", so a JSON log line never carries two "level" keys.
func TestJSONLogOfASPIDLoginHasOneLevelKey(t *testing.T) {
	var buf bytes.Buffer
	e := buildEnv(t, nil, samlx.KeyInfoCertificate, func(d *Deps) {
		d.Logger = slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	if status, body := e.login(t, "demo", "json-log", loa.SpidL2, creds("RSSMRA80A01H501U")); status != http.StatusOK {
		t.Fatalf("login: HTTP %d %s", status, body)
	}
	seen := map[string]bool{}
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		keys := topLevelKeys(t, sc.Bytes())
		if keys["level"] != 1 {
			t.Errorf("%d \"level\" keys in %s", keys["level"], sc.Bytes())
		}
		var rec map[string]any
		_ = json.Unmarshal(sc.Bytes(), &rec)
		msg, _ := rec["msg"].(string)
		if strings.HasPrefix(msg, "spid: ") {
			seen[msg] = keys["loa"] == 1
		}
	}
	for _, msg := range []string{"spid: authn request", "spid: login"} {
		if !seen[msg] {
			t.Errorf("no %q line with its loa in the log:\n%s", msg, buf.String())
		}
	}
}
