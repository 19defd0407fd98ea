package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"text/tabwriter"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/inps/sportello/broker/keys"
	"github.com/inps/sportello/config"
	"github.com/inps/sportello/internal/cli"
	"github.com/inps/sportello/internal/switches"
	"github.com/inps/sportello/providers/cieid"
	"github.com/inps/sportello/providers/eidas"
	"github.com/inps/sportello/providers/oidcfed"
	"github.com/inps/sportello/providers/saml"
	"github.com/inps/sportello/providers/spid"
)

// metadataClient fetches the IdP metadata URLs for check-config (each within 10 s, like the
// registry); tests point it at their TLS servers.
var metadataClient = &http.Client{Timeout: 10 * time.Second}

const checkConfigUsage = `Usage: sportello check-config [--offline] --config FILE
       sportello check-config [--offline] FILE

Validates a configuration file as serve would load it (environment overrides and secret
references included), then its signing keys, the SPID IdP metadata (fetched, unless
--offline), the federation key set of each oidcfed section and its OpenID Providers' trust
chains (resolved, unless --offline), and lists every error with its path and line. Exit 1 on
errors. With the shared Store (store.type redis) it also reads the console overrides (switches)
in force there and warns about each on stdout: kind, id, reason, operator and expiry; they do
not change the exit status, nor does a Store it cannot reach (a warning too).`

func cmdCheckConfig(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlags("sportello check-config")
	flagPath := cli.ConfigFlag(fs)
	offline := fs.Bool("offline", false, "do not fetch the SPID IdP metadata URLs (files are still read), nor resolve federation trust chains")
	rest, code, done := cli.Parse(fs, checkConfigUsage, args, stdout, stderr)
	if done {
		return code
	}
	path, code, ok := cli.ConfigPath(fs, checkConfigUsage, *flagPath, rest, stderr)
	if !ok {
		return code
	}
	errs := config.Check(path, configOptions())
	if len(errs) == 0 {
		// What only the built broker would notice: the signing keys and the IdP metadata.
		cfg, err := config.Load(path, configOptions())
		if err != nil {
			errs = []error{err}
		} else {
			errs = append(checkKeys(ctx, cfg), checkMetadata(ctx, cfg, *offline)...)
			errs = cfg.Locate(append(errs, checkFederation(ctx, cfg, *offline)...))
			warnSwitches(ctx, cfg, stdout)
		}
	}
	if len(errs) > 0 {
		config.FormatErrors(stderr, errs)
		fmt.Fprintf(stderr, "%s: %d error(s)\n", path, len(errs))
		return 1
	}
	fmt.Fprintf(stdout, "%s: OK\n", path)
	return 0
}

// checkKeys reads keys.dir as serve would: every key file must parse. With the memory store
// the files are the whole key set, so an active ES256 and RS256 key must be there; on Redis
// the key set lives in the store (`sportello keys init` creates it, importing these files if
// any). Dev mode generates them.
func checkKeys(ctx context.Context, cfg *config.Config) []error {
	if cfg.Dev {
		return nil
	}
	ks, err := (&keys.FileSource{Dir: cfg.Keys.Dir}).Read(ctx)
	if err != nil {
		return []error{&config.FieldError{Path: "keys.dir", Msg: err.Error()}}
	}
	if cfg.Store.Type == "redis" {
		return nil
	}
	var errs []error
	for _, alg := range []jose.SignatureAlgorithm{jose.ES256, jose.RS256} {
		found := false
		for _, k := range ks.Keys {
			found = found || k.Alg == alg && k.State == keys.Active
		}
		if !found {
			errs = append(errs, &config.FieldError{Path: "keys.dir", Msg: fmt.Sprintf(
				"no active %s key in %s (the memory store signs with these files: create them once with `sportello keys init --config FILE`)", alg, cfg.Keys.Dir)})
		}
	}
	return errs
}

// checkMetadata loads every SAML identity provider metadata source (SPID's IdPs, the CIE ID
// server, the eIDAS node) as the broker would (fetched, signature verified when a metadata certificate is set,
// parsed), each at its path. offline skips the URLs.
func checkMetadata(ctx context.Context, cfg *config.Config, offline bool) []error {
	var errs []error
	for _, id := range slices.Sorted(maps.Keys(cfg.Providers)) {
		p := cfg.Providers[id]
		if !p.IsEnabled() {
			continue
		}
		var idps []saml.IdPConfig
		switch p.Type {
		case "spid":
			sc, perrs := spid.FromProvider(id, &p, cfg.Dev)
			if len(perrs) > 0 {
				errs = append(errs, perrs...)
				continue
			}
			idps = sc.IdPs
		case "cieid":
			cc, perrs := cieid.FromProvider(id, &p, cfg.Dev)
			if len(perrs) > 0 {
				errs = append(errs, perrs...)
				continue
			}
			idps = cc.IdPs
		case "eidas":
			ec, perrs := eidas.FromProvider(id, &p, cfg.Dev)
			if len(perrs) > 0 {
				errs = append(errs, perrs...)
				continue
			}
			idps = ec.IdPs
		default:
			continue
		}
		for i, idp := range idps {
			at := fmt.Sprintf("providers.%s.idps[%d].metadata_file", id, i)
			if idp.MetadataURL != "" {
				if offline {
					continue
				}
				at = fmt.Sprintf("providers.%s.idps[%d].metadata_url", id, i)
			}
			reg, err := saml.NewRegistry([]saml.IdPConfig{idp}, metadataClient, time.Now, slog.New(slog.DiscardHandler), time.Hour)
			if err == nil {
				err = reg.Refresh(ctx)
			}
			if err != nil {
				errs = append(errs, &config.FieldError{Path: at, Msg: err.Error()})
			}
		}
	}
	return errs
}

// checkFederation reads the key set of every enabled oidcfed section as serve would (it
// generates none outside dev mode) and, online, resolves each OpenID Provider's trust chain.
func checkFederation(ctx context.Context, cfg *config.Config, offline bool) []error {
	var errs []error
	for _, id := range slices.Sorted(maps.Keys(cfg.Providers)) {
		p := cfg.Providers[id]
		if p.Type != oidcfed.Type.Name || !p.IsEnabled() {
			continue
		}
		c, perrs := oidcfed.Decode(id, &p, cfg.Dev)
		if len(perrs) > 0 {
			errs = append(errs, perrs...)
			continue
		}
		// With the Redis store the key set is in the store, as the broker's signing keys are.
		if cfg.Store.Type != "redis" {
			if _, err := (&oidcfed.FileKeySource{Dir: c.KeysDir}).Load(ctx); err != nil {
				errs = append(errs, &config.FieldError{Path: "providers." + id + ".keys_dir", Msg: err.Error()})
			}
		}
		if offline {
			continue
		}
		if err := oidcfed.Show(ctx, io.Discard, c, metadataClient, time.Now()); err != nil {
			errs = append(errs, &config.FieldError{Path: "providers." + id + ".openid_providers", Msg: err.Error()})
		}
	}
	return errs
}

// switchesTimeout bounds check-config's visit to the Store.
const switchesTimeout = 5 * time.Second

// warnSwitches lists the console overrides in force in the shared Store: a configuration that
// names an IdP, a provider or a client is not the whole story while a switch keeps it off on
// every replica. With the memory store each process has its own switches (none before it
// starts), so there is nothing to read; an unreachable Store is a warning, not an error: the
// file may be checked far from production.
func warnSwitches(ctx context.Context, cfg *config.Config, w io.Writer) {
	if cfg.Store.Type != "redis" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, switchesTimeout)
	defer cancel()
	st, err := openStore(ctx, cfg)
	if err != nil {
		fmt.Fprintf(w, "warning: console overrides not checked: the Store is unreachable: %v\n", err)
		return
	}
	defer st.Close()
	list, err := (&switches.Switches{Store: st}).List(ctx)
	if err != nil {
		fmt.Fprintf(w, "warning: console overrides not checked: %v\n", err)
		return
	}
	if len(list) == 0 {
		return
	}
	fmt.Fprintf(w, "warning: %d console override(s) in force on every replica (sportello console switch --on to lift one):\n", len(list))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  KIND\tID\tREASON\tSET BY\tSET AT\tEXPIRES")
	for _, s := range list {
		exp := "never"
		if s.ExpiresAt != nil {
			exp = s.ExpiresAt.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", s.Kind, s.ID, s.Reason, s.Actor, s.SetAt.Format(time.RFC3339), exp)
	}
	_ = tw.Flush()
}
