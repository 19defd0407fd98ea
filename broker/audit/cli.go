package audit

import (
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

const cliUsage = `Usage:
  sportello audit verify FILE... [--key PUB]   check the hash chain and the signed checkpoints;
                                              exit 1 naming the first bad line
  sportello audit keygen --out FILE           write an Ed25519 checkpoint key (FILE, FILE.pub)
`

// CLI runs "sportello audit ..." with args after "audit"; it returns the exit code.
func CLI(_ context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, cliUsage)
		return 2
	}
	switch args[0] {
	case "verify":
		return cliVerify(args[1:], stdout, stderr)
	case "keygen":
		fl := flag.NewFlagSet("audit keygen", flag.ContinueOnError)
		fl.SetOutput(stderr)
		out := fl.String("out", "", "private key file (the public key goes to FILE.pub)")
		if err := fl.Parse(args[1:]); err != nil || *out == "" || fl.NArg() != 0 {
			fmt.Fprint(stderr, cliUsage)
			return 2
		}
		pub, priv, err := ed25519.GenerateKey(nil)
		if err == nil {
			err = WriteKeyPair(*out, priv, pub)
		}
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		fmt.Fprintf(stdout, "wrote %s and %s.pub (key id %s)\n", *out, *out, KeyID(pub))
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, cliUsage)
		return 0
	}
	fmt.Fprint(stderr, cliUsage)
	return 2
}

func cliVerify(args []string, stdout, stderr io.Writer) int {
	var files []string
	keyPath := ""
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--key" || a == "-key":
			if i+1 == len(args) {
				fmt.Fprint(stderr, cliUsage)
				return 2
			}
			keyPath = args[i+1]
			i++
		case strings.HasPrefix(a, "--key=") || strings.HasPrefix(a, "-key="):
			_, keyPath, _ = strings.Cut(a, "=")
		default:
			files = append(files, a)
		}
	}
	if len(files) == 0 {
		fmt.Fprint(stderr, cliUsage)
		return 2
	}
	var pub ed25519.PublicKey
	if keyPath != "" {
		var err error
		if pub, err = LoadPublicKey(keyPath); err != nil {
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
