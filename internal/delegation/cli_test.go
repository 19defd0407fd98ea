package delegation

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func runCLI(t *testing.T, f *fixture, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := CLI(ctx, append([]string{"--config", "sportello.yaml"}, args...), &out, &errb,
		func(string) (*Registry, func(), error) { return f.reg, func() {}, nil })
	return code, out.String(), errb.String()
}

func TestCLI(t *testing.T) {
	f := newFixture(t)
	code, out, stderr := runCLI(t, f, "register", "--operator", "op-napoli-2", "--kind", "office_aa09", "--delegator", "CNTCHR83T41D969D",
		"--delegator-name", "Chiara|Conti", "--delegate", "RCCMNL83S18D969H", "--delegate-name", "Emanuele|Ricci",
		"--reference", "certificato dott. Bruno 2026-03-01", "--end", "2026-12-31")
	if code != 0 {
		t.Fatalf("%d %s", code, stderr)
	}
	var d Delegation
	if err := json.Unmarshal([]byte(out), &d); err != nil || d.Kind != KindOfficeAA09 || d.Delegate.Name() != "Emanuele Ricci" || d.RegisteredBy != "op-napoli-2" {
		t.Fatalf("%v %s", err, out)
	}
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no command prints the usage", nil, 2, "Usage: sportello delegation"},
		{"an unknown command", []string{"frobnicate"}, 2, "unknown command"},
		{"register needs an office kind", []string{"register", "--delegator", "CNTCHR83T41D969D", "--delegate", "RSSMRA80A01H501U"}, 2, "unknown kind"},
		{"the one-delegate limit", []string{"register", "--kind", "office_aa08", "--delegator", "CNTCHR83T41D969D", "--delegate", "RSSMRA80A01H501U"}, 1, "already has an active delegate"},
		{"a bad end date", []string{"register", "--kind", "office_aa08", "--end", "tomorrow"}, 2, "--end"},
		{"show lists the delegation", []string{"show", "RCCMNL83S18D969H"}, 0, d.ID},
		{"show needs a fiscal code", []string{"show"}, 2, "one fiscal code"},
		{"revoke at the office", []string{"revoke", d.ID, "--operator", "op-napoli-2", "--reason", "richiesta AA08"}, 0, "revoked"},
		{"revoke twice", []string{"revoke", d.ID}, 1, "not active"},
		{"revoke needs an id", []string{"revoke"}, 2, "one delegation id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := runCLI(t, f, tt.args...)
			if code != tt.code || !strings.Contains(out+stderr, tt.want) {
				t.Fatalf("%d\n%s\n%s", code, out, stderr)
			}
		})
	}
	if got := f.rec.types(); !strings.Contains(got, "delegation.revoked/op-napoli-2") || !strings.Contains(got, "delegation.registered/op-napoli-2") {
		t.Fatal(got)
	}
}
