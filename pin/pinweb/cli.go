package pinweb

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/inps/sportello/pin"
)

const cliUsage = `usage: sportello pin <command> [flags] FISCAL_CODE

commands:
  issue      issue a PIN dispositivo at the office and print the envelope
             --given-name --family-name --id-document [--category citizen|intermediary|official]
             [--birthdate --mobile --email --pec --postal --resident-abroad --on-behalf]
  request    a Contact-Center request of a citizen taken by phone (PIN ordinario in two halves)
             --given-name --family-name --postal and --mobile or --email
             [--birthdate --pec --resident-abroad]
  confirm    confirm a request by phone (issues the PIN)
  convert    approve|reject FISCAL_CODE [--reason]
  revoke     revoke the PIN [--reason]
  unlock     clear the lock after wrong PINs
  authorise  add|remove FISCAL_CODE --auth a,b [--municipality --convenzione] [--reason]
  show       print the record as JSON (never the PIN)

every command takes --operator NAME (default cli:$USER); every action is audited.
`

// CLI runs "sportello pin ..." over svc (built by cmd/sportello on the configured Store). It
// returns the exit status: 0 on success, 1 on a refused operation, 2 on bad usage.
func CLI(ctx context.Context, svc *pin.Service, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stderr, cliUsage)
		return 2
	}
	cmd, args := args[0], args[1:]
	sub := ""
	if cmd == "convert" || cmd == "authorise" || cmd == "authorize" {
		if len(args) == 0 {
			fmt.Fprint(stderr, cliUsage)
			return 2
		}
		sub, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("sportello pin "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	operator := fs.String("operator", "cli:"+os.Getenv("USER"), "operator name for the audit trail")
	reason := fs.String("reason", "", "reason or reference of the request")
	var p pin.Person
	category := fs.String("category", "citizen", "citizen, intermediary or official")
	idDoc := fs.String("id-document", "", "identity document shown (type and number)")
	onBehalf := fs.String("on-behalf", "", "parent or guardian applying for the holder")
	fs.StringVar(&p.GivenName, "given-name", "", "given name")
	fs.StringVar(&p.FamilyName, "family-name", "", "family name")
	fs.StringVar(&p.Birthdate, "birthdate", "", "date of birth YYYY-MM-DD")
	fs.StringVar(&p.Contacts.Mobile, "mobile", "", "mobile number")
	fs.StringVar(&p.Contacts.Email, "email", "", "e-mail address")
	fs.StringVar(&p.Contacts.PEC, "pec", "", "PEC address")
	fs.StringVar(&p.Contacts.Postal, "postal", "", "postal address")
	fs.BoolVar(&p.ResidentAbroad, "resident-abroad", false, "the holder lives abroad")
	auths := fs.String("auth", "", "comma-separated authorisations: "+strings.Join(pin.Authorisations, ","))
	municipality := fs.String("municipality", "", "municipality (convenzione holder)")
	convenzione := fs.String("convenzione", "", "reference of the municipality's convenzione")
	// Flags may come before or after the fiscal code.
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
	if len(positional) != 1 {
		fmt.Fprintf(stderr, "sportello pin %s: one fiscal code expected\n", cmd)
		return 2
	}
	cf := positional[0]
	var out any
	var err error
	switch cmd {
	case "issue":
		p.FiscalCode, p.Residence = cf, p.Contacts.Postal
		var env *pin.Envelope
		env, err = svc.IssueAtOffice(ctx, *operator, pin.OfficeRequest{Person: p, Category: pin.Category(*category), IDDocument: *idDoc, OnBehalf: *onBehalf})
		if err == nil {
			fmt.Fprint(stdout, env.Text)
		}
	case "request":
		p.FiscalCode, p.Residence = cf, p.Contacts.Postal
		var cat pin.Category
		if cat, err = contactCenterCategory(pin.Category(*category)); err == nil {
			err = svc.RequestPIN(ctx, pin.Request{Person: p, Category: cat, Channel: pin.ContactCenter, Operator: *operator})
		}
	case "confirm":
		err = svc.ConfirmRequest(ctx, *operator, cf)
	case "convert":
		if sub != "approve" && sub != "reject" {
			fmt.Fprint(stderr, cliUsage)
			return 2
		}
		err = svc.DecideConversion(ctx, *operator, cf, sub == "approve", *reason)
	case "revoke":
		err = svc.Revoke(ctx, *operator, cf, *reason)
	case "unlock":
		err = svc.Unlock(ctx, *operator, cf)
	case "authorise", "authorize":
		list := strings.Split(*auths, ",")
		switch sub {
		case "add":
			out, err = svc.AddAuthorisations(ctx, *operator, pin.Grant{FiscalCode: cf, Municipality: *municipality, Convenzione: *convenzione, Authorisations: list})
		case "remove":
			out, err = svc.RemoveAuthorisations(ctx, *operator, cf, list, *reason)
		default:
			fmt.Fprint(stderr, cliUsage)
			return 2
		}
	case "show":
		out, err = svc.Show(ctx, *operator, cf)
	default:
		fmt.Fprint(stderr, cliUsage)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "sportello pin %s: %v\n", cmd, err)
		return 1
	}
	if out != nil {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(out)
	} else if cmd != "issue" {
		fmt.Fprintln(stdout, "ok")
	}
	return 0
}
