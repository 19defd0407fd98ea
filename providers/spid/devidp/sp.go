package devidp

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/crewjam/saml"
)

// serviceProvider is what the dev IdP knows about the SP, from its metadata.
type serviceProvider struct {
	EntityID string
	Certs    []*x509.Certificate
	// ACS maps AssertionConsumerService index to its HTTP-POST Location.
	ACS map[int]string
	// Attributes maps AttributeConsumingService index to the requested attribute names.
	Attributes map[int][]string
	// SLO maps a binding to the SP's SingleLogoutService Location.
	SLO map[string]string
}

// spCache fetches the SP metadata lazily and keeps it until a signature fails to verify.
type spCache struct {
	fetch func(ctx context.Context) ([]byte, error)
	mu    sync.Mutex
	sp    *serviceProvider
}

func (c *spCache) get(ctx context.Context, fresh bool) (*serviceProvider, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sp != nil && !fresh {
		return c.sp, nil
	}
	raw, err := c.fetch(ctx)
	if err != nil {
		return nil, fmt.Errorf("sp metadata: %w", err)
	}
	sp, err := parseSPMetadata(raw)
	if err != nil {
		return nil, err
	}
	c.sp = sp
	return sp, nil
}

// FetchURL returns a metadata fetcher for an HTTP(S) URL.
func FetchURL(client *http.Client, url string) func(ctx context.Context) ([]byte, error) {
	if client == nil {
		client = http.DefaultClient
	}
	return func(ctx context.Context) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: HTTP %d", url, resp.StatusCode)
		}
		return io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	}
}

func parseSPMetadata(raw []byte) (*serviceProvider, error) {
	var ed saml.EntityDescriptor
	if err := xml.Unmarshal(raw, &ed); err != nil {
		return nil, fmt.Errorf("sp metadata: %w", err)
	}
	if len(ed.SPSSODescriptors) == 0 {
		return nil, errors.New("sp metadata: no SPSSODescriptor")
	}
	d := ed.SPSSODescriptors[0]
	sp := &serviceProvider{EntityID: ed.EntityID, ACS: map[int]string{}, Attributes: map[int][]string{}, SLO: map[string]string{}}
	for _, kd := range d.KeyDescriptors {
		if kd.Use != "" && kd.Use != "signing" {
			continue
		}
		for _, xc := range kd.KeyInfo.X509Data.X509Certificates {
			der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(xc.Data), ""))
			if err != nil {
				return nil, fmt.Errorf("sp metadata: certificate: %w", err)
			}
			c, err := x509.ParseCertificate(der)
			if err != nil {
				return nil, fmt.Errorf("sp metadata: certificate: %w", err)
			}
			sp.Certs = append(sp.Certs, c)
		}
	}
	for _, a := range d.AssertionConsumerServices {
		if a.Binding == "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" {
			sp.ACS[a.Index] = a.Location
		}
	}
	for _, s := range d.AttributeConsumingServices {
		for _, ra := range s.RequestedAttributes {
			sp.Attributes[s.Index] = append(sp.Attributes[s.Index], ra.Name)
		}
	}
	for _, e := range d.SingleLogoutServices {
		sp.SLO[e.Binding] = e.Location
	}
	if len(sp.Certs) == 0 || len(sp.ACS) == 0 {
		return nil, errors.New("sp metadata: no signing certificate or no HTTP-POST ACS")
	}
	return sp, nil
}
