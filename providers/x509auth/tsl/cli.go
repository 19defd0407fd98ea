package tsl

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/inps/sportello/providers/x509auth"
)

const usage = "usage: sportello trust import-tsl FILE --out bundle.pem [--signer signer.pem]"

// CLI runs "sportello trust <args>"; the one subcommand is
//
//	import-tsl FILE --out bundle.pem [--signer signer.pem]
//
// which reads the trusted list FILE, verifies its signature against the certificate in
// signer.pem when given (and warns when not), and writes the accepted IdV trust anchors to
// bundle.pem (atomically). It returns the process exit code: 0 done, 1 failed, 2 misuse.
func CLI(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "import-tsl" {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	fs := flag.NewFlagSet("import-tsl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "PEM bundle to write (required)")
	signerPath := fs.String("signer", "", "PEM certificate of the list's signer; verifies the signature")
	var files []string
	rest := args[1:]
	for {
		if err := fs.Parse(rest); err != nil {
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(files) != 1 || *out == "" {
		fmt.Fprintln(stderr, usage)
		return 2
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
