// Command sportello is the identity broker: "sportello dev" runs dev mode, "sportello serve"
// runs with a configuration file, and the other subcommands are operators' tools. Every
// command answers -h/--help with its usage (exit 0, nothing opened) and a wrong command line
// with the reason and its usage on standard error (exit 2); see internal/cli.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/inps/sportello/internal/audit"
	"github.com/inps/sportello/internal/cli"
	"github.com/inps/sportello/providers/oidcfed"
	"github.com/inps/sportello/providers/spid"
	"github.com/inps/sportello/providers/x509auth/tsl"
)

// command is one "sportello" command.
type command struct {
	name string
	// summary is its line in "sportello --help".
	summary string
	// synopsis lists its forms with every flag, for "sportello --help".
	synopsis []string
	run      func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

// commands are every command, in the order "sportello --help" lists them.
var commands = []command{
	{"dev", "run dev mode: in-memory store, dev identity providers, demo clients", []string{
		"dev [--http ADDR] [--mtls ADDR] [--redis URL] [--data DIR] [--testdata DIR] [--pprof ADDR] [--otlp URL] [--audit-stderr] [-v]",
	}, cmdDev},
	{"serve", "run the broker with a configuration file", []string{
		"serve --config FILE",
	}, cmdServe},
	{"check-config", "validate a configuration, its signing keys and SPID IdP metadata, listing every error with its path and line", []string{
		"check-config [--offline] --config FILE",
	}, cmdCheckConfig},
	{"keys", "create the first token signing key set (once), rotate it (running instances pick it up, no restart)", []string{
		"keys init --config FILE",
		"keys init --data DIR",
		"keys rotate --config FILE",
		"keys rotate --data DIR",
	}, cmdKeys},
	{"spid", "the SPID service provider: signed metadata, SPID-shaped SP certificate", []string{
		"spid metadata --config FILE",
		"spid cert --entity-id URL --ipa-code CODE --org NAME --locality CITY --out-key FILE --out-cert FILE [--cn NAME] [--bits N] [--days N] [--force]",
	}, func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
		return spid.CLI(ctx, args, stdout, stderr, spid.ConfigLoader(configOptions()))
	}},
	{"federation", "SPID and CIE over OpenID Connect Federation: the OPs' trust chains, the federation and RP keys", []string{
		"federation show --config FILE",
		"federation keys init --config FILE",
		"federation keys rotate --config FILE [--grace DURATION]",
	}, func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
		return oidcfed.CLI(ctx, args, stdout, stderr, federationLoader(ctx))
	}},
	{"trust", "build the CIE/CNS CA bundle from AgID's trusted list", []string{
		"trust import-tsl FILE --out BUNDLE [--signer CERT]",
	}, tsl.CLI},
	{"pin", "INPS PIN office and Contact-Center operations (never prints a PIN)", []string{
		"pin --config FILE issue|request|confirm|convert|revoke|unlock|authorise|show [flags] FISCAL_CODE",
	}, cmdPIN},
	{"delegation", "office operations on the delegation registry (AA08, AA09, AA10)", []string{
		"delegation --config FILE register|revoke|show [flags] ...",
	}, cmdDelegation},
	{"console", "the security team's switches (an IdP, a provider or a client off on every replica) and the replicas seen", []string{
		"console switches --config FILE",
		"console switch --config FILE --kind KIND --id ID --off --reason TEXT [--expires TIME]",
		"console switch --config FILE --kind KIND --id ID --on",
		"console replicas --config FILE",
	}, cmdConsole},
	{"audit", "check the audit trail's hash chain and checkpoints; make the checkpoint key", []string{
		"audit verify FILE... [--key PUB]",
		"audit keygen --out FILE",
	}, audit.CLI},
}

// usage is the text of "sportello --help": every command with its line, every form with its
// flags, and the flags every command takes.
func usage() string {
	var b strings.Builder
	b.WriteString("sportello — identity broker for INPS online services (SPID, CIE, CNS, INPS PIN → OpenID Connect)\n\n")
	b.WriteString("Usage: sportello COMMAND [flags] [arguments]\n\nCommands:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-13s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(&b, "  %-13s %s\n", "help", `this text; "sportello help COMMAND [SUBCOMMAND]" prints a command's usage`)
	b.WriteString("\nEvery command and its flags:\n")
	for _, c := range commands {
		for _, s := range c.synopsis {
			b.WriteString("  sportello " + s + "\n")
		}
	}
	b.WriteString(`
Flags of every command:
  -h, --help      print the command's usage and exit 0 (nothing is opened)
  --config FILE   the configuration file, for every command that reads one; check-config,
                  serve, keys init, keys rotate and spid metadata also take it as their only argument

Exit status: 0 done, 1 failed, 2 wrong command line.
`)
	return b.String()
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	installLibraryLoggers()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage())
		return cli.ExitUsage
	}
	name, rest := args[0], args[1:]
	if cli.IsHelp(name) {
		if len(rest) == 0 {
			fmt.Fprint(stdout, usage())
			return cli.ExitOK
		}
		// "sportello help pin issue" is "sportello pin issue --help".
		name, rest = rest[0], append(rest[1:len(rest):len(rest)], "--help")
		if cli.IsHelp(name) {
			fmt.Fprint(stdout, usage())
			return cli.ExitOK
		}
	}
	for _, c := range commands {
		if c.name == name {
			return c.run(ctx, rest, stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "sportello: unknown command %q\n\n%s", name, usage())
	return cli.ExitUsage
}
