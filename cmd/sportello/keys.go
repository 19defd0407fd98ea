package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/inps/sportello/broker/keys"
	"github.com/inps/sportello/config"
	"github.com/inps/sportello/internal/audit"
	"github.com/inps/sportello/internal/cli"
)

const keysUsage = `Usage: sportello keys init --config FILE
       sportello keys rotate --config FILE
       sportello keys init|rotate --data DIR

Commands:
  init     create the first signing key set, once (serve never generates one): on Redis
           sealed in the store, the key files of keys.dir imported; with the memory store as
           files in keys.dir. A key set in place is left as it is
  rotate   promote the next signing keys to active and retire the active ones; running
           instances pick them up within 10 seconds (at once on SIGHUP)`

const keysInitUsage = `Usage: sportello keys init --config FILE
       sportello keys init FILE
       sportello keys init --data DIR

Creates the first signing key set, an active and a next key per algorithm (ES256, RS256): on
Redis sealed in the store with keys.crypto_key, importing the key files keys.dir holds (if
any); with the memory store (or --data: dev mode's) as files in keys.dir. Outside dev mode
nothing else creates one: serve without a key set stops and names this command. A key set
already in place is left as it is ("nothing changed", exit 0). Audited and logged.`

const keysRotateUsage = `Usage: sportello keys rotate --config FILE
       sportello keys rotate FILE
       sportello keys rotate --data DIR

Promotes the next signing keys to active and retires the active ones: in the store (Redis)
or in the key files (memory store; --data: dev mode's). Running instances pick the new keys
up within 10 seconds (at once on SIGHUP). The rotation is audited. Without a key set it is
refused: "sportello keys init" creates one.`

func cmdKeys(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	top := cli.NewFlags("sportello keys")
	switch {
	case len(args) == 0:
		return cli.Misuse(stderr, top, keysUsage, "a command is required")
	case cli.IsHelp(args[0]) && len(args) == 1:
		cli.PrintUsage(stdout, keysUsage, nil)
		return cli.ExitOK
	case cli.IsHelp(args[0]):
		args = append(args[1:len(args):len(args)], "--help") // "keys help rotate"
	}
	usage := map[string]string{"init": keysInitUsage, "rotate": keysRotateUsage}[args[0]]
	if usage == "" {
		return cli.Misuse(stderr, top, keysUsage, "unknown command %q", args[0])
	}
	fs := cli.NewFlags("sportello keys " + args[0])
	flagPath := cli.ConfigFlag(fs)
	data := fs.String("data", "", "the data directory `DIR` of dev mode (instead of --config)")
	rest, code, done := cli.Parse(fs, usage, args[1:], stdout, stderr)
	if done {
		return code
	}
	path := ""
	if *data == "" || *flagPath != "" || len(rest) > 0 {
		var ok bool
		if path, code, ok = cli.ConfigPath(fs, usage, *flagPath, rest, stderr); !ok {
			return code
		}
		if *data != "" {
			return cli.Misuse(stderr, fs, usage, "--config and --data exclude each other")
		}
	}
	var cfg *config.Config
	var err error
	from := "--config " + path
	if path != "" {
		cfg, err = config.Load(path, configOptions())
	} else {
		from = "--data " + *data
		cfg, err = config.DevConfig("", "", *data, configOptions())
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if args[0] == "init" {
		return keysInit(ctx, cfg, from, stdout, stderr)
	}
	return keysRotate(ctx, cfg, from, stdout, stderr)
}

// keysInitHint names, on an error saying there is no key set, the command that creates one;
// from is how the command was given the configuration ("--config FILE").
func keysInitHint(err error, from string) error {
	if errors.Is(err, keys.ErrNoKeySet) {
		return fmt.Errorf("%w: create it once with `sportello keys init %s` (an operator's action, audited)", err, from)
	}
	return err
}

// keysInit creates the first signing key set, the one explicit way to make keys outside dev
// mode: on Redis sealed in the store (the key files of keys.dir, if any, imported), with the
// memory store as files in keys.dir. A key set in place is left alone. Audited and logged.
func keysInit(ctx context.Context, cfg *config.Config, from string, stdout, stderr io.Writer) int {
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	files := &keys.FileSource{Dir: cfg.Keys.Dir}
	// Audited like a rotation: the operators' trail opens first, so no key set is ever
	// created unaudited.
	aw, closeAudit, err := operatorAuditor(cfg, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "audit trail:", err, "(nothing created)")
		return 1
	}
	defer closeAudit()
	where := cfg.Keys.Dir
	var res *keys.InitResult
	if cfg.Store.Type == "redis" {
		where = "the store"
		st, err := openStore(ctx, cfg)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		defer st.Close()
		key, err := config.DecodeKey(cfg.Keys.CryptoKey.Value)
		if err != nil {
			fmt.Fprintln(stderr, "keys.crypto_key:", err)
			return 1
		}
		seed, err := files.Read(ctx)
		if err != nil {
			fmt.Fprintln(stderr, "keys.dir:", err, "(nothing created)")
			return 1
		}
		res, err = (&keys.StoreSource{Store: st, CryptoKey: key}).Init(ctx, time.Now(), seed)
		if err != nil {
			fmt.Fprintln(stderr, "key set not created:", err)
			return 1
		}
	} else if res, err = files.Init(ctx, time.Now()); err != nil {
		fmt.Fprintln(stderr, "key set not created:", err)
		return 1
	}
	fields := printKeySet(stdout, res.Set)
	if !res.Created {
		fmt.Fprintf(stdout, "a key set is already in %s: nothing changed (`sportello keys rotate %s` rotates it)\n", where, from)
		return 0
	}
	fields["generated"] = res.Generated
	fields["store"] = cfg.Store.Type
	if err := aw.Audit(ctx, audit.Event{Time: time.Now().UTC(), Type: "keys.initialised", Actor: "cli:" + os.Getenv("USER"), Fields: fields}); err != nil {
		fmt.Fprintln(stderr, "created, but the audit record failed:", err)
		return 1
	}
	logger.Info("signing key set created", "in", where, "generated", res.Generated, "keys", len(res.Set.Keys))
	fmt.Fprintf(stdout, "created the signing key set in %s; serve signs with the active keys\n", where)
	return 0
}

// keysRotate promotes the next signing keys to active (an audited operator action).
func keysRotate(ctx context.Context, cfg *config.Config, from string, stdout, stderr io.Writer) int {
	grace := cfg.Keys.RetiredGrace
	if grace == 0 {
		grace = max(cfg.Tokens.AccessTTL, cfg.Tokens.IDTTL) + time.Minute
	}
	var src keys.Source
	if cfg.Store.Type == "redis" {
		st, err := openStore(ctx, cfg)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		defer st.Close()
		key, err := config.DecodeKey(cfg.Keys.CryptoKey.Value)
		if err != nil {
			fmt.Fprintln(stderr, "keys.crypto_key:", err)
			return 1
		}
		src = &keys.StoreSource{Store: st, CryptoKey: key}
	} else {
		// With the in-memory store the key files are the key set; the running process
		// re-reads them every 10 seconds (or at once on SIGHUP).
		src = &keys.FileSource{Dir: cfg.Keys.Dir}
	}
	// The rotation is an operator action: audited (key ids only) in the operators' trail,
	// which is opened first so that a rotation never happens unaudited.
	aw, closeAudit, err := operatorAuditor(cfg, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "audit trail:", err, "(nothing rotated)")
		return 1
	}
	defer closeAudit()
	ks, err := src.Rotate(ctx, time.Now(), grace)
	if err != nil {
		fmt.Fprintln(stderr, "rotation failed:", keysInitHint(err, from))
		return 1
	}
	fields := printKeySet(stdout, ks)
	if err := aw.Audit(ctx, audit.Event{Time: time.Now().UTC(), Type: "keys.rotated", Actor: "cli:" + os.Getenv("USER"), Fields: fields}); err != nil {
		fmt.Fprintln(stderr, "rotated, but the audit record failed:", err)
		return 1
	}
	if cfg.Store.Type != "redis" {
		fmt.Fprintln(stdout, "rotated the key files; the running broker loads them within 10 seconds (at once on SIGHUP)")
	} else {
		fmt.Fprintln(stdout, "rotated; every instance picks the new keys up within 10 seconds")
	}
	return 0
}

// printKeySet lists the keys (state, algorithm, id; never key material) and returns the ids by
// state, for the audit record.
func printKeySet(stdout io.Writer, ks *keys.Set) map[string]any {
	fields := map[string]any{}
	for _, k := range ks.Keys {
		fmt.Fprintf(stdout, "%-8s %-6s %s\n", k.State, k.Alg, k.ID)
		ids, _ := fields[k.State].([]string)
		fields[k.State] = append(ids, k.ID)
	}
	return fields
}
