package x509auth

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/inps/sportello/providers/x509auth/internal/ocspext"
)

// maxOCSPResponse bounds an OCSP response.
const maxOCSPResponse = 64 << 10

// clockSkew tolerates responders whose clock runs a little ahead.
const clockSkew = 5 * time.Minute

type ocspEntry struct {
	status status
}

// checkOCSP asks the responder about cert; answers are cached until their nextUpdate.
func (rc *revocationChecker) checkOCSP(ctx context.Context, cert, issuer *x509.Certificate) (status, error) {
	url := rc.p.Revocation.OCSPResponder
	if url == "" {
		if len(cert.OCSPServer) == 0 {
			return statusUnknown, errors.New("no OCSP responder")
		}
		url = cert.OCSPServer[0]
	}
	url, ok := rc.rewrite(url)
	if !ok {
		return statusUnknown, fmt.Errorf("OCSP responder %q is not http(s)", url)
	}
	key := certKey(issuer) + "|" + cert.SerialNumber.Text(16)
	entry, err := rc.ocsp.get(ctx, key, rc.p.Now(), func() (*ocspEntry, time.Time, error) {
		at := rc.p.Now()
		e, until, err := rc.loadOCSP(ctx, url, cert, issuer)
		rc.health.ocspAnswered(issuer, url, at, err)
		return e, until, err
	})
	if err != nil {
		return statusUnknown, err
	}
	if entry.status == statusUnknown {
		return statusUnknown, errors.New("OCSP status unknown")
	}
	return entry.status, nil
}

func (rc *revocationChecker) loadOCSP(ctx context.Context, url string, cert, issuer *x509.Certificate) (*ocspEntry, time.Time, error) {
	nonce := make([]byte, 32)
	if _, err := io.ReadFull(rc.p.Rand, nonce); err != nil {
		return nil, time.Time{}, err
	}
	req, err := ocspext.Request(cert, issuer, nonce)
	if err != nil {
		return nil, time.Time{}, err
	}
	data, err := rc.fetch(ctx, http.MethodPost, url, "application/ocsp-request", bytes.NewReader(req), maxOCSPResponse)
	if err != nil {
		return nil, time.Time{}, err
	}
	// Checks the signature: by the issuer, or by a responder certificate the issuer signed.
	resp, err := ocsp.ParseResponseForCert(data, cert, issuer)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("%s: %w", url, err)
	}
	now := rc.p.Now()
	if rc := resp.Certificate; rc != nil && !rc.Equal(issuer) {
		if !slices.Contains(rc.ExtKeyUsage, x509.ExtKeyUsageOCSPSigning) {
			return nil, time.Time{}, fmt.Errorf("%s: responder certificate lacks OCSPSigning", url)
		}
		if now.Before(rc.NotBefore) || now.After(rc.NotAfter) {
			return nil, time.Time{}, fmt.Errorf("%s: responder certificate not valid now", url)
		}
	}
	got, err := ocspext.ResponseNonce(resp)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("%s: nonce: %w", url, err)
	}
	switch {
	case got != nil && !bytes.Equal(got, nonce):
		return nil, time.Time{}, fmt.Errorf("%s: nonce mismatch", url)
	case got == nil && rc.p.Revocation.RequireOCSPNonce:
		return nil, time.Time{}, fmt.Errorf("%s: nonce not echoed", url)
	}
	if resp.ThisUpdate.After(now.Add(clockSkew)) {
		return nil, time.Time{}, fmt.Errorf("%s: response from the future (%s)", url, resp.ThisUpdate.UTC())
	}
	until := now.Add(DefaultCacheTTL)
	if !resp.NextUpdate.IsZero() {
		if now.After(resp.NextUpdate) {
			return nil, time.Time{}, fmt.Errorf("%s: stale response, nextUpdate %s", url, resp.NextUpdate.UTC())
		}
		until = resp.NextUpdate
	} else if got == nil {
		// No nextUpdate and no nonce: nothing proves freshness beyond this moment.
		until = now
	}
	entry := &ocspEntry{}
	switch resp.Status {
	case ocsp.Good:
		entry.status = statusGood
	case ocsp.Revoked:
		entry.status = statusRevoked
	default:
		entry.status = statusUnknown
	}
	return entry, until, nil
}
