package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Exit statuses of every command.
const (
	// ExitOK: done, or help printed.
	ExitOK = 0
	// ExitFailure: the command ran and failed (a refused operation, an invalid file).
	ExitFailure = 1
	// ExitUsage: the command line was wrong; nothing was done.
	ExitUsage = 2
)

// IsHelp reports whether arg asks for help: -h, -help, --help or help.
func IsHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}

// NewFlags returns a flag set for the command name ("sportello keys rotate") that prints
// nothing by itself: Parse reports errors and usage.
func NewFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// Parse parses args with fs, flags and positional arguments in any order, and returns the
// positional arguments. done is true when the caller must return code at once: ExitOK after
// the usage was printed on stdout for -h or --help, ExitUsage after a bad flag was reported
// with the usage on stderr.
func Parse(fs *flag.FlagSet, usage string, args []string, stdout, stderr io.Writer) (positional []string, code int, done bool) {
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			PrintUsage(stdout, usage, fs)
			return nil, ExitOK, true
		}
		if err != nil {
			return nil, Misuse(stderr, fs, usage, "%v", err), true
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, ExitOK, false
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(positional, rest...), ExitOK, false
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// PrintUsage writes usage and, when fs has flags, their list (in name order).
func PrintUsage(w io.Writer, usage string, fs *flag.FlagSet) {
	fmt.Fprint(w, strings.TrimRight(usage, "\n")+"\n")
	if fs == nil {
		return
	}
	var flags strings.Builder
	fs.SetOutput(&flags)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	if flags.Len() > 0 {
		fmt.Fprint(w, "\nFlags:\n"+flags.String())
	}
}

// Misuse reports a wrong command line on stderr — "sportello keys rotate: <reason>", then
// the usage — and returns ExitUsage. fs may be nil (a command without flags).
func Misuse(stderr io.Writer, fs *flag.FlagSet, usage, format string, args ...any) int {
	name := "sportello"
	if fs != nil {
		name = fs.Name()
	}
	fmt.Fprintf(stderr, "%s: %s\n\n", name, fmt.Sprintf(format, args...))
	PrintUsage(stderr, usage, fs)
	return ExitUsage
}

// ConfigFlag registers --config on fs: the configuration file of the commands that read one.
func ConfigFlag(fs *flag.FlagSet) *string {
	return fs.String("config", "", "configuration `FILE`")
}

// ConfigPath is the configuration file of a command that takes it as --config FILE or as its
// only positional argument (the older form, kept as an alias). It reports a misuse when
// neither or both are given, or when more arguments follow.
func ConfigPath(fs *flag.FlagSet, usage string, flagValue string, positional []string, stderr io.Writer) (path string, code int, ok bool) {
	switch {
	case flagValue != "" && len(positional) == 0:
		return flagValue, ExitOK, true
	case flagValue == "" && len(positional) == 1:
		return positional[0], ExitOK, true
	case flagValue == "" && len(positional) == 0:
		return "", Misuse(stderr, fs, usage, "the configuration file is required (--config FILE)"), false
	}
	return "", Misuse(stderr, fs, usage, "unexpected arguments %q: give one configuration file", positional), false
}
