package audit

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"

	"github.com/inps/sportello/internal/cli"
)

const cliUsage = `Usage: sportello audit COMMAND [flags]

Commands:
  verify   check the hash chain and the signed checkpoints of trail files; exit 1 naming the
           first bad file and line
  keygen   write an Ed25519 checkpoint signing key (FILE and FILE.pub)`

const verifyUsage = `Usage: sportello audit verify FILE... [--key PUB]

Checks the hash chain of the trail FILEs (in order: the rotated files, then the current one)
and the signatures of their checkpoints with the public key PUB. Exit 0 with a summary, 1
naming the first bad file and line.`

const keygenUsage = `Usage: sportello audit keygen --out FILE

Writes an Ed25519 checkpoint signing key: the private key in FILE (for audit.signing_key),
the public key in FILE.pub (for "sportello audit verify --key").`

// CLI runs "sportello audit ..." with args after "audit"; it returns the exit code.
func CLI(_ context.Context, args []string, stdout, stderr io.Writer) int {
	top := cli.NewFlags("sportello audit")
	switch {
	case len(args) == 0:
		return cli.Misuse(stderr, top, cliUsage, "a command is required")
	case cli.IsHelp(args[0]) && len(args) == 1:
		cli.PrintUsage(stdout, cliUsage, nil)
		return cli.ExitOK
	case cli.IsHelp(args[0]):
		args = []string{args[1], "--help"} // "audit help verify"
	}
	switch args[0] {
	case "verify":
		return cliVerify(args[1:], stdout, stderr)
	case "keygen":
		fs := cli.NewFlags("sportello audit keygen")
		out := fs.String("out", "", "private key `FILE` (the public key goes to FILE.pub)")
		rest, code, done := cli.Parse(fs, keygenUsage, args[1:], stdout, stderr)
		if done {
			return code
		}
		if *out == "" || len(rest) != 0 {
			return cli.Misuse(stderr, fs, keygenUsage, "--out FILE, and nothing else, is required")
		}
		pub, priv, err := ed25519.GenerateKey(nil)
		if err == nil {
			err = WriteKeyPair(*out, priv, pub)
		}
		if err != nil {
			fmt.Fprintln(stderr, err)
			return cli.ExitFailure
		}
		fmt.Fprintf(stdout, "wrote %s and %s.pub (key id %s)\n", *out, *out, KeyID(pub))
		return cli.ExitOK
	}
	return cli.Misuse(stderr, top, cliUsage, "unknown command %q", args[0])
}

func cliVerify(args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlags("sportello audit verify")
	keyPath := fs.String("key", "", "public key `PUB` of the checkpoints (FILE.pub of keygen); without it signatures are not checked")
	files, code, done := cli.Parse(fs, verifyUsage, args, stdout, stderr)
	if done {
		return code
	}
	if len(files) == 0 {
		return cli.Misuse(stderr, fs, verifyUsage, "at least one trail FILE is required")
	}
	var pub ed25519.PublicKey
	if *keyPath != "" {
		var err error
		if pub, err = LoadPublicKey(*keyPath); err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
	} else {
		fmt.Fprintln(stderr, "warning: no --key: checkpoint signatures are NOT checked")
	}
	rep, err := Verify(files, pub)
	var te *TamperError
	if errors.As(err, &te) {
		fmt.Fprintf(stdout, "TAMPERED: %s line %d", te.File, te.Line)
		if te.Seq != 0 {
			fmt.Fprintf(stdout, " (seq %d)", te.Seq)
		}
		fmt.Fprintf(stdout, ": %s\n", te.Reason)
		return 1
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	fmt.Fprintf(stdout, "OK: %d records in %d files, seq %d..%d, %d checkpoints", rep.Records, len(rep.Files), rep.FirstSeq, rep.LastSeq, rep.Checkpoints)
	if rep.SignaturesChecked {
		fmt.Fprintf(stdout, " verified (key id %s)", KeyID(pub))
	}
	fmt.Fprintf(stdout, "; %d records after the last checkpoint\n", rep.UnsignedTail)
	if rep.Anchored {
		fmt.Fprintf(stdout, "note: the chain starts at seq %d (earlier files removed by retention?)\n", rep.FirstSeq)
	}
	if rep.SignaturesChecked && rep.Checkpoints == 0 && rep.Records > 0 {
		fmt.Fprintln(stdout, "warning: no checkpoint found: the chain alone cannot show a wholesale rewrite")
	}
	return 0
}
