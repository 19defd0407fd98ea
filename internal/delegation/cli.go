package delegation

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/inps/sportello/internal/cli"
)

const cliUsage = `Usage: sportello delegation --config FILE COMMAND [flags] ARGS

Office operations on the delegation registry of the configured store; every action is
audited.

Commands:
  register  register an office delegation (AA08, AA09) or a legal representative (AA10)
  revoke    revoke a delegation by its id
  show      print the delegations a person gave and received, as JSON

Every command takes --config FILE (before or after the command) and --operator NAME
(default cli:$USER). "sportello delegation COMMAND --help" lists a command's flags.`

// cliCommands are the usage of each command after "sportello delegation --config FILE" and
// the flags it takes besides --config and --operator.
var cliCommands = map[string]struct {
	usage string
	flags []string
}{
	"register": {"register --kind KIND --delegator CF --delegate CF [flags]\n\nRegisters an office delegation (office_aa08, office_aa09) or a legal representative (legal_aa10).",
		[]string{"kind", "role", "delegator", "delegate", "delegator-name", "delegate-name", "delegate-email", "end", "reference"}},
	"revoke": {"revoke ID [--reason TEXT]\n\nRevokes the delegation ID.", []string{"reason"}},
	"show":   {"show FISCAL_CODE\n\nPrints the delegations FISCAL_CODE gave and received, as JSON.", nil},
}

// Opener builds the registry on the store of the configuration file at path, once the
// command line is understood; close releases what it opened.
type Opener func(path string) (reg *Registry, close func(), err error)

// cliArgs are the values of every flag; each command registers only its own.
type cliArgs struct {
	config, operator, kind, role, end, reference, reason string
	delegatorName, delegateName                          string
	delegator, delegate                                  Person
}

func (a *cliArgs) register(fs *flag.FlagSet, names []string) {
	fs.StringVar(&a.config, "config", a.config, "configuration `FILE`")
	fs.StringVar(&a.operator, "operator", "cli:"+os.Getenv("USER"), "operator `NAME` for the audit trail")
	all := map[string]func(){
		"kind": func() { fs.StringVar(&a.kind, "kind", "", "office_aa08, office_aa09 or legal_aa10") },
		"role": func() {
			fs.StringVar(&a.role, "role", "", "legal representative's role (legal_aa10): tutore, curatore, amministratore_di_sostegno, genitore")
		},
		"delegator":      func() { fs.StringVar(&a.delegator.FiscalCode, "delegator", "", "delegator's fiscal code") },
		"delegate":       func() { fs.StringVar(&a.delegate.FiscalCode, "delegate", "", "delegate's fiscal code") },
		"delegator-name": func() { fs.StringVar(&a.delegatorName, "delegator-name", "", `delegator's name, "Given|Family"`) },
		"delegate-name":  func() { fs.StringVar(&a.delegateName, "delegate-name", "", `delegate's name, "Given|Family"`) },
		"delegate-email": func() {
			fs.StringVar(&a.delegate.Email, "delegate-email", "", "delegate's e-mail, for the notification")
		},
		"end": func() { fs.StringVar(&a.end, "end", "", "last day of validity, YYYY-MM-DD (Italian time)") },
		"reference": func() {
			fs.StringVar(&a.reference, "reference", "", "protocol of the form or doctor's certificate (AA09)")
		},
		"reason": func() { fs.StringVar(&a.reason, "reason", "", "reason of the revocation") },
	}
	for _, n := range names {
		all[n]()
	}
}

// CLI runs "sportello delegation ..."; open builds the registry only once the command line is
// understood, so help and usage errors need no configuration or store. It returns the exit
// status: 0 on success, 1 on a refused operation, 2 on bad usage.
func CLI(ctx context.Context, args []string, stdout, stderr io.Writer, open Opener) int {
	var a cliArgs
	top := cli.NewFlags("sportello delegation")
	top.StringVar(&a.config, "config", "", "configuration `FILE`")
	if err := top.Parse(args); errors.Is(err, flag.ErrHelp) {
		cli.PrintUsage(stdout, cliUsage, nil)
		return cli.ExitOK
	} else if err != nil {
		return cli.Misuse(stderr, top, cliUsage, "%v", err)
	}
	args = top.Args()
	if len(args) == 0 {
		return cli.Misuse(stderr, top, cliUsage, "a command is required")
	}
	name, args := args[0], args[1:]
	if cli.IsHelp(name) {
		if len(args) == 0 {
			cli.PrintUsage(stdout, cliUsage, nil)
			return cli.ExitOK
		}
		name, args = args[0], []string{"--help"} // "delegation help register"
	}
	c, ok := cliCommands[name]
	if !ok {
		return cli.Misuse(stderr, top, cliUsage, "unknown command %q", name)
	}
	fs := cli.NewFlags("sportello delegation " + name)
	a.register(fs, c.flags)
	usage := "Usage: sportello delegation --config FILE " + c.usage
	positional, code, done := cli.Parse(fs, usage, args, stdout, stderr)
	if done {
		return code
	}
	want, what := 1, "one fiscal code expected"
	switch name {
	case "register":
		want, what = 0, "no arguments expected: the people are flags"
	case "revoke":
		what = "one delegation id expected"
	}
	if len(positional) != want {
		return cli.Misuse(stderr, fs, usage, "%s", what)
	}
	var endT time.Time
	if name == "register" {
		var err error
		if endT, err = (&Web{deps: Deps{Location: romeOrUTC()}}).parseEnd(a.end); err != nil {
			return cli.Misuse(stderr, fs, usage, "--end: %v", err)
		}
	}
	if a.config == "" {
		return cli.Misuse(stderr, fs, usage, "the configuration file is required (--config FILE)")
	}
	reg, closeReg, err := open(a.config)
	if err != nil {
		fmt.Fprintf(stderr, "sportello delegation %s: %v\n", name, err)
		return cli.ExitFailure
	}
	defer closeReg()
	var out any
	switch name {
	case "register":
		splitName(&a.delegator, a.delegatorName)
		splitName(&a.delegate, a.delegateName)
		out, err = reg.Register(ctx, Request{Kind: Kind(a.kind), Role: Role(a.role), Delegator: a.delegator, Delegate: a.delegate,
			End: endT, Operator: a.operator, Reference: a.reference})
	case "revoke":
		if err = reg.Revoke(ctx, positional[0], Actor{Operator: a.operator, Reason: a.reason}); err == nil {
			out = map[string]string{"status": "revoked", "id": positional[0]}
		}
	case "show":
		out, err = reg.Lookup(ctx, a.operator, positional[0])
	}
	if err != nil {
		fmt.Fprintf(stderr, "sportello delegation %s: %v\n", name, err)
		if errors.Is(err, ErrInvalid) {
			return cli.ExitUsage
		}
		return cli.ExitFailure
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(out)
	return cli.ExitOK
}

// romeOrUTC is the time zone of the end dates: Italian time, UTC when the zone database is
// missing.
func romeOrUTC() *time.Location {
	if loc, err := time.LoadLocation("Europe/Rome"); err == nil {
		return loc
	}
	return time.UTC
}

// splitName fills p's names from "Given|Family".
func splitName(p *Person, s string) {
	if s == "" {
		return
	}
	given, family, _ := strings.Cut(s, "|")
	p.GivenName, p.FamilyName = given, family
}
