package spid

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"time"
)

// OIDs of the SPID SP certificate profile (Avviso SPID n.29 v3).
var (
	oidURI                    = asn1.ObjectIdentifier{2, 5, 4, 83}
	oidOrganizationIdentifier = asn1.ObjectIdentifier{2, 5, 4, 97}
	oidPolicyPublicSP         = asn1.ObjectIdentifier{1, 3, 76, 16, 4, 2, 1}
	oidPolicyAgIDCert         = asn1.ObjectIdentifier{1, 3, 76, 16, 6}
	oidExtBasicConstraints    = asn1.ObjectIdentifier{2, 5, 29, 19}
	oidExtCertificatePolicies = asn1.ObjectIdentifier{2, 5, 29, 32}
	oidQualifierUserNotice    = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 2, 2}
)

// spPolicies are the certificate policies of a public SP's certificate with the user notice
// AgID's profile gives each (the texts of AgID's reference OpenSSL configuration).
var spPolicies = []struct {
	oid    asn1.ObjectIdentifier
	notice string
}{
	{oidPolicyAgIDCert, "agIDcert"},
	{oidPolicyPublicSP, "cert_SP_Pub"},
}

// policyInformation, policyQualifierInfo and userNotice are RFC 5280's PolicyInformation,
// PolicyQualifierInfo and UserNotice (explicitText only, as a UTF8String); crypto/x509 writes
// policy OIDs without qualifiers.
type policyInformation struct {
	Policy     asn1.ObjectIdentifier
	Qualifiers []policyQualifierInfo
}

type policyQualifierInfo struct {
	ID     asn1.ObjectIdentifier
	Notice userNotice
}

type userNotice struct {
	ExplicitText string `asn1:"utf8"`
}

// spExtensions are the extensions crypto/x509 cannot write as AgID wants them:
// basicConstraints CA:FALSE *not* critical (crypto/x509 always marks it critical) and the
// certificate policies with their user notices, not critical.
func spExtensions() ([]pkix.Extension, error) {
	bc, err := asn1.Marshal(struct{}{}) // SEQUENCE {}: cA DEFAULT FALSE, no pathLen
	if err != nil {
		return nil, err
	}
	var pis []policyInformation
	for _, p := range spPolicies {
		pis = append(pis, policyInformation{Policy: p.oid,
			Qualifiers: []policyQualifierInfo{{ID: oidQualifierUserNotice, Notice: userNotice{ExplicitText: p.notice}}}})
	}
	cp, err := asn1.Marshal(pis)
	if err != nil {
		return nil, err
	}
	return []pkix.Extension{
		{Id: oidExtBasicConstraints, Critical: false, Value: bc},
		{Id: oidExtCertificatePolicies, Critical: false, Value: cp},
	}, nil
}

// CertOptions describes a SPID-shaped self-signed certificate for a public Service Provider.
type CertOptions struct {
	// EntityID goes into the uri attribute (2.5.4.83).
	EntityID string
	// IPACode gives organizationIdentifier PA:IT-<code>.
	IPACode string
	// Organization is organizationName and, unless CommonName is set, commonName.
	Organization string
	CommonName   string
	// Locality is localityName (the seat of the organisation).
	Locality string
	// Bits is the RSA key size (default 3072; less than 2048 is refused).
	Bits int
	// Validity defaults to two years.
	Validity time.Duration
	// Now and Rand are injected (defaults time.Now and crypto/rand).
	Now  func() time.Time
	Rand io.Reader
}

// GenerateCertificate creates the key and self-signed certificate (sigillo) of a public SPID
// Service Provider as AgID's certificate rules (Avviso SPID n.29 v3) want it: subject with
// commonName, organizationName, uri = entityID, organizationIdentifier PA:IT-<ipa>,
// countryName IT, localityName; sha256WithRSA; key usage digitalSignature and nonRepudiation
// (critical); basicConstraints CA:FALSE, not critical; certificate policies 1.3.76.16.6
// (agIDcert) and 1.3.76.16.4.2.1 (public SP), not critical; no extended key usage.
func GenerateCertificate(o CertOptions) (*rsa.PrivateKey, *x509.Certificate, error) {
	if o.EntityID == "" || o.IPACode == "" || o.Organization == "" || o.Locality == "" {
		return nil, nil, errors.New("certificate: entity id, IPA code, organization and locality are required")
	}
	if o.Bits == 0 {
		o.Bits = 3072
	}
	if o.Bits < 2048 {
		return nil, nil, fmt.Errorf("certificate: RSA %d bits is below 2048", o.Bits)
	}
	if o.Validity == 0 {
		o.Validity = 2 * 365 * 24 * time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	if o.CommonName == "" {
		o.CommonName = o.Organization
	}
	key, err := rsa.GenerateKey(o.Rand, o.Bits)
	if err != nil {
		return nil, nil, fmt.Errorf("certificate: %w", err)
	}
	serial, err := rand.Int(o.Rand, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("certificate: %w", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, nil, fmt.Errorf("certificate: %w", err)
	}
	ski := sha256.Sum256(pub)
	now := o.Now().UTC().Truncate(time.Second)
	subject := pkix.Name{
		CommonName:   o.CommonName,
		Organization: []string{o.Organization},
		Country:      []string{"IT"},
		Locality:     []string{o.Locality},
		ExtraNames: []pkix.AttributeTypeAndValue{
			{Type: oidURI, Value: o.EntityID},
			{Type: oidOrganizationIdentifier, Value: "PA:IT-" + o.IPACode},
		},
	}
	exts, err := spExtensions()
	if err != nil {
		return nil, nil, fmt.Errorf("certificate: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:       serial,
		Subject:            subject,
		Issuer:             subject,
		NotBefore:          now.Add(-time.Minute),
		NotAfter:           now.Add(o.Validity),
		KeyUsage:           x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		SignatureAlgorithm: x509.SHA256WithRSA,
		SubjectKeyId:       ski[:20],
		ExtraExtensions:    exts,
	}
	der, err := x509.CreateCertificate(o.Rand, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("certificate: %w", err)
	}
	return key, cert, nil
}
