package config

import (
	"testing"
	"time"
)

func operators(ops ...map[string]any) []any {
	out := make([]any, len(ops))
	for i, o := range ops {
		out[i] = o
	}
	return out
}

// TestConsoleOperators: the console's operators are validated fiscal codes with a known role,
// and its session limits stay within bounds.
func TestConsoleOperators(t *testing.T) {
	good := map[string]any{"fiscal_code": "RSSMRA80A01H501U", "role": "admin"}
	tests := []struct {
		name   string
		mutate func(m map[string]any)
		want   []string
	}{
		{"an operator with a valid fiscal code and role is accepted", func(m map[string]any) {
			set(m, "console.operators", operators(good, map[string]any{"fiscal_code": "BNCLRA85M41F205C", "role": "read"}))
		}, nil},
		{"a fiscal code with a wrong check letter is refused", func(m map[string]any) {
			set(m, "console.operators", operators(map[string]any{"fiscal_code": "RSSMRA80A01H501X", "role": "admin"}))
		}, []string{"console.operators[0].fiscal_code"}},
		{"a fiscal code is written upper case without TINIT-", func(m map[string]any) {
			set(m, "console.operators", operators(map[string]any{"fiscal_code": "TINIT-RSSMRA80A01H501U", "role": "admin"}))
		}, []string{"console.operators[0].fiscal_code"}},
		{"an operator is listed once", func(m map[string]any) {
			set(m, "console.operators", operators(good, good))
		}, []string{"console.operators[1].fiscal_code"}},
		{"the role is read or admin", func(m map[string]any) {
			set(m, "console.operators", operators(map[string]any{"fiscal_code": "RSSMRA80A01H501U", "role": "root"}))
		}, []string{"console.operators[0].role"}},
		{"the idle timeout is at most an hour", func(m map[string]any) { set(m, "console.idle_timeout", "2h") }, []string{"console.idle_timeout"}},
		{"the absolute lifetime is at most a day", func(m map[string]any) { set(m, "console.max_age", "25h") }, []string{"console.max_age"}},
		{"the console's client id is its own", func(m map[string]any) { set(m, "clients.0.id", ConsoleClientID) }, []string{"clients[0].id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := baseConfig()
			tt.mutate(m)
			_, err := Parse(mustYAML(t, m), testOptions(t, nil))
			wantOnly(t, err, tt.want...)
		})
	}
}

func TestConsoleDefaultsAndRole(t *testing.T) {
	m := baseConfig()
	set(m, "console.operators", operators(map[string]any{"fiscal_code": "RSSMRA80A01H501U", "role": "read"}))
	cfg, err := Parse(mustYAML(t, m), testOptions(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Console.IdleTimeout != 15*time.Minute || cfg.Console.MaxAge != 8*time.Hour {
		t.Errorf("defaults %s / %s, want 15m / 8h", cfg.Console.IdleTimeout, cfg.Console.MaxAge)
	}
	if r := cfg.Console.ConsoleRole("RSSMRA80A01H501U"); r != ConsoleRead {
		t.Errorf("role %q, want read", r)
	}
	if r := cfg.Console.ConsoleRole("BNCLRA85M41F205C"); r != "" {
		t.Errorf("an unlisted person has role %q", r)
	}
}
