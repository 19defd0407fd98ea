// Command sportello is the identity broker: "sportello dev" runs dev mode, "sportello serve"
// runs with a configuration file, and the other subcommands are operators' tools.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/inps/sportello/broker/audit"
	"github.com/inps/sportello/providers/spid"
	"github.com/inps/sportello/providers/x509auth/tsl"
)

const usage = `sportello — identity broker for INPS online services (SPID, CIE, CNS, INPS PIN → OpenID Connect)

Usage:
  sportello dev [--http ADDR] [--mtls ADDR] [--redis URL] [--data DIR] [--testdata DIR]
                                      run dev mode: in-memory store, dev identity providers, demo clients
  sportello serve --config FILE       run with a configuration file
  sportello check-config [--offline] FILE
                                      validate a configuration, its signing keys and (unless --offline)
                                      the SPID IdP metadata URLs, listing every error
  sportello keys rotate --config FILE promote the next signing keys to active (no restart needed)
  sportello keys rotate --data DIR    the same for dev mode's key files
  sportello trust import-tsl FILE --out BUNDLE [--signer CERT]
                                      build the CIE/CNS CA bundle from the Italian trusted list
  sportello spid metadata --config FILE
                                      print the signed SPID SP metadata
  sportello spid cert --entity-id URL --ipa-code CODE --org NAME --locality CITY --out-key F --out-cert F
                                      generate a SPID-shaped self-signed SP certificate (public SP)
  sportello pin --config FILE issue|convert|revoke|unlock|authorise|show ...
                                      INPS PIN operations on the configured store (never prints a PIN)
  sportello delegation --config FILE register|revoke|show ...
                                      office operations on the delegation registry (audited)
  sportello audit verify FILE... --key PUB
                                      check the audit trail's hash chain and signed checkpoints
  sportello audit keygen --out FILE   make the Ed25519 checkpoint signing key
  sportello help                      this text
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "dev":
		return cmdDev(ctx, args[1:], stdout, stderr)
	case "serve":
		return cmdServe(ctx, args[1:], stdout, stderr)
	case "check-config":
		return cmdCheckConfig(ctx, args[1:], stdout, stderr)
	case "keys":
		return cmdKeys(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	if c, ok := extraCommands[args[0]]; ok {
		return c(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "sportello: unknown command %q\n\n%s", args[0], usage)
	return 2
}

// extraCommands are the provider packages' operator commands.
var extraCommands = map[string]func(ctx context.Context, args []string, stdout, stderr io.Writer) int{
	"trust": tsl.CLI,
	"audit": audit.CLI,
	"spid": func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
		return spid.CLI(ctx, args, stdout, stderr, spid.ConfigLoader(configOptions()))
	},
	"pin":        cmdPIN,
	"delegation": cmdDelegation,
}
