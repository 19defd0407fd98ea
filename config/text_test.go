package config

import (
	"strings"
	"testing"
)

// A client's display_name is one text or one per language; it is checked like everything
// else a page shows as is.
func TestClientDisplayName(t *testing.T) {
	ok := []struct {
		name   string
		value  any
		it, en string
	}{
		{"one text for both languages", "Servizio demo", "Servizio demo", "Servizio demo"},
		{"one text per language", map[string]any{"it": "Pensioni", "en": "Pensions"}, "Pensioni", "Pensions"},
		{"English falls back to Italian", map[string]any{"it": "Pensioni"}, "Pensioni", "Pensioni"},
	}
	for _, tt := range ok {
		t.Run(tt.name, func(t *testing.T) {
			m := baseConfig()
			set(m, "clients.0.display_name", tt.value)
			cfg, err := Parse(mustYAML(t, m), testOptions(t, nil))
			if err != nil {
				t.Fatal(err)
			}
			d := cfg.Clients[0].DisplayName
			if d.In("it") != tt.it || d.In("en") != tt.en {
				t.Fatalf("it %q en %q", d.In("it"), d.In("en"))
			}
		})
	}
	bad := []struct {
		name  string
		value any
		path  string
	}{
		{"an unknown language", map[string]any{"it": "Pensioni", "de": "Renten"}, "clients[0].display_name.de"},
		{"an empty text", map[string]any{"it": " "}, "clients[0].display_name.it"},
		{"a control character", "Servizio\u0007demo", "clients[0].display_name"},
		{"two lines", "Servizio\ndemo", "clients[0].display_name"},
		{"too long", strings.Repeat("x", 81), "clients[0].display_name"},
		{"a list", []any{"a", "b"}, "clients[0].display_name"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			m := baseConfig()
			set(m, "clients.0.display_name", tt.value)
			_, err := Parse(mustYAML(t, m), testOptions(t, nil))
			wantOnly(t, err, tt.path)
		})
	}
}

func TestReservedClientIDIsRefused(t *testing.T) {
	m := baseConfig()
	set(m, "clients.0.id", ReservedClientID)
	_, err := Parse(mustYAML(t, m), testOptions(t, nil))
	wantOnly(t, err, "clients[0].id")
}
