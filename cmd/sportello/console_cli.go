package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/inps/sportello/broker"
	"github.com/inps/sportello/config"
	"github.com/inps/sportello/internal/audit"
	"github.com/inps/sportello/internal/cli"
	"github.com/inps/sportello/internal/fiscalcode"
	"github.com/inps/sportello/internal/heartbeat"
	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/internal/switches"
)

const consoleUsage = `Usage: sportello console switches --config FILE
       sportello console switch --config FILE --kind KIND --id ID --off --reason TEXT [--expires TIME]
       sportello console switch --config FILE --kind KIND --id ID --on
       sportello console replicas --config FILE
       sportello console revoke-person --config FILE --fiscal-code CF

Commands (the console API's, without the browser; they need the shared Store, store.type redis):
  switches  list the overrides in force on every replica
  switch    switch an IdP (idp: its entityID, or a CIE/CNS CA's certificate SHA-256), a
            provider (provider) or a client (client) off with a reason and an optional expiry, or back on; every replica applies it within
            two seconds. Audited in the operators' trail
  replicas  list the replicas seen recently (their heartbeats)
  revoke-person
            end every SSO session of a person (their clients are told by back-channel
            logout, delivered by the replicas) and revoke every grant they obtained until
            now. Audited in the operators' trail`

const consoleSwitchUsage = `Usage: sportello console switch --config FILE --kind KIND --id ID --off --reason TEXT [--expires TIME]
       sportello console switch --config FILE --kind KIND --id ID --on

Switches KIND (idp, provider, client) ID off, with --reason and an optional --expires (RFC 3339
time), or back on (--on removes the override). Refused, with nothing changed, when the Store is
unreachable. Audited (console.switch) in the operators' trail.`

const consoleSwitchesUsage = `Usage: sportello console switches --config FILE

Lists the overrides in force on every replica: kind, id, who set it, when, its expiry and
reason.`

const consoleRevokePersonUsage = `Usage: sportello console revoke-person --config FILE --fiscal-code CF

Ends every SSO session of the person with fiscal code CF and revokes every grant they obtained
until now, as subject or as a delegate: refresh tokens, access tokens presented back to the
broker, codes not yet redeemed (the console API's revoke-person). The logout tokens for their
clients are queued in the shared Store; the running replicas sign and deliver them. Prints how
many sessions were ended. Audited (console.revoke_person) in the operators' trail.`

const consoleReplicasUsage = `Usage: sportello console replicas --config FILE

Lists the replicas whose heartbeat the shared Store holds: id, hostname, version, start and
last heartbeat.`

func cmdConsole(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	top := cli.NewFlags("sportello console")
	switch {
	case len(args) == 0:
		return cli.Misuse(stderr, top, consoleUsage, "a command is required")
	case cli.IsHelp(args[0]) && len(args) == 1:
		cli.PrintUsage(stdout, consoleUsage, nil)
		return cli.ExitOK
	case cli.IsHelp(args[0]):
		args = append(args[1:len(args):len(args)], "--help")
	}
	usage := map[string]string{"switches": consoleSwitchesUsage, "switch": consoleSwitchUsage, "replicas": consoleReplicasUsage,
		"revoke-person": consoleRevokePersonUsage}[args[0]]
	if usage == "" {
		return cli.Misuse(stderr, top, consoleUsage, "unknown command %q", args[0])
	}
	fs := cli.NewFlags("sportello console " + args[0])
	flagPath := cli.ConfigFlag(fs)
	var kind, id, reason, expires, fiscalCode *string
	var off, on *bool
	if args[0] == "revoke-person" {
		fiscalCode = fs.String("fiscal-code", "", "the person's fiscal code `CF`")
	}
	if args[0] == "switch" {
		kind = fs.String("kind", "", "what to switch: `KIND` idp, provider or client")
		id = fs.String("id", "", "its `ID`: an IdP's entityID or a CA's certificate SHA-256, a provider's name, a client_id")
		reason = fs.String("reason", "", "why (required with --off): `TEXT`")
		expires = fs.String("expires", "", "when the override ends by itself, an RFC 3339 `TIME` (optional)")
		off = fs.Bool("off", false, "switch it off")
		on = fs.Bool("on", false, "switch it back on")
	}
	rest, code, done := cli.Parse(fs, usage, args[1:], stdout, stderr)
	if done {
		return code
	}
	path, code, ok := cli.ConfigPath(fs, usage, *flagPath, rest, stderr)
	if !ok {
		return code
	}
	if fiscalCode != nil && *fiscalCode == "" {
		return cli.Misuse(stderr, fs, usage, "--fiscal-code is required")
	}
	var ch switches.Change
	if args[0] == "switch" {
		if *off == *on {
			return cli.Misuse(stderr, fs, usage, "exactly one of --off and --on is required")
		}
		ch = switches.Change{Kind: switches.Kind(*kind), ID: *id, Enabled: *on, Reason: *reason, Actor: "cli:" + os.Getenv("USER")}
		if *expires != "" {
			t, err := time.Parse(time.RFC3339, *expires)
			if err != nil {
				return cli.Misuse(stderr, fs, usage, "--expires must be an RFC 3339 time")
			}
			ch.ExpiresAt = &t
		}
	}
	cfg, err := config.Load(path, configOptions())
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if cfg.Store.Type != "redis" {
		fmt.Fprintln(stderr, "the console commands work on the shared Store (store.type: redis); with the memory store each process has its own: use the console API of the running broker")
		return 1
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer st.Close()
	switch args[0] {
	case "switches":
		return consoleListSwitches(ctx, st, stdout, stderr)
	case "replicas":
		return consoleReplicas(ctx, st, stdout, stderr)
	case "revoke-person":
		return consoleRevokePerson(ctx, cfg, st, *fiscalCode, stdout, stderr)
	}
	return consoleSwitch(ctx, cfg, st, ch, stdout, stderr)
}

func consoleListSwitches(ctx context.Context, st store.Store, stdout, stderr io.Writer) int {
	list, err := (&switches.Switches{Store: st}).List(ctx)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tID\tSET BY\tSET AT\tEXPIRES\tREASON")
	for _, s := range list {
		exp := "-"
		if s.ExpiresAt != nil {
			exp = s.ExpiresAt.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.Kind, s.ID, s.Actor, s.SetAt.Format(time.RFC3339), exp, s.Reason)
	}
	_ = tw.Flush()
	return 0
}

func consoleReplicas(ctx context.Context, st store.Store, stdout, stderr io.Writer) int {
	list, err := heartbeat.List(ctx, st)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tHOSTNAME\tVERSION\tSTARTED\tLAST SEEN")
	for _, r := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.Hostname, r.Version, r.Started.Format(time.RFC3339), r.LastSeen.Format(time.RFC3339))
	}
	_ = tw.Flush()
	return 0
}

// consoleSwitch applies one change, audited in the operators' trail (opened first, so a
// change never happens unaudited).
func consoleSwitch(ctx context.Context, cfg *config.Config, st store.Store, ch switches.Change, stdout, stderr io.Writer) int {
	aw, closeAudit, err := operatorAuditor(cfg, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "audit trail:", err, "(nothing changed)")
		return 1
	}
	defer closeAudit()
	sw, err := (&switches.Switches{Store: st}).Set(ctx, ch)
	if err != nil {
		fmt.Fprintln(stderr, err, "(nothing changed)")
		return 1
	}
	fields := map[string]any{"kind": string(sw.Kind), "id": sw.ID, "enabled": sw.Enabled}
	if sw.Reason != "" {
		fields["reason"] = sw.Reason
	}
	if sw.ExpiresAt != nil {
		fields["expires_at"] = sw.ExpiresAt.Format(time.RFC3339)
	}
	if err := aw.Audit(ctx, audit.Event{Time: time.Now().UTC(), Type: "console.switch", Actor: sw.Actor, Fields: fields}); err != nil {
		fmt.Fprintln(stderr, "switched, but the audit record failed:", err)
		return 1
	}
	state := "off"
	if sw.Enabled {
		state = "on"
	}
	fmt.Fprintf(stdout, "%s %s switched %s; every replica applies it within %s\n", sw.Kind, sw.ID, state, switches.MaxRefresh)
	return 0
}

// consoleRevokePerson revokes a person over the shared Store (broker.RevokePerson), audited in
// the operators' trail (opened first, so a revocation never happens unaudited).
func consoleRevokePerson(ctx context.Context, cfg *config.Config, st store.Store, cf string, stdout, stderr io.Writer) int {
	aw, closeAudit, err := operatorAuditor(cfg, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "audit trail:", err, "(nothing changed)")
		return 1
	}
	defer closeAudit()
	subjectKey, err := config.DecodeKey(cfg.Subject.Key.Value)
	if err != nil {
		fmt.Fprintln(stderr, "subject.key:", err, "(nothing changed)")
		return 1
	}
	normal, err := fiscalcode.Parse(cf)
	if err != nil {
		fmt.Fprintln(stderr, "--fiscal-code:", err, "(nothing changed)")
		return 1
	}
	n, err := broker.RevokePerson(ctx, cfg, st, subjectKey, normal)
	actor := "cli:" + os.Getenv("USER")
	fields := map[string]any{"fiscal_number": normal, "revoked": n}
	if err != nil {
		fields["error"] = err.Error()
	}
	if aerr := aw.Audit(ctx, audit.Event{Time: time.Now().UTC(), Type: "console.revoke_person", Actor: actor, Fields: fields}); aerr != nil {
		fmt.Fprintln(stderr, "the audit record failed:", aerr)
		return 1
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: %d sessions ended, every grant until now revoked\n", normal, n)
	return 0
}
