package pinweb

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/inps/sportello/internal/cli"
	"github.com/inps/sportello/pin"
)

const cliUsage = `Usage: sportello pin --config FILE COMMAND [flags] FISCAL_CODE

INPS PIN operations of the offices and of the Contact Center on the configured store. No
command ever prints a PIN; every action is audited.

Commands:
  issue      issue a PIN dispositivo at the office and print the envelope
  request    a Contact-Center request of a citizen taken by phone (PIN ordinario in two halves)
  confirm    confirm a request by phone (issues the PIN)
  convert    approve|reject the conversion of a PIN ordinario into a dispositivo
  revoke     revoke the PIN
  unlock     clear the lock after wrong PINs
  authorise  add|remove authorisations of an official
  show       print the record as JSON (never the PIN)

Every command takes --config FILE (before or after the command) and --operator NAME
(default cli:$USER). "sportello pin COMMAND --help" lists a command's flags.`

// cliCommand is one "sportello pin" command: its usage line, its sub-actions (convert
// approve|reject) and the flags it takes besides --config and --operator.
type cliCommand struct {
	usage string
	subs  []string
	flags []string
}

var cliCommands = map[string]cliCommand{
	"issue": {"issue [flags] FISCAL_CODE\n\nIssues a PIN dispositivo at the office after an identity check and prints the envelope.", nil,
		[]string{"given-name", "family-name", "id-document", "category", "birthdate", "mobile", "email", "pec", "postal", "resident-abroad", "on-behalf"}},
	"request": {"request [flags] FISCAL_CODE\n\nRecords a citizen's request taken by phone: a PIN ordinario sent in two halves (SMS or e-mail, and post).\nNeeds --given-name, --family-name, --postal and --mobile or --email.", nil,
		[]string{"given-name", "family-name", "category", "birthdate", "mobile", "email", "pec", "postal", "resident-abroad"}},
	"confirm": {"confirm FISCAL_CODE\n\nConfirms a request by phone: the PIN is issued.", nil, nil},
	"convert": {"convert approve|reject FISCAL_CODE [--reason TEXT]\n\nDecides the conversion of a PIN ordinario into a PIN dispositivo.", []string{"approve", "reject"}, []string{"reason"}},
	"revoke":  {"revoke FISCAL_CODE [--reason TEXT]\n\nRevokes the PIN.", nil, []string{"reason"}},
	"unlock":  {"unlock FISCAL_CODE\n\nClears the lock after wrong PINs.", nil, nil},
	"authorise": {"authorise add|remove FISCAL_CODE --auth A,B [--municipality NAME --convenzione REF] [--reason TEXT]\n\nAdds or removes authorisations of an official (add needs the municipality's convenzione).",
		[]string{"add", "remove"}, []string{"auth", "municipality", "convenzione", "reason"}},
	"show": {"show FISCAL_CODE\n\nPrints the record as JSON (never the PIN).", nil, nil},
}

// Opener builds the PIN service on the store of the configuration file at path, once the
// command line is understood; close releases what it opened.
type Opener func(path string) (svc *pin.Service, close func(), err error)

// cliArgs are the values of every flag; each command registers only its own.
type cliArgs struct {
	config, operator, reason, category, idDoc, onBehalf string
	auths, municipality, convenzione                    string
	person                                              pin.Person
}

func (a *cliArgs) register(fs *flag.FlagSet, names []string) {
	fs.StringVar(&a.config, "config", a.config, "configuration `FILE`")
	fs.StringVar(&a.operator, "operator", "cli:"+os.Getenv("USER"), "operator `NAME` for the audit trail")
	p := &a.person
	all := map[string]func(){
		"reason":          func() { fs.StringVar(&a.reason, "reason", "", "reason or reference of the request") },
		"category":        func() { fs.StringVar(&a.category, "category", "citizen", "citizen, intermediary or official") },
		"id-document":     func() { fs.StringVar(&a.idDoc, "id-document", "", "identity document shown (type and number)") },
		"on-behalf":       func() { fs.StringVar(&a.onBehalf, "on-behalf", "", "parent or guardian applying for the holder") },
		"given-name":      func() { fs.StringVar(&p.GivenName, "given-name", "", "given name") },
		"family-name":     func() { fs.StringVar(&p.FamilyName, "family-name", "", "family name") },
		"birthdate":       func() { fs.StringVar(&p.Birthdate, "birthdate", "", "date of birth YYYY-MM-DD") },
		"mobile":          func() { fs.StringVar(&p.Contacts.Mobile, "mobile", "", "mobile number") },
		"email":           func() { fs.StringVar(&p.Contacts.Email, "email", "", "e-mail address") },
		"pec":             func() { fs.StringVar(&p.Contacts.PEC, "pec", "", "PEC address") },
		"postal":          func() { fs.StringVar(&p.Contacts.Postal, "postal", "", "postal address") },
		"resident-abroad": func() { fs.BoolVar(&p.ResidentAbroad, "resident-abroad", false, "the holder lives abroad") },
		"auth": func() {
			fs.StringVar(&a.auths, "auth", "", "comma-separated authorisations: "+strings.Join(pin.Authorisations, ","))
		},
		"municipality": func() { fs.StringVar(&a.municipality, "municipality", "", "municipality (convenzione holder)") },
		"convenzione":  func() { fs.StringVar(&a.convenzione, "convenzione", "", "reference of the municipality's convenzione") },
	}
	for _, n := range names {
		all[n]()
	}
}

// CLI runs "sportello pin ..."; open builds the service only once the command line is
// understood, so help and usage errors need no configuration or store. It returns the exit
// status: 0 on success, 1 on a refused operation, 2 on bad usage.
func CLI(ctx context.Context, args []string, stdout, stderr io.Writer, open Opener) int {
	var a cliArgs
	// Flags before the command: --config (the historical place) and --help.
	top := cli.NewFlags("sportello pin")
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
		name, args = args[0], []string{"--help"} // "pin help issue"
	}
	if name == "authorize" {
		name = "authorise"
	}
	c, ok := cliCommands[name]
	if !ok {
		return cli.Misuse(stderr, top, cliUsage, "unknown command %q", name)
	}
	fs := cli.NewFlags("sportello pin " + name)
	a.register(fs, c.flags)
	usage := "Usage: sportello pin --config FILE " + c.usage
	positional, code, done := cli.Parse(fs, usage, args, stdout, stderr)
	if done {
		return code
	}
	sub := ""
	if c.subs != nil {
		if len(positional) == 0 || !slices.Contains(c.subs, positional[0]) {
			return cli.Misuse(stderr, fs, usage, "want %s", strings.Join(c.subs, " or "))
		}
		sub, positional = positional[0], positional[1:]
	}
	if len(positional) != 1 {
		return cli.Misuse(stderr, fs, usage, "one fiscal code expected")
	}
	if a.config == "" {
		return cli.Misuse(stderr, fs, usage, "the configuration file is required (--config FILE)")
	}
	svc, closeSvc, err := open(a.config)
	if err != nil {
		fmt.Fprintf(stderr, "sportello pin %s: %v\n", name, err)
		return cli.ExitFailure
	}
	defer closeSvc()
	return runCommand(ctx, svc, name, sub, positional[0], &a, stdout, stderr)
}

func runCommand(ctx context.Context, svc *pin.Service, cmd, sub, cf string, a *cliArgs, stdout, stderr io.Writer) int {
	p, op := a.person, a.operator
	var out any
	var err error
	switch cmd {
	case "issue":
		p.FiscalCode, p.Residence = cf, p.Contacts.Postal
		var env *pin.Envelope
		env, err = svc.IssueAtOffice(ctx, op, pin.OfficeRequest{Person: p, Category: pin.Category(a.category), IDDocument: a.idDoc, OnBehalf: a.onBehalf})
		if err == nil {
			fmt.Fprint(stdout, env.Text)
		}
	case "request":
		p.FiscalCode, p.Residence = cf, p.Contacts.Postal
		var cat pin.Category
		if cat, err = contactCenterCategory(pin.Category(a.category)); err == nil {
			err = svc.RequestPIN(ctx, pin.Request{Person: p, Category: cat, Channel: pin.ContactCenter, Operator: op})
		}
	case "confirm":
		err = svc.ConfirmRequest(ctx, op, cf)
	case "convert":
		err = svc.DecideConversion(ctx, op, cf, sub == "approve", a.reason)
	case "revoke":
		err = svc.Revoke(ctx, op, cf, a.reason)
	case "unlock":
		err = svc.Unlock(ctx, op, cf)
	case "authorise":
		list := strings.Split(a.auths, ",")
		if sub == "add" {
			out, err = svc.AddAuthorisations(ctx, op, pin.Grant{FiscalCode: cf, Municipality: a.municipality, Convenzione: a.convenzione, Authorisations: list})
		} else {
			out, err = svc.RemoveAuthorisations(ctx, op, cf, list, a.reason)
		}
	case "show":
		out, err = svc.Show(ctx, op, cf)
	}
	if err != nil {
		fmt.Fprintf(stderr, "sportello pin %s: %v\n", cmd, err)
		return cli.ExitFailure
	}
	if out != nil {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(out)
	} else if cmd != "issue" {
		fmt.Fprintln(stdout, "ok")
	}
	return cli.ExitOK
}
