// Command gen writes sportello's dev PKI into testdata/pki: the dev CIE root and intermediate,
// the dev CNS CA, an unknown CA, OCSP responder certificates, CRLs, client certificates (good
// and deliberately broken ones, each with its key), the server certificate of the dev mTLS
// listener and a small signed ETSI TS 119 612 trusted list (plus a tampered copy).
//
// Run it from the module root: go run ./testdata/pki/gen [-out testdata/pki].
// File names are fixed; keys and serial numbers are fresh on every run, so run it only when the
// PKI must change and commit everything it writes. Certificates are valid for about 20 years.
package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// BaseURL is where dev mode serves the dev CA's CRLs and OCSP responders (devca.Handler mounted
// at /dev/pki/ on the default --http address). Validators rewrite it when the address differs.
const BaseURL = "http://127.0.0.1:8080/dev/pki/"

// Certificate policy OIDs.
var (
	oidPolicyCIE   = asn1.ObjectIdentifier{1, 3, 76, 47, 4}
	oidPolicyCNS   = asn1.ObjectIdentifier{1, 3, 76, 16, 2, 1}
	oidPolicyOther = asn1.ObjectIdentifier{1, 3, 76, 99, 99, 1}
	oidGivenName   = asn1.ObjectIdentifier{2, 5, 4, 42}
	oidSurname     = asn1.ObjectIdentifier{2, 5, 4, 4}
)

var (
	outDir = flag.String("out", "testdata/pki", "output directory")
	// only issues just the named client certificate(s) (comma-separated file names) with the
	// CAs already in outDir, leaving every other file as it is: a new dev card without a new PKI.
	only = flag.String("only", "", "issue only these client certificates (comma-separated), with the existing CAs")
	now  = time.Now().UTC().Truncate(time.Hour)
	// lifetime keeps the committed files valid for about 20 years.
	lifetime = 20 * 365 * 24 * time.Hour
)

type ca struct {
	name string
	cert *x509.Certificate
	key  crypto.Signer
	// crlRevoked are revoked in the CRL; ocspRevoked only by the OCSP responder (a revocation
	// the periodic CRL has not published yet). The responder reports both as revoked.
	crlRevoked  []x509.RevocationListEntry
	ocspRevoked []string
}

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run() error {
	if err := os.MkdirAll(filepath.Join(*outDir, "tsl"), 0o755); err != nil {
		return err
	}
	mkCA := newCA
	if *only != "" {
		mkCA = func(name, _, _ string, _ *ca) (*ca, error) { return loadCA(name) }
	}
	cieRoot, err := mkCA("cie-root", "National root CA for the Italian Electronic Identity Card (DEV)", "Ministero dell'Interno (DEV)", nil)
	if err != nil {
		return err
	}
	cieSub, err := mkCA("cie-sub", "CA for the Italian Electronic Identity Card - SubCA (DEV)", "Ministero dell'Interno (DEV)", cieRoot)
	if err != nil {
		return err
	}
	cnsCA, err := mkCA("cns-ca", "Regione Lombardia - CA Cittadini CNS (DEV)", "Regione Lombardia (DEV)", nil)
	if err != nil {
		return err
	}
	unknownCA, err := mkCA("unknown-ca", "Unknown Smart Card CA (DEV, not trusted)", "Nobody (DEV)", nil)
	if err != nil {
		return err
	}
	if *only == "" {
		serverCA, err := newCA("server-ca", "Sportello DEV TLS root", "Sportello (DEV)", nil)
		if err != nil {
			return err
		}
		for _, c := range []*ca{cieSub, cnsCA} {
			if err := ocspResponder(c); err != nil {
				return err
			}
		}
		if err := serverCert(serverCA); err != nil {
			return err
		}
	}
	cie := func(cf, given, family string) pkix.Name {
		return pkix.Name{
			Country:      []string{"IT"},
			Organization: []string{"Ministero dell'Interno"},
			CommonName:   family + " " + given,
			SerialNumber: "TINIT-" + cf,
			ExtraNames: []pkix.AttributeTypeAndValue{
				{Type: oidGivenName, Value: given}, {Type: oidSurname, Value: family},
			},
		}
	}
	cns := func(cf, given, family string, slash bool) pkix.Name {
		return pkix.Name{
			Country:            []string{"IT"},
			Organization:       []string{"Regione Lombardia"},
			OrganizationalUnit: []string{"Regione Lombardia - Servizi ai cittadini"},
			CommonName:         cf + "/7420070100000001." + cnsHash(slash),
			ExtraNames: []pkix.AttributeTypeAndValue{
				{Type: oidGivenName, Value: given}, {Type: oidSurname, Value: family},
			},
		}
	}
	type client struct {
		file     string
		issuer   *ca
		subject  pkix.Name
		policy   asn1.ObjectIdentifier
		eku      []x509.ExtKeyUsage
		ku       x509.KeyUsage
		from, to time.Time
		revoke   string // "crl" or "ocsp"
	}
	valid := func(c client) client {
		if c.eku == nil {
			c.eku = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
		}
		if c.ku == 0 {
			c.ku = x509.KeyUsageDigitalSignature
		}
		if c.from.IsZero() {
			c.from, c.to = now.Add(-24*time.Hour), now.Add(lifetime)
		}
		return c
	}
	clients := []client{
		{file: "mario-rossi-cie", issuer: cieSub, subject: cie("RSSMRA80A01H501U", "MARIO", "ROSSI"), policy: oidPolicyCIE},
		{file: "elena-conti-cie", issuer: cieSub, subject: cie("CNTLNE75E52L736Y", "ELENA", "CONTI"), policy: oidPolicyCIE},
		{file: "giuseppe-verdi-cns", issuer: cnsCA, subject: cns("VRDGPP40C15L219U", "GIUSEPPE", "VERDI", false), policy: oidPolicyCNS},
		{file: "cns-hash-with-slash", issuer: cnsCA, subject: cns("RCCMNL83S18D969H", "EMANUELA", "RICCI", true), policy: oidPolicyCNS},
		{file: "expired", issuer: cieSub, subject: cie("RSSMRA80A01H501U", "MARIO", "ROSSI"), policy: oidPolicyCIE,
			from: now.Add(-6 * 365 * 24 * time.Hour), to: now.Add(-365 * 24 * time.Hour)},
		{file: "not-yet-valid", issuer: cnsCA, subject: cns("VRDGPP40C15L219U", "GIUSEPPE", "VERDI", false), policy: oidPolicyCNS,
			from: now.Add(15 * 365 * 24 * time.Hour), to: now.Add(lifetime)},
		{file: "revoked-crl", issuer: cnsCA, subject: cns("VRDGPP40C15L219U", "GIUSEPPE", "VERDI", false), policy: oidPolicyCNS, revoke: "crl"},
		{file: "revoked-ocsp", issuer: cieSub, subject: cie("RSSMRA80A01H501U", "MARIO", "ROSSI"), policy: oidPolicyCIE, revoke: "ocsp"},
		{file: "wrong-policy", issuer: cieSub, subject: cie("RSSMRA80A01H501U", "MARIO", "ROSSI"), policy: oidPolicyOther},
		{file: "no-clientauth-eku", issuer: cnsCA, subject: cns("VRDGPP40C15L219U", "GIUSEPPE", "VERDI", false), policy: oidPolicyCNS,
			eku: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}},
		{file: "wrong-key-usage", issuer: cnsCA, subject: cns("VRDGPP40C15L219U", "GIUSEPPE", "VERDI", false), policy: oidPolicyCNS,
			ku: x509.KeyUsageKeyEncipherment},
		{file: "unknown-ca", issuer: unknownCA, subject: cie("RSSMRA80A01H501U", "MARIO", "ROSSI"), policy: oidPolicyCIE},
		{file: "invalid-fiscal-code", issuer: cnsCA, subject: cns("VRDGPP40C15L219X", "GIUSEPPE", "VERDI", false), policy: oidPolicyCNS},
		{file: "no-fiscal-code", issuer: cieSub, subject: pkix.Name{Country: []string{"IT"}, CommonName: "ANONIMO"}, policy: oidPolicyCIE},
	}
	for _, c := range clients {
		if *only != "" && !slices.Contains(strings.Split(*only, ","), c.file) {
			continue
		}
		c = valid(c)
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return err
		}
		tmpl := &x509.Certificate{
			SerialNumber:          serial(),
			Subject:               c.subject,
			NotBefore:             c.from,
			NotAfter:              c.to,
			KeyUsage:              c.ku,
			ExtKeyUsage:           c.eku,
			BasicConstraintsValid: true,
			Policies:              []x509.OID{mustOID(c.policy)},
			CRLDistributionPoints: []string{BaseURL + "crl/" + c.issuer.name + ".crl"},
			OCSPServer:            []string{BaseURL + "ocsp/" + c.issuer.name},
		}
		cert, err := sign(tmpl, c.issuer, key)
		if err != nil {
			return err
		}
		switch c.revoke {
		case "crl":
			c.issuer.crlRevoked = append(c.issuer.crlRevoked, x509.RevocationListEntry{
				SerialNumber: cert.SerialNumber, RevocationTime: now.Add(-time.Hour), ReasonCode: 1,
			})
		case "ocsp":
			c.issuer.ocspRevoked = append(c.issuer.ocspRevoked, cert.SerialNumber.Text(16))
		}
		if err := writeCert(c.file, cert); err != nil {
			return err
		}
		if err := writeKey(c.file, key); err != nil {
			return err
		}
	}
	if *only != "" {
		return nil // the CAs, their CRLs and the trusted list stay as they are
	}
	revocations := map[string][]string{}
	for _, c := range []*ca{cieRoot, cieSub, cnsCA} {
		if err := writeCRL(c); err != nil {
			return err
		}
		list := append([]string{}, c.ocspRevoked...)
		for _, e := range c.crlRevoked {
			list = append(list, e.SerialNumber.Text(16))
		}
		revocations[c.name] = list
	}
	data, err := json.MarshalIndent(revocations, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(*outDir, "ocsp-revoked.json"), append(data, '\n'), 0o644); err != nil {
		return err
	}
	return writeTSL(cieRoot, cnsCA, unknownCA)
}

// cnsHash returns a base64 hash for a CNS common name; with slash it contains '/', without
// it does not, so both extraction paths are exercised.
func cnsHash(slash bool) string {
	for i := 0; ; i++ {
		sum := sha256.Sum256([]byte(fmt.Sprintf("card-%d-%d", now.Unix(), i)))
		h := base64.StdEncoding.EncodeToString(sum[:20])
		if strings.Contains(h, "/") == slash {
			return h
		}
	}
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err)
	}
	return n.Add(n, big.NewInt(1))
}

func newCA(name, cn, org string, parent *ca) (*ca, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{Country: []string{"IT"}, Organization: []string{org}, CommonName: cn},
		NotBefore:             now.Add(-10 * 365 * 24 * time.Hour),
		NotAfter:              now.Add(lifetime + 24*time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	c := &ca{name: name, key: key}
	var cert *x509.Certificate
	if parent == nil {
		cert, err = sign(tmpl, &ca{cert: tmpl, key: key}, key)
	} else {
		tmpl.CRLDistributionPoints = []string{BaseURL + "crl/" + parent.name + ".crl"}
		tmpl.OCSPServer = []string{BaseURL + "ocsp/" + parent.name}
		tmpl.MaxPathLenZero = true
		cert, err = sign(tmpl, parent, key)
	}
	if err != nil {
		return nil, err
	}
	c.cert = cert
	if err := writeCert(name, cert); err != nil {
		return nil, err
	}
	return c, writeKey(name, key)
}

// loadCA reads a CA this program wrote before (its certificate and key in outDir).
func loadCA(name string) (*ca, error) {
	certPEM, err := os.ReadFile(filepath.Join(*outDir, name+".crt"))
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(filepath.Join(*outDir, name+".key"))
	if err != nil {
		return nil, err
	}
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		return nil, fmt.Errorf("%s: no PEM block", name)
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, err
	}
	key, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return nil, err
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%s: the key cannot sign", name)
	}
	return &ca{name: name, cert: cert, key: signer}, nil
}

func sign(tmpl *x509.Certificate, issuer *ca, key crypto.Signer) (*x509.Certificate, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer.cert, key.Public(), issuer.key)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// ocspResponder issues a delegated OCSP signing certificate for c (RFC 6960 §4.2.2.2).
func ocspResponder(c *ca) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{Country: []string{"IT"}, CommonName: "OCSP responder for " + c.cert.Subject.CommonName},
		NotBefore:    now.Add(-24 * time.Hour),
		NotAfter:     now.Add(lifetime),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning},
		// id-pkix-ocsp-nocheck: clients need not check this certificate's revocation.
		ExtraExtensions:       []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 5}, Value: []byte{0x05, 0x00}}},
		BasicConstraintsValid: true,
	}
	cert, err := sign(tmpl, c, key)
	if err != nil {
		return err
	}
	if err := writeCert("ocsp-"+c.name, cert); err != nil {
		return err
	}
	return writeKey("ocsp-"+c.name, key)
}

func serverCert(issuer *ca) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "localhost"},
		NotBefore:             now.Add(-24 * time.Hour),
		NotAfter:              now.Add(lifetime),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		BasicConstraintsValid: true,
	}
	cert, err := sign(tmpl, issuer, key)
	if err != nil {
		return err
	}
	if err := writeCert("server", cert); err != nil {
		return err
	}
	return writeKey("server", key)
}

func writeCRL(c *ca) error {
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number:                    big.NewInt(1),
		ThisUpdate:                now.Add(-time.Hour),
		NextUpdate:                now.Add(lifetime),
		RevokedCertificateEntries: c.crlRevoked,
	}, c.cert, c.key)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(*outDir, c.name+".crl"), der, 0o644)
}

func writeCert(name string, cert *x509.Certificate) error {
	return os.WriteFile(filepath.Join(*outDir, name+".crt"),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o644)
}

func writeKey(name string, key crypto.Signer) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(*outDir, name+".key"),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
}

func rsaKey() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) }

func mustOID(o asn1.ObjectIdentifier) x509.OID {
	ints := make([]uint64, len(o))
	for i, v := range o {
		ints[i] = uint64(v)
	}
	oid, err := x509.OIDFromInts(ints)
	if err != nil {
		panic(err)
	}
	return oid
}
