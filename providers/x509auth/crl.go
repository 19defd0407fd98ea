package x509auth

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"time"
)

type crlEntry struct {
	revoked    map[string]bool // serial numbers, hexadecimal
	nextUpdate time.Time
}

// checkCRL looks cert up in the CRLs of its distribution points (the first usable one
// decides).
func (rc *revocationChecker) checkCRL(ctx context.Context, cert, issuer *x509.Certificate) (status, error) {
	var problems []error
	for _, dp := range cert.CRLDistributionPoints {
		url, ok := rc.rewrite(dp)
		if !ok {
			continue
		}
		entry, err := rc.crls.get(ctx, url+"|"+certKey(issuer), rc.p.Now(), func() (*crlEntry, time.Time, error) {
			at := rc.p.Now()
			e, until, err := rc.loadCRL(ctx, url, issuer)
			rc.health.crlLoaded(issuer, url, at, e, err)
			return e, until, err
		})
		if err != nil {
			problems = append(problems, err)
			continue
		}
		if entry.revoked[cert.SerialNumber.Text(16)] {
			return statusRevoked, nil
		}
		return statusGood, nil
	}
	if len(problems) == 0 {
		return statusUnknown, errors.New("no http CRL distribution point")
	}
	return statusUnknown, errors.Join(problems...)
}

// loadCRL downloads, checks and indexes one CRL.
func (rc *revocationChecker) loadCRL(ctx context.Context, url string, issuer *x509.Certificate) (*crlEntry, time.Time, error) {
	data, err := rc.fetch(ctx, http.MethodGet, url, "", nil, rc.p.Revocation.MaxCRLSize)
	if err != nil {
		return nil, time.Time{}, err
	}
	if block, _ := pem.Decode(data); block != nil && block.Type == "X509 CRL" {
		data = block.Bytes
	}
	crl, err := x509.ParseRevocationList(data)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("%s: %w", url, err)
	}
	if !bytes.Equal(crl.RawIssuer, issuer.RawSubject) {
		return nil, time.Time{}, fmt.Errorf("%s: CRL issued by %s, not %s", url, crl.Issuer, issuer.Subject)
	}
	if err := crl.CheckSignatureFrom(issuer); err != nil {
		return nil, time.Time{}, fmt.Errorf("%s: %w", url, err)
	}
	now := rc.p.Now()
	until := now.Add(DefaultCacheTTL)
	if !crl.NextUpdate.IsZero() {
		if now.After(crl.NextUpdate) {
			return nil, time.Time{}, fmt.Errorf("%s: stale CRL, nextUpdate %s", url, crl.NextUpdate.UTC())
		}
		until = crl.NextUpdate
	}
	entry := &crlEntry{revoked: make(map[string]bool, len(crl.RevokedCertificateEntries)), nextUpdate: crl.NextUpdate}
	for _, e := range crl.RevokedCertificateEntries {
		entry.revoked[e.SerialNumber.Text(16)] = true
	}
	return entry, until, nil
}
