// Command genclients writes the dev relying parties' TLS client certificates into
// testdata/pki, issued by the dev TLS root (server-ca.crt|.key, which gen wrote): demo-mtls
// and demo-fapi2, the dev clients that authenticate with tls_client_auth (RFC 8705 §2.1).
// It reads the root and touches no other file, so the CIE/CNS PKI stays as it is.
//
// Run it from the module root: go run ./testdata/pki/genclients [-out testdata/pki].
// Keys and serial numbers are fresh on every run; commit the four files it writes.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"
)

var outDir = flag.String("out", "testdata/pki", "directory of server-ca.crt|.key and of the files written")

// client is one dev client's certificate: the subject its tls_client_auth_subject_dn names
// and the dNSName its tls_client_auth_san_dns may name.
type client struct {
	file, cn, dns string
}

var clients = []client{
	{"demo-mtls", "demo-mtls", "demo-mtls.sportello.dev"},
	{"demo-fapi2", "demo-fapi2", "demo-fapi2.sportello.dev"},
}

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "genclients:", err)
		os.Exit(1)
	}
}

func run() error {
	caCert, caKey, err := loadCA(filepath.Join(*outDir, "server-ca.crt"), filepath.Join(*outDir, "server-ca.key"))
	if err != nil {
		return err
	}
	now := time.Now().UTC().Truncate(time.Hour)
	for _, c := range clients {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return err
		}
		serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
		if err != nil {
			return err
		}
		tmpl := &x509.Certificate{SerialNumber: serial,
			Subject:   pkix.Name{CommonName: c.cn, Organization: []string{"Sportello DEV"}, Country: []string{"IT"}},
			DNSNames:  []string{c.dns},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(20 * 365 * 24 * time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		if err != nil {
			return err
		}
		pk, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(*outDir, c.file+".crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(*outDir, c.file+".key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}), 0o600); err != nil {
			return err
		}
	}
	return nil
}

func loadCA(certFile, keyFile string) (*x509.Certificate, any, error) {
	raw, err := os.ReadFile(certFile)
	if err != nil {
		return nil, nil, err
	}
	blk, _ := pem.Decode(raw)
	if blk == nil {
		return nil, nil, errors.New(certFile + ": no PEM certificate")
	}
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return nil, nil, err
	}
	raw, err = os.ReadFile(keyFile)
	if err != nil {
		return nil, nil, err
	}
	blk, _ = pem.Decode(raw)
	if blk == nil {
		return nil, nil, errors.New(keyFile + ": no PEM key")
	}
	key, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, nil, err
	}
	return cert, key, nil
}
