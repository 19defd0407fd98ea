package oidcfed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/inps/sportello/config"
	"github.com/inps/sportello/internal/cli"
)

// LoadFunc loads a configuration file and returns its first oidcfed section.
type LoadFunc func(path string) (*Config, error)

// ConfigLoader is the LoadFunc over config.Load.
func ConfigLoader(opts config.Options) LoadFunc {
	return func(path string) (*Config, error) {
		c, err := config.Load(path, opts)
		if err != nil {
			return nil, err
		}
		ids := make([]string, 0, len(c.Providers))
		for id, p := range c.Providers {
			if p.Type == Type.Name {
				ids = append(ids, id)
			}
		}
		if len(ids) == 0 {
			return nil, errors.New("no provider section of type oidcfed")
		}
		sort.Strings(ids)
		p := c.Providers[ids[0]]
		cfg, errs := Decode(ids[0], &p, c.Dev)
		if len(errs) > 0 {
			return nil, errors.Join(errs...)
		}
		if cfg.EntityID == "" {
			cfg.EntityID = strings.TrimRight(c.Issuer, "/")
		}
		return cfg, nil
	}
}

const cliUsage = `Usage: sportello federation COMMAND [flags]

Commands:
  show         resolve and print each OpenID Provider's trust chain, its expiry and trust marks
  keys init    create the federation and RP key set (once): in the store with Redis, else keys_dir
  keys rotate  make each next key active, publish a new next key, drop retired keys past --grace

"sportello federation COMMAND --help" lists a command's flags.`

const showUsage = `Usage: sportello federation show --config FILE

Resolves, now and without the cache, the trust chain of every OpenID Provider of the
configuration's first oidcfed section to its trust anchors, and prints each chain (entity,
statement expiry), its expiry and the trust marks that verified. Exit 1 when an OP has none.`

const keysUsage = `Usage: sportello federation keys init --config FILE
       sportello federation keys rotate --config FILE [--grace DURATION]

init creates the key set (federation signing, RP signing, RP encryption: an active and a next
key each) in the store, sealed with keys.crypto_key, with the redis store, else in keys_dir; rotate makes each next key active (its peers already have it: it was
published as next), adds a new next key and keeps the old active one published as retired
for --grace, so ID tokens and userinfo answers in flight still verify and decrypt. Running
brokers load the new set within a minute; re-register nothing (the entity configuration
publishes the new keys), but tell the trust anchor the new federation key when it pins it.`

// CLI runs "sportello federation ...". It returns the exit status.
func CLI(ctx context.Context, args []string, stdout, stderr io.Writer, load LoadFunc) int {
	top := cli.NewFlags("sportello federation")
	switch {
	case len(args) == 0:
		return cli.Misuse(stderr, top, cliUsage, "a command is required")
	case cli.IsHelp(args[0]) && len(args) == 1:
		cli.PrintUsage(stdout, cliUsage, nil)
		return cli.ExitOK
	case cli.IsHelp(args[0]):
		args = append(args[1:], "--help")
	}
	switch args[0] {
	case "show":
		return cliShow(ctx, args[1:], stdout, stderr, load)
	case "keys":
		return cliKeys(ctx, args[1:], stdout, stderr, load)
	}
	return cli.Misuse(stderr, top, cliUsage, "unknown command %q", args[0])
}

func cliShow(ctx context.Context, args []string, stdout, stderr io.Writer, load LoadFunc) int {
	fs := cli.NewFlags("sportello federation show")
	flagPath := cli.ConfigFlag(fs)
	rest, code, done := cli.Parse(fs, showUsage, args, stdout, stderr)
	if done {
		return code
	}
	path, code, ok := cli.ConfigPath(fs, showUsage, *flagPath, rest, stderr)
	if !ok {
		return code
	}
	c, err := load(path)
	if err != nil {
		fmt.Fprintf(stderr, "federation show: %v\n", err)
		return cli.ExitFailure
	}
	if err := Show(ctx, stdout, c, &http.Client{Timeout: 10 * time.Second}, time.Now()); err != nil {
		fmt.Fprintf(stderr, "federation show: %v\n", err)
		return cli.ExitFailure
	}
	return cli.ExitOK
}

// Show resolves every OP's chain of c now (no cache) and prints it to w; the error names the
// OPs without a valid chain.
func Show(ctx context.Context, w io.Writer, c *Config, client *http.Client, now time.Time) error {
	r := &Resolver{Anchors: c.anchors, Client: client, Now: func() time.Time { return now }, Skew: c.ClockSkew}
	fmt.Fprintf(w, "relying party %s\n", c.EntityID)
	for _, a := range c.anchors {
		var kids []string
		for _, k := range a.JWKS.Keys {
			kids = append(kids, k.KeyID)
		}
		fmt.Fprintf(w, "trust anchor  %s (keys %s)\n", a.EntityID, strings.Join(kids, ", "))
	}
	var failed []string
	for _, op := range c.OpenIDProviders {
		fmt.Fprintf(w, "\n%s OP %s\n", strings.ToUpper(op.Profile), op.EntityID)
		ch, err := r.ResolveFresh(ctx, EntityOP, op.EntityID, op.TrustMarks)
		if err != nil {
			fmt.Fprintf(w, "  NO VALID CHAIN: %v\n", err)
			failed = append(failed, op.EntityID)
			continue
		}
		for i, raw := range ch.Statements {
			s, err := ParseStatement(raw, now, r.skew())
			if err != nil {
				continue
			}
			what := "subordinate statement by " + s.Issuer
			if s.Configuration() {
				what = "entity configuration"
			}
			fmt.Fprintf(w, "  %d. %-60s %s, exp %s\n", i+1, s.Subject, what, s.ExpiresAt().UTC().Format(time.RFC3339))
		}
		fmt.Fprintf(w, "  chain expires %s (anchor %s)\n", ch.ExpiresAt().UTC().Format(time.RFC3339), ch.Anchor)
		marks := "none"
		if len(ch.TrustMarks) > 0 {
			marks = strings.Join(ch.TrustMarks, ", ")
		}
		fmt.Fprintf(w, "  trust marks: %s", marks)
		if len(op.TrustMarks) > 0 {
			fmt.Fprintf(w, " (required: %s)", strings.Join(op.TrustMarks, ", "))
		}
		fmt.Fprintln(w)
		fmt.Fprintf(w, "  issuer %s, authorization %s\n", ch.String("issuer"), ch.String("authorization_endpoint"))
	}
	if len(failed) > 0 {
		slices.Sort(failed)
		return fmt.Errorf("%w: %s", ErrNoChain, strings.Join(failed, ", "))
	}
	return nil
}

func cliKeys(ctx context.Context, args []string, stdout, stderr io.Writer, load LoadFunc) int {
	fs := cli.NewFlags("sportello federation keys")
	flagPath := cli.ConfigFlag(fs)
	grace := fs.Duration("grace", 7*24*time.Hour, "how long a retired key stays published (rotate)")
	if len(args) == 0 {
		return cli.Misuse(stderr, fs, keysUsage, "init or rotate is required")
	}
	if cli.IsHelp(args[0]) {
		cli.PrintUsage(stdout, keysUsage, fs)
		return cli.ExitOK
	}
	sub := args[0]
	if sub != "init" && sub != "rotate" {
		return cli.Misuse(stderr, fs, keysUsage, "unknown command %q", sub)
	}
	rest, code, done := cli.Parse(fs, keysUsage, args[1:], stdout, stderr)
	if done {
		return code
	}
	path, code, ok := cli.ConfigPath(fs, keysUsage, *flagPath, rest, stderr)
	if !ok {
		return code
	}
	c, err := load(path)
	if err != nil {
		fmt.Fprintf(stderr, "federation keys: %v\n", err)
		return cli.ExitFailure
	}
	where := c.KeysDir
	if s, ok := c.keys.(*StoreKeySource); ok {
		where = "the store"
		err = storeKeys(ctx, s, sub, *grace)
	} else if sub == "init" {
		err = InitKeys(c.KeysDir)
	} else {
		err = RotateKeys(c.KeysDir, *grace, time.Now())
	}
	if err != nil {
		fmt.Fprintf(stderr, "federation keys %s: %v\n", sub, err)
		return cli.ExitFailure
	}
	fmt.Fprintf(stdout, "federation keys %s: %s\n", sub, where)
	return cli.ExitOK
}

// storeKeys initialises or rotates the key set in the store.
func storeKeys(ctx context.Context, s *StoreKeySource, sub string, grace time.Duration) error {
	if sub == "rotate" {
		_, err := s.Rotate(ctx, grace)
		return err
	}
	created, err := s.Init(ctx)
	if err == nil && !created {
		err = fmt.Errorf("oidcfed: a key set is already in the store at %s (rotate it instead)", s.Key)
	}
	return err
}
