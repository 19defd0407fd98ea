package tsl

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/inps/sportello/internal/cli"
	"github.com/inps/sportello/providers/x509auth"
)

const usage = `Usage: sportello trust COMMAND [flags]

Commands:
  import-tsl  build the CIE/CNS CA bundle from the Italian trusted list (AgID's TSL)`

const importUsage = `Usage: sportello trust import-tsl FILE --out BUNDLE [--signer CERT]

Reads the trusted list FILE, verifies its signature against the certificate in CERT when
given (and warns when not), and writes the accepted identity-verification trust anchors to
BUNDLE (PEM, atomically), for the trust_anchors of the cie and cns sections.`

// CLI runs "sportello trust <args>"; the one subcommand is
//
//	import-tsl FILE --out bundle.pem [--signer signer.pem]
//
// which reads the trusted list FILE, verifies its signature against the certificate in
// signer.pem when given (and warns when not), and writes the accepted IdV trust anchors to
// bundle.pem (atomically). It returns the process exit code: 0 done, 1 failed, 2 misuse.
func CLI(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	top := cli.NewFlags("sportello trust")
	switch {
	case len(args) == 0:
		return cli.Misuse(stderr, top, usage, "a command is required")
	case cli.IsHelp(args[0]) && len(args) == 1:
		cli.PrintUsage(stdout, usage, nil)
		return cli.ExitOK
	case cli.IsHelp(args[0]):
		args = []string{args[1], "--help"} // "trust help import-tsl"
	}
	if args[0] != "import-tsl" {
		return cli.Misuse(stderr, top, usage, "unknown command %q", args[0])
	}
	fs := cli.NewFlags("sportello trust import-tsl")
	out := fs.String("out", "", "PEM `BUNDLE` to write (required)")
	signerPath := fs.String("signer", "", "PEM `CERT`ificate of the list's signer; verifies the signature")
	files, code, done := cli.Parse(fs, importUsage, args[1:], stdout, stderr)
	if done {
		return code
	}
	if len(files) != 1 || *out == "" {
		return cli.Misuse(stderr, fs, importUsage, "one list FILE and --out are required")
	}
	if err := ctx.Err(); err != nil {
		fmt.Fprintln(stderr, "import-tsl:", err)
		return 1
	}
	f, err := os.Open(files[0])
	if err != nil {
		fmt.Fprintln(stderr, "import-tsl:", err)
		return 1
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxListSize+1))
	_ = f.Close()
	if err != nil {
		fmt.Fprintln(stderr, "import-tsl:", err)
		return 1
	}
	var list *List
	if *signerPath != "" {
		signers, err := x509auth.LoadCertificates([]string{*signerPath})
		if err != nil {
			fmt.Fprintln(stderr, "import-tsl: signer:", err)
			return 1
		}
		list, err = ParseVerified(data, signers[0], nil)
		if err != nil {
			fmt.Fprintln(stderr, "import-tsl:", err)
			return 1
		}
	} else {
		fmt.Fprintln(stderr, "import-tsl: WARNING: no --signer given, the list's signature is NOT verified")
		if list, err = Parse(data); err != nil {
			fmt.Fprintln(stderr, "import-tsl:", err)
			return 1
		}
	}
	anchors := list.Anchors()
	if len(anchors) == 0 {
		fmt.Fprintln(stderr, "import-tsl: the list holds no granted or recognised IdV service")
		return 1
	}
	var buf bytes.Buffer
	if err := WriteBundle(&buf, anchors); err != nil {
		fmt.Fprintln(stderr, "import-tsl:", err)
		return 1
	}
	if err := writeAtomic(*out, buf.Bytes()); err != nil {
		fmt.Fprintln(stderr, "import-tsl:", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %d trust anchors from %d services (list %s #%s) to %s\n",
		len(anchors), len(list.Services), list.Territory, list.SequenceNumber, *out)
	return 0
}

// writeAtomic writes data to path through a temporary file and a rename, so a running broker
// never reads half a bundle.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".bundle-*.pem")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
