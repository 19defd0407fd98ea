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
)

const cliUsage = `usage: sportello delegation <command> [flags] ARGS

commands:
  register  --kind office_aa08|office_aa09|legal_aa10 --delegator CF --delegate CF
            [--role tutore|curatore|amministratore_di_sostegno|genitore] [--end YYYY-MM-DD]
            [--reference REF] [--delegator-name "Given|Family"] [--delegate-name "Given|Family"]
            [--delegate-email ADDR]
  revoke    ID [--reason TEXT]
  show      FISCAL_CODE      (given and received delegations, as JSON)

every command takes --operator NAME (default cli:$USER); every action is audited.
`

// CLI runs "sportello delegation ..." over reg (built by cmd/sportello on the configured
// Store). It returns the exit status: 0 on success, 1 on a refused operation, 2 on bad usage.
func CLI(ctx context.Context, reg *Registry, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stderr, cliUsage)
		return 2
	}
	cmd, args := args[0], args[1:]
	fs := flag.NewFlagSet("sportello delegation "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	operator := fs.String("operator", "cli:"+os.Getenv("USER"), "operator name for the audit trail")
	kind := fs.String("kind", "", "office_aa08, office_aa09 or legal_aa10")
	role := fs.String("role", "", "legal representative's role (legal_aa10)")
	var delegator, delegate Person
	fs.StringVar(&delegator.FiscalCode, "delegator", "", "delegator's fiscal code")
	fs.StringVar(&delegate.FiscalCode, "delegate", "", "delegate's fiscal code")
	delegatorName := fs.String("delegator-name", "", `delegator's name, "Given|Family"`)
	delegateName := fs.String("delegate-name", "", `delegate's name, "Given|Family"`)
	fs.StringVar(&delegate.Email, "delegate-email", "", "delegate's e-mail, for the notification")
	end := fs.String("end", "", "last day of validity, YYYY-MM-DD (Italian time)")
	reference := fs.String("reference", "", "protocol of the form or doctor's certificate (AA09)")
	reason := fs.String("reason", "", "reason of the revocation")
	// Flags may come before or after the positional argument.
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	w := &Web{deps: Deps{}}
	if loc, err := time.LoadLocation("Europe/Rome"); err == nil {
		w.deps.Location = loc
	} else {
		w.deps.Location = time.UTC
	}
	var out any
	var err error
	switch cmd {
	case "register":
		if len(positional) != 0 {
			fmt.Fprint(stderr, cliUsage)
			return 2
		}
		splitName(&delegator, *delegatorName)
		splitName(&delegate, *delegateName)
		var endT time.Time
		if endT, err = w.parseEnd(*end); err != nil {
			fmt.Fprintf(stderr, "sportello delegation register: --end: %v\n", err)
			return 2
		}
		out, err = reg.Register(ctx, Request{Kind: Kind(*kind), Role: Role(*role), Delegator: delegator, Delegate: delegate,
			End: endT, Operator: *operator, Reference: *reference})
	case "revoke":
		if len(positional) != 1 {
			fmt.Fprintln(stderr, "sportello delegation revoke: one delegation id expected")
			return 2
		}
		if err = reg.Revoke(ctx, positional[0], Actor{Operator: *operator, Reason: *reason}); err == nil {
			out = map[string]string{"status": "revoked", "id": positional[0]}
		}
	case "show":
		if len(positional) != 1 {
			fmt.Fprintln(stderr, "sportello delegation show: one fiscal code expected")
			return 2
		}
		out, err = reg.Lookup(ctx, *operator, positional[0])
	default:
		fmt.Fprintf(stderr, "sportello delegation: unknown command %q\n%s", cmd, cliUsage)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "sportello delegation %s: %v\n", cmd, err)
		if errors.Is(err, ErrInvalid) {
			return 2
		}
		return 1
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(out)
	return 0
}

// splitName fills p's names from "Given|Family".
func splitName(p *Person, s string) {
	if s == "" {
		return
	}
	given, family, _ := strings.Cut(s, "|")
	p.GivenName, p.FamilyName = given, family
}
