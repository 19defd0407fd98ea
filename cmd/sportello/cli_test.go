package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/inps/sportello/config"
)

// everyCommand is every command and subcommand of sportello.
var everyCommand = [][]string{
	{"dev"}, {"serve"}, {"check-config"},
	{"keys"}, {"keys", "init"}, {"keys", "rotate"},
	{"spid"}, {"spid", "metadata"}, {"spid", "cert"},
	{"trust"}, {"trust", "import-tsl"},
	{"pin"}, {"pin", "issue"}, {"pin", "request"}, {"pin", "confirm"}, {"pin", "convert"}, {"pin", "revoke"},
	{"pin", "unlock"}, {"pin", "authorise"}, {"pin", "show"},
	{"delegation"}, {"delegation", "register"}, {"delegation", "revoke"}, {"delegation", "show"},
	{"audit"}, {"audit", "verify"}, {"audit", "keygen"},
	{"console"}, {"console", "switches"}, {"console", "switch"}, {"console", "replicas"},
}

// bareDir runs the test in an empty working directory with no SPORTELLO_* variable, and
// returns a check that nothing was created there (no dev data, no store, no key).
func bareDir(t *testing.T) func() {
	t.Helper()
	dir := t.TempDir()
	t.Chdir(dir)
	for _, k := range append(config.EnvVars(), "SPORTELLO_CRYPTO_KEY") {
		t.Setenv(k, "")
	}
	return func() {
		t.Helper()
		if entries, _ := os.ReadDir(dir); len(entries) > 0 {
			t.Errorf("the command created %s in the working directory", entries[0].Name())
		}
	}
}

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// Every command and subcommand answers --help, -h and "help ..." with its usage on standard
// output and exit 0, without a configuration, a store or anything written.
func TestEveryCommandAnswersHelp(t *testing.T) {
	nothingWritten := bareDir(t)
	for _, cmd := range everyCommand {
		forms := [][]string{
			append(append([]string{}, cmd...), "--help"),
			append(append([]string{}, cmd...), "-h"),
			append([]string{"help"}, cmd...),
		}
		if len(cmd) == 2 {
			forms = append(forms, []string{cmd[0], "help", cmd[1]})
		}
		for _, args := range forms {
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				code, out, errs := runCLI(args...)
				first, _, _ := strings.Cut(out, "\n")
				if code != 0 || errs != "" {
					t.Fatalf("exit %d, stderr %q", code, errs)
				}
				if !strings.HasPrefix(first, "Usage: sportello "+cmd[0]) || !strings.Contains(first, cmd[len(cmd)-1]) {
					t.Fatalf("first line %q is not the usage of %q", first, cmd)
				}
			})
		}
	}
	nothingWritten()
}

// A command with subcommands lists them in its help.
func TestHelpListsTheSubcommands(t *testing.T) {
	bareDir(t)
	for _, cmd := range everyCommand {
		if len(cmd) != 2 {
			continue
		}
		_, out, _ := runCLI(cmd[0], "--help")
		if !regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(cmd[1]) + ` `).MatchString(out) {
			t.Errorf("sportello %s --help does not list %s:\n%s", cmd[0], cmd[1], out)
		}
	}
}

// Unknown flags and subcommands exit 2 with the reason and the usage on standard error.
func TestMisuseExitsTwoWithTheUsageOnStderr(t *testing.T) {
	nothingWritten := bareDir(t)
	var cases [][]string
	for _, cmd := range everyCommand {
		cases = append(cases, append(append([]string{}, cmd...), "--no-such-flag"))
		if len(cmd) == 2 {
			cases = append(cases, []string{cmd[0], "no-such-command"})
		}
	}
	cases = append(cases, []string{"no-such-command"}, []string{"dev", "extra-argument"},
		[]string{"check-config", "a.yaml", "b.yaml"}, []string{"check-config"}, []string{"serve", "--config", "a.yaml", "b.yaml"},
		[]string{"keys"}, []string{"keys", "rotate"}, []string{"keys", "rotate", "--config", "a.yaml", "--data", "d"},
		[]string{"keys", "init"}, []string{"keys", "init", "--config", "a.yaml", "--data", "d"},
		[]string{"pin", "show", "RSSMRA80A01H501U"}, []string{"delegation", "show", "RSSMRA80A01H501U"}, []string{"audit", "verify"})
	for _, args := range cases {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, out, errs := runCLI(args...)
			if code != 2 || out != "" || !strings.Contains(errs, "Usage: sportello") {
				t.Fatalf("exit %d, stdout %q, stderr %q; want 2 with the usage on stderr", code, out, errs)
			}
			if strings.Contains(args[len(args)-1], "no-such") && !strings.Contains(errs, "no-such") {
				t.Fatalf("stderr does not name the mistake: %q", errs)
			}
		})
	}
	nothingWritten()
}

// Every command that reads a configuration takes --config FILE, before or after its
// subcommand; the single-file commands also take it as their only argument. A missing file
// is then a failure to load it (exit 1), not a misuse.
func TestEveryCommandTakesTheConfigurationTheSameWay(t *testing.T) {
	bareDir(t)
	missing := filepath.Join(t.TempDir(), "missing.yaml")
	for _, args := range [][]string{
		{"check-config", missing}, {"check-config", "--config", missing}, {"check-config", "--config=" + missing},
		{"serve", missing}, {"serve", "--config", missing},
		{"keys", "rotate", missing}, {"keys", "rotate", "--config", missing},
		{"keys", "init", missing}, {"keys", "init", "--config", missing},
		{"spid", "metadata", missing}, {"spid", "metadata", "--config", missing},
		{"pin", "--config", missing, "show", "RSSMRA80A01H501U"}, {"pin", "show", "--config", missing, "RSSMRA80A01H501U"},
		{"pin", "show", "RSSMRA80A01H501U", "--config=" + missing},
		{"delegation", "--config", missing, "show", "RSSMRA80A01H501U"}, {"delegation", "show", "RSSMRA80A01H501U", "--config", missing},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, _, errs := runCLI(args...)
			if code != 1 || !strings.Contains(errs, "missing.yaml") || strings.Contains(errs, "Usage:") {
				t.Fatalf("exit %d, stderr %q; want 1 naming the missing file", code, errs)
			}
		})
	}
}

// The top-level help lists every command with one line, every form with its flags, and the
// flags every command takes; twice the same.
func TestTopLevelHelpListsEveryCommandAndFlag(t *testing.T) {
	bareDir(t)
	code, out, errs := runCLI("--help")
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	for _, c := range commands {
		if !regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(c.name) + ` +\S`).MatchString(out) {
			t.Errorf("command %s has no line of its own", c.name)
		}
	}
	for _, f := range []string{"-h, --help", "--config FILE"} {
		if !strings.Contains(out, f) {
			t.Errorf("the flag %s is not listed", f)
		}
	}
	// A form that spells out its flags (no "[flags]") spells out all of them.
	flagLine := regexp.MustCompile(`(?m)^  -(\S+)`)
	for _, cmd := range everyCommand {
		_, help, _ := runCLI(append(append([]string{}, cmd...), "--help")...)
		var synopsis string
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, "  sportello "+strings.Join(cmd, " ")+" ") {
				synopsis += line
			}
		}
		if synopsis == "" || strings.Contains(synopsis, "[flags]") {
			continue
		}
		for _, m := range flagLine.FindAllStringSubmatch(help, -1) {
			if name := m[1]; !strings.Contains(synopsis, "-"+name+" ") && !strings.Contains(synopsis, "-"+name+"]") && !strings.HasSuffix(synopsis, "-"+name) {
				t.Errorf("sportello --help: the synopsis of %q lacks --%s:\n%s", cmd, name, synopsis)
			}
		}
	}
	for _, args := range [][]string{{"-h"}, {"help"}, {"--help"}} {
		if _, again, _ := runCLI(args...); again != out {
			t.Errorf("sportello %s differs from sportello --help", args[0])
		}
	}
	// Without arguments: the same text, on standard error, exit 2.
	if code, o, e := runCLI(); code != 2 || o != "" || e != out {
		t.Errorf("no arguments: exit %d, stdout %q", code, o)
	}
}

// The checks check-config makes after loading (the signing keys, the IdP metadata) point
// into the file too.
func TestCheckConfigLocatesItsLaterChecks(t *testing.T) {
	path := exampleDeployment(t, func(y string) string { return strings.Replace(y, "  type: redis\n", "  type: memory\n", 1) })
	code, out := checkConfig(t, "--offline", "--config", path)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 1 || len(lines) != 3 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for _, l := range lines[:2] {
		if !strings.HasPrefix(l, "keys.dir: ") || !regexp.MustCompile(`\(line \d+, column \d+\)$`).MatchString(l) {
			t.Errorf("unlocated: %s", l)
		}
	}
}

// The help never shows a secret taken from the environment: a Redis URL may hold a password.
func TestHelpShowsNoRedisPassword(t *testing.T) {
	bareDir(t)
	t.Setenv("SPORTELLO_REDIS_URL", "redis://:s3cret-in-the-url@127.0.0.1:6379/0")
	_, out, errs := runCLI("dev", "--help")
	if strings.Contains(out+errs, "s3cret-in-the-url") {
		t.Fatalf("dev --help prints the Redis URL of the environment:\n%s", out)
	}
}
