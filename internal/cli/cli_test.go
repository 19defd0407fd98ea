package cli

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

const testUsage = "Usage: sportello thing [--out FILE] ARGS"

func parse(args ...string) (positional []string, out string, code int, done bool, stderr string, value string) {
	fs := NewFlags("sportello thing")
	v := fs.String("out", "", "output `FILE`")
	var o, e bytes.Buffer
	positional, code, done = Parse(fs, testUsage, args, &o, &e)
	return positional, o.String(), code, done, e.String(), *v
}

func TestParse(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		positional []string
		value      string
		code       int
		done       bool
	}{
		{"flags before the arguments", []string{"--out", "x", "a", "b"}, []string{"a", "b"}, "x", 0, false},
		{"flags after the arguments", []string{"a", "b", "--out=x"}, []string{"a", "b"}, "x", 0, false},
		{"flags between the arguments", []string{"a", "-out", "x", "b"}, []string{"a", "b"}, "x", 0, false},
		{"-- ends the flags", []string{"a", "--", "--out", "x"}, []string{"a", "--out", "x"}, "", 0, false},
		{"a lone - is an argument", []string{"-"}, []string{"-"}, "", 0, false},
		{"--help", []string{"a", "--help"}, nil, "", ExitOK, true},
		{"-h", []string{"-h"}, nil, "", ExitOK, true},
		{"an unknown flag", []string{"--bogus"}, nil, "", ExitUsage, true},
		{"a flag without its value", []string{"a", "--out"}, nil, "", ExitUsage, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			positional, out, code, done, stderr, value := parse(tt.args...)
			if !slices.Equal(positional, tt.positional) || value != tt.value || code != tt.code || done != tt.done {
				t.Fatalf("Parse = %q %q %d %v, want %q %q %d %v", positional, value, code, done, tt.positional, tt.value, tt.code, tt.done)
			}
			switch {
			case done && code == ExitOK:
				if !strings.HasPrefix(out, testUsage) || !strings.Contains(out, "-out FILE") || stderr != "" {
					t.Fatalf("help: stdout %q, stderr %q", out, stderr)
				}
			case done:
				if out != "" || !strings.HasPrefix(stderr, "sportello thing: ") || !strings.Contains(stderr, testUsage) {
					t.Fatalf("misuse: stdout %q, stderr %q", out, stderr)
				}
			}
		})
	}
}

func TestConfigPath(t *testing.T) {
	fs := NewFlags("sportello thing")
	for _, tt := range []struct {
		flag       string
		positional []string
		want       string
		ok         bool
	}{
		{"a.yaml", nil, "a.yaml", true},
		{"", []string{"a.yaml"}, "a.yaml", true},
		{"", nil, "", false},
		{"a.yaml", []string{"b.yaml"}, "", false},
		{"", []string{"a.yaml", "b.yaml"}, "", false},
	} {
		var e bytes.Buffer
		path, code, ok := ConfigPath(fs, testUsage, tt.flag, tt.positional, &e)
		if path != tt.want || ok != tt.ok || (!ok && (code != ExitUsage || !strings.Contains(e.String(), testUsage))) {
			t.Errorf("ConfigPath(%q, %q) = %q %d %v; stderr %q", tt.flag, tt.positional, path, code, ok, e.String())
		}
	}
}

// FuzzParse: whatever the command line, Parse never panics, help goes to stdout only, misuse
// to stderr only, and every argument ends up a flag value or a positional argument.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{"a --out x b", "--help", "-h x", "-- --out", "--out", "--out=", "---out x", "-out=x=y -", "--bogus=1 a"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		args := strings.Fields(line)
		positional, out, code, done, stderr, _ := parse(args...)
		switch {
		case done && code == ExitOK:
			if stderr != "" || out == "" {
				t.Fatalf("help: stdout %q stderr %q", out, stderr)
			}
		case done:
			if code != ExitUsage || out != "" || stderr == "" {
				t.Fatalf("misuse: %d stdout %q stderr %q", code, out, stderr)
			}
		default:
			if out != "" || stderr != "" || len(positional) > len(args) {
				t.Fatalf("ok: %q from %q, stdout %q stderr %q", positional, args, out, stderr)
			}
		}
	})
}
