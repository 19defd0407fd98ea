//go:build ignore

// Command gen regenerates the committed SPID test keys and certificates (all of them, or only
// those named):
//
//	go run testdata/spid/gen/main.go -out testdata/spid [dev-idp-demo dev-idp-test dev-idp-cieid dev-idp-ficep attacker sp-dev]
//
// dev-idp-demo and dev-idp-test sign the dev SPID identity providers' messages, dev-idp-cieid the
// dev CIE ID server's and dev-idp-ficep the dev eIDAS node's; sp-dev is the
// dev-mode SP certificate for the default dev address (SPID-shaped, made by the same code as
// `sportello spid cert` and as dev mode on another address);
// attacker is a key no metadata lists, for the hostile-response tests. All are valid from
// 2025-01-01 for 20 years, so tests with a fixed clock keep working.
package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"log"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/inps/sportello/providers/spid"
)

var notBefore = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

const validity = 20 * 365 * 24 * time.Hour

func main() {
	out := flag.String("out", "testdata/spid", "output directory")
	flag.Parse()
	want := func(name string) bool { return flag.NArg() == 0 || slices.Contains(flag.Args(), name) }
	for _, name := range []string{"dev-idp-demo", "dev-idp-test", "dev-idp-cieid", "dev-idp-ficep", "attacker"} {
		if !want(name) {
			continue
		}
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		check(err)
		tmpl := &x509.Certificate{
			SerialNumber:       big.NewInt(time.Now().UnixNano()),
			Subject:            pkix.Name{CommonName: name, Organization: []string{"sportello dev"}, Country: []string{"IT"}},
			NotBefore:          notBefore,
			NotAfter:           notBefore.Add(validity),
			KeyUsage:           x509.KeyUsageDigitalSignature,
			SignatureAlgorithm: x509.SHA256WithRSA,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		check(err)
		cert, err := x509.ParseCertificate(der)
		check(err)
		write(*out, name, key, cert)
	}
	if want("sp-dev") {
		o := spid.DevCertOptions(spid.DefaultDevEntityID)
		o.Validity = validity
		o.Now = func() time.Time { return notBefore.Add(time.Minute) }
		key, cert, err := spid.GenerateCertificate(o)
		check(err)
		write(*out, "sp-dev", key, cert)
	}
}

func write(dir, name string, key *rsa.PrivateKey, cert *x509.Certificate) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	check(err)
	check(os.WriteFile(filepath.Join(dir, name+".key"), pemBlock("PRIVATE KEY", der), 0o600))
	check(os.WriteFile(filepath.Join(dir, name+".crt"), pemBlock("CERTIFICATE", cert.Raw), 0o644))
}

func pemBlock(typ string, der []byte) []byte {
	return pemEncode(typ, der)
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

func pemEncode(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}
