package spid

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	"github.com/inps/sportello/config"
	"github.com/inps/sportello/internal/cli"
	"github.com/inps/sportello/providers/saml/samlx"
)

// LoadFunc loads a configuration file and returns its spid section and the broker's public
// base URL (the issuer).
type LoadFunc func(path string) (cfg *Config, baseURL string, err error)

// ConfigLoader is the LoadFunc over config.Load: it decodes the first section of type spid.
func ConfigLoader(opts config.Options) LoadFunc {
	return func(path string) (*Config, string, error) {
		c, err := config.Load(path, opts)
		if err != nil {
			return nil, "", err
		}
		ids := make([]string, 0, len(c.Providers))
		for id := range c.Providers {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			p := c.Providers[id]
			if p.Type != "spid" {
				continue
			}
			cfg, errs := FromProvider(id, &p, c.Dev)
			if len(errs) > 0 {
				return nil, "", errors.Join(errs...)
			}
			return cfg, c.Issuer, nil
		}
		return nil, "", errors.New("no provider section of type spid")
	}
}

const cliUsage = `Usage: sportello spid COMMAND [flags]

Commands:
  metadata  print the signed SPID SP metadata of a configuration
  cert      generate a SPID-shaped self-signed SP certificate (public SP, AgID's profile)

"sportello spid COMMAND --help" lists a command's flags.`

const metadataUsage = `Usage: sportello spid metadata --config FILE
       sportello spid metadata FILE

Prints the signed SP metadata of the configuration's first spid section, as /spid/metadata
serves it (to register with AgID).`

const certUsage = `Usage: sportello spid cert --entity-id URL --ipa-code CODE --org NAME --locality CITY --out-key FILE --out-cert FILE [flags]

Generates an RSA key and a self-signed SP certificate shaped as AgID's rules want them for a
public SP (organizationIdentifier PA:IT-<code>, uri = the entityID, the AgID policies).`

// CLI runs "sportello spid ...": metadata (print the signed SP metadata of a configuration)
// and cert (generate a SPID-shaped self-signed SP certificate). It returns the exit status.
func CLI(ctx context.Context, args []string, stdout, stderr io.Writer, load LoadFunc) int {
	top := cli.NewFlags("sportello spid")
	switch {
	case len(args) == 0:
		return cli.Misuse(stderr, top, cliUsage, "a command is required")
	case cli.IsHelp(args[0]) && len(args) == 1:
		cli.PrintUsage(stdout, cliUsage, nil)
		return cli.ExitOK
	case cli.IsHelp(args[0]):
		args = []string{args[1], "--help"} // "spid help cert"
	}
	switch args[0] {
	case "metadata":
		return cliMetadata(args[1:], stdout, stderr, load)
	case "cert":
		return cliCert(args[1:], stdout, stderr)
	}
	return cli.Misuse(stderr, top, cliUsage, "unknown command %q", args[0])
}

func cliMetadata(args []string, stdout, stderr io.Writer, load LoadFunc) int {
	fs := cli.NewFlags("sportello spid metadata")
	flagPath := cli.ConfigFlag(fs)
	rest, code, done := cli.Parse(fs, metadataUsage, args, stdout, stderr)
	if done {
		return code
	}
	path, code, ok := cli.ConfigPath(fs, metadataUsage, *flagPath, rest, stderr)
	if !ok {
		return code
	}
	if load == nil {
		fmt.Fprintln(stderr, "spid metadata: no configuration loader")
		return cli.ExitFailure
	}
	cfg, base, err := load(path)
	if err != nil {
		fmt.Fprintf(stderr, "spid metadata: %v\n", err)
		return 1
	}
	md, err := BuildMetadata(cfg, base, time.Now())
	if err != nil {
		fmt.Fprintf(stderr, "spid metadata: %v\n", err)
		return 1
	}
	if _, err := stdout.Write(md); err != nil {
		return 1
	}
	return 0
}

func cliCert(args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlags("sportello spid cert")
	var o CertOptions
	fs.StringVar(&o.EntityID, "entity-id", "", "SP entityID (uri attribute)")
	fs.StringVar(&o.IPACode, "ipa-code", "", "IPA code (organizationIdentifier PA:IT-<code>)")
	fs.StringVar(&o.Organization, "org", "", "organizationName")
	fs.StringVar(&o.CommonName, "cn", "", "commonName (default: the organization)")
	fs.StringVar(&o.Locality, "locality", "", "localityName")
	fs.IntVar(&o.Bits, "bits", 3072, "RSA key size")
	days := fs.Int("days", 730, "validity in days")
	outKey := fs.String("out-key", "", "private key file (PEM, written 0600)")
	outCert := fs.String("out-cert", "", "certificate file (PEM)")
	force := fs.Bool("force", false, "overwrite existing files")
	rest, code, done := cli.Parse(fs, certUsage, args, stdout, stderr)
	if done {
		return code
	}
	if len(rest) > 0 {
		return cli.Misuse(stderr, fs, certUsage, "unexpected arguments %q", rest)
	}
	if *outKey == "" || *outCert == "" {
		return cli.Misuse(stderr, fs, certUsage, "--out-key and --out-cert are required")
	}
	o.Validity = time.Duration(*days) * 24 * time.Hour
	key, cert, err := GenerateCertificate(o)
	if err != nil {
		fmt.Fprintf(stderr, "spid cert: %v\n", err)
		return 1
	}
	keyPEM, err := samlx.EncodeKeyPEM(key)
	if err != nil {
		fmt.Fprintf(stderr, "spid cert: %v\n", err)
		return 1
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if *force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	for _, f := range []struct {
		path string
		data []byte
		mode os.FileMode
	}{{*outKey, keyPEM, 0o600}, {*outCert, samlx.EncodeCertPEM(cert), 0o644}} {
		fh, err := os.OpenFile(f.path, flags, f.mode)
		if err != nil {
			fmt.Fprintf(stderr, "spid cert: %v\n", err)
			return 1
		}
		_, werr := fh.Write(f.data)
		if cerr := fh.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			fmt.Fprintf(stderr, "spid cert: %v\n", werr)
			return 1
		}
	}
	fmt.Fprintf(stdout, "wrote %s and %s (subject %s, valid until %s)\n", *outKey, *outCert, cert.Subject, cert.NotAfter.Format(time.DateOnly))
	return 0
}
