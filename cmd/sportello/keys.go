package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/inps/sportello/broker"
	"github.com/inps/sportello/config"
	"github.com/inps/sportello/internal/cli"
	"github.com/inps/sportello/providers"
)

const keysUsage = `Usage: sportello keys rotate --config FILE
       sportello keys rotate --data DIR

Commands:
  rotate   promote the next signing keys to active and retire the active ones; running
           instances pick them up within 10 seconds (at once on SIGHUP)`

const keysRotateUsage = `Usage: sportello keys rotate --config FILE
       sportello keys rotate FILE
       sportello keys rotate --data DIR

Promotes the next signing keys to active and retires the active ones: in the store (Redis)
or in the key files (memory store; --data: dev mode's). Running instances pick the new keys
up within 10 seconds (at once on SIGHUP). The rotation is audited.`

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
	if args[0] != "rotate" {
		return cli.Misuse(stderr, top, keysUsage, "unknown command %q", args[0])
	}
	fs := cli.NewFlags("sportello keys rotate")
	flagPath := cli.ConfigFlag(fs)
	data := fs.String("data", "", "the data directory `DIR` of dev mode (instead of --config)")
	rest, code, done := cli.Parse(fs, keysRotateUsage, args[1:], stdout, stderr)
	if done {
		return code
	}
	path := ""
	if *data == "" || *flagPath != "" || len(rest) > 0 {
		var ok bool
		if path, code, ok = cli.ConfigPath(fs, keysRotateUsage, *flagPath, rest, stderr); !ok {
			return code
		}
		if *data != "" {
			return cli.Misuse(stderr, fs, keysRotateUsage, "--config and --data exclude each other")
		}
	}
	var cfg *config.Config
	var err error
	if path != "" {
		cfg, err = config.Load(path, configOptions())
	} else {
		cfg, err = config.DevConfig("", "", *data, configOptions())
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	grace := cfg.Keys.RetiredGrace
	if grace == 0 {
		grace = max(cfg.Tokens.AccessTTL, cfg.Tokens.IDTTL) + time.Minute
	}
	var src broker.KeySource
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
		src = keySource(cfg, st, key)
	} else {
		// With the in-memory store the key files are the key set; the running process
		// re-reads them every 10 seconds (or at once on SIGHUP).
		src = &broker.FileKeySource{Dir: cfg.Keys.Dir, Generate: true}
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
		fmt.Fprintln(stderr, "rotation failed:", err)
		return 1
	}
	fields := map[string]any{}
	for _, k := range ks.Keys {
		fmt.Fprintf(stdout, "%-8s %-6s %s\n", k.State, k.Alg, k.ID)
		ids, _ := fields[k.State].([]string)
		fields[k.State] = append(ids, k.ID)
	}
	if err := aw.Audit(ctx, providers.AuditEvent{Time: time.Now().UTC(), Type: "keys.rotated", Actor: "cli:" + os.Getenv("USER"), Fields: fields}); err != nil {
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
