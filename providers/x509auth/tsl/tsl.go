package tsl

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/beevik/etree"
	xrv "github.com/mattermost/xml-roundtrip-validator"
	dsig "github.com/russellhaering/goxmldsig"
)

// Service types and statuses of ETSI TS 119 612.
const (
	ServiceTypeIdV = "http://uri.etsi.org/TrstSvc/Svctype/IdV"

	StatusGranted    = "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/granted"
	StatusRecognised = "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/recognisedatnationallevel"
)

// MaxListSize bounds the list read (the Italian list is a few megabytes).
const MaxListSize = 64 << 20

// ErrSignature is returned when the list's signature does not verify.
var ErrSignature = errors.New("tsl: signature does not verify")

// List is a parsed trusted list.
type List struct {
	Territory      string
	SequenceNumber string
	IssueDate      string
	NextUpdate     string
	Services       []Service
}

// Service is one trust service of one provider.
type Service struct {
	// Provider is the trust service provider's name, Name the service's (first given).
	Provider, Name string
	Type, Status   string
	Certificates   []*x509.Certificate
}

type xmlList struct {
	XMLName xml.Name `xml:"http://uri.etsi.org/02231/v2# TrustServiceStatusList"`
	Scheme  struct {
		Seq        string `xml:"TSLSequenceNumber"`
		Territory  string `xml:"SchemeTerritory"`
		Issue      string `xml:"ListIssueDateTime"`
		NextUpdate string `xml:"NextUpdate>dateTime"`
	} `xml:"SchemeInformation"`
	TSPs []struct {
		Names    []string `xml:"TSPInformation>TSPName>Name"`
		Services []struct {
			Type   string   `xml:"ServiceInformation>ServiceTypeIdentifier"`
			Names  []string `xml:"ServiceInformation>ServiceName>Name"`
			Status string   `xml:"ServiceInformation>ServiceStatus"`
			Certs  []string `xml:"ServiceInformation>ServiceDigitalIdentity>DigitalId>X509Certificate"`
		} `xml:"TSPServices>TSPService"`
	} `xml:"TrustServiceProviderList>TrustServiceProvider"`
}

// Parse reads a list without checking its signature.
func Parse(data []byte) (*List, error) {
	if len(data) > MaxListSize {
		return nil, fmt.Errorf("tsl: %d bytes, limit %d", len(data), MaxListSize)
	}
	if err := xrv.Validate(bytes.NewReader(data)); err != nil {
		return nil, fmt.Errorf("tsl: %w", err)
	}
	var x xmlList
	if err := xml.Unmarshal(data, &x); err != nil {
		return nil, fmt.Errorf("tsl: %w", err)
	}
	l := &List{Territory: x.Scheme.Territory, SequenceNumber: x.Scheme.Seq, IssueDate: x.Scheme.Issue, NextUpdate: x.Scheme.NextUpdate}
	for _, tsp := range x.TSPs {
		for _, s := range tsp.Services {
			svc := Service{Provider: first(tsp.Names), Name: first(s.Names), Type: strings.TrimSpace(s.Type), Status: strings.TrimSpace(s.Status)}
			for _, b64 := range s.Certs {
				der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(b64), ""))
				if err != nil {
					return nil, fmt.Errorf("tsl: service %q: %w", svc.Name, err)
				}
				cert, err := x509.ParseCertificate(der)
				if err != nil {
					return nil, fmt.Errorf("tsl: service %q: %w", svc.Name, err)
				}
				svc.Certificates = append(svc.Certificates, cert)
			}
			l.Services = append(l.Services, svc)
		}
	}
	return l, nil
}

// ParseVerified checks the list's enveloped signature against signer and parses only what the
// signature covers.
func ParseVerified(data []byte, signer *x509.Certificate, now func() time.Time) (*List, error) {
	if len(data) > MaxListSize {
		return nil, fmt.Errorf("tsl: %d bytes, limit %d", len(data), MaxListSize)
	}
	if err := xrv.Validate(bytes.NewReader(data)); err != nil {
		return nil, fmt.Errorf("tsl: %w", err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(data); err != nil {
		return nil, fmt.Errorf("tsl: %w", err)
	}
	if doc.Root() == nil {
		return nil, errors.New("tsl: empty document")
	}
	ctx := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{signer}})
	ctx.IdAttribute = "Id"
	if now != nil {
		ctx.Clock = dsig.NewFakeClockAt(now())
	}
	signed, err := ctx.Validate(doc.Root())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSignature, err)
	}
	out := etree.NewDocument()
	out.SetRoot(signed)
	verified, err := out.WriteToBytes()
	if err != nil {
		return nil, fmt.Errorf("tsl: %w", err)
	}
	return Parse(verified)
}

// Anchors returns the certificates of the IdV services that are granted or recognised at
// national level, without duplicates, in list order.
func (l *List) Anchors() []*x509.Certificate {
	var out []*x509.Certificate
	seen := map[string]bool{}
	for _, s := range l.Services {
		if !Accepted(s) {
			continue
		}
		for _, c := range s.Certificates {
			if !seen[string(c.Raw)] {
				seen[string(c.Raw)] = true
				out = append(out, c)
			}
		}
	}
	return out
}

// Accepted reports whether a service supplies smart-card trust anchors.
func Accepted(s Service) bool {
	return s.Type == ServiceTypeIdV && (s.Status == StatusGranted || s.Status == StatusRecognised)
}

// WriteBundle writes certs as a PEM bundle, each preceded by a comment naming its subject.
func WriteBundle(w io.Writer, certs []*x509.Certificate) error {
	for _, c := range certs {
		subject := strings.ReplaceAll(c.Subject.String(), "\n", " ")
		if _, err := fmt.Fprintf(w, "# %s\n", subject); err != nil {
			return err
		}
		if err := pem.Encode(w, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}); err != nil {
			return err
		}
	}
	return nil
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return strings.TrimSpace(s[0])
}
