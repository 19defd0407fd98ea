package x509auth

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/inps/sportello/providers"
)

// status is one source's answer about one certificate.
type status int

const (
	statusUnknown status = iota // no answer (unreachable, stale, no URL, OCSP "unknown")
	statusGood
	statusRevoked
)

// revocationChecker checks certificates against CRLs and OCSP responders, caching both.
type revocationChecker struct {
	p    Policy
	crls *flightCache[*crlEntry]
	ocsp *flightCache[*ocspEntry]
	// health records each download and exchange for the console; nothing decides by it.
	health *health
}

func newRevocationChecker(p Policy) *revocationChecker {
	return &revocationChecker{p: p, crls: newFlightCache[*crlEntry](), ocsp: newFlightCache[*ocspEntry](), health: newHealth()}
}

// checkChain checks every certificate of a verified chain below its anchor.
func (rc *revocationChecker) checkChain(ctx context.Context, chain []*x509.Certificate) error {
	r := rc.p.Revocation
	if !r.CRL && !r.OCSP {
		return nil
	}
	for i := 0; i+1 < len(chain); i++ {
		if err := rc.check(ctx, chain[i], chain[i+1]); err != nil {
			return err
		}
	}
	return nil
}

func (rc *revocationChecker) check(ctx context.Context, cert, issuer *x509.Certificate) error {
	r := rc.p.Revocation
	answered := false
	var problems []error
	if r.CRL {
		st, err := rc.checkCRL(ctx, cert, issuer)
		rc.observe("crl", st)
		if st == statusRevoked {
			return rejectf(ReasonRevoked, "serial %s revoked by CRL of %s", cert.SerialNumber.Text(16), issuer.Subject)
		}
		answered = answered || st == statusGood
		if err != nil {
			problems = append(problems, fmt.Errorf("crl: %w", err))
		}
	}
	if r.OCSP {
		st, err := rc.checkOCSP(ctx, cert, issuer)
		rc.observe("ocsp", st)
		if st == statusRevoked {
			return rejectf(ReasonRevoked, "serial %s revoked by OCSP", cert.SerialNumber.Text(16))
		}
		answered = answered || st == statusGood
		if err != nil {
			problems = append(problems, fmt.Errorf("ocsp: %w", err))
		}
	}
	if answered {
		return nil
	}
	cause := errors.Join(problems...)
	if cause == nil {
		cause = errors.New("no revocation source")
	}
	if r.OnUnreachable == OnUnreachableAllow {
		rc.p.Logger.Warn("revocation status unknown, accepted by configuration",
			"serial", cert.SerialNumber.Text(16), "issuer", issuer.Subject.String(), "err", cause)
		return nil
	}
	return &providers.UserError{Code: ReasonRevocationUnavailable,
		Err: fmt.Errorf("%w: %w: serial %s: %w", providers.ErrCredentialRejected, providers.ErrUnavailable,
			cert.SerialNumber.Text(16), cause)}
}

func (rc *revocationChecker) observe(source string, st status) {
	if rc.p.OnRevocationCheck == nil {
		return
	}
	result := "unknown"
	switch st {
	case statusGood:
		result = "good"
	case statusRevoked:
		result = "revoked"
	}
	rc.p.OnRevocationCheck(source, result)
}

// rewrite applies Revocation.URLRewrite and keeps only http(s) URLs.
func (rc *revocationChecker) rewrite(u string) (string, bool) {
	for from, to := range rc.p.Revocation.URLRewrite {
		if strings.HasPrefix(u, from) {
			u = to + strings.TrimPrefix(u, from)
			break
		}
	}
	return u, strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://")
}

// fetch performs one bounded HTTP exchange: FetchTimeout, at most limit bytes of body.
func (rc *revocationChecker) fetch(ctx context.Context, method, url, contentType string, body io.Reader, limit int64) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, rc.p.Revocation.FetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := rc.p.HTTPClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: HTTP %d", url, resp.StatusCode)
	}
	if resp.ContentLength > limit {
		return nil, fmt.Errorf("%s: %d bytes, limit %d", url, resp.ContentLength, limit)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: more than %d bytes", url, limit)
	}
	return data, nil
}

// certKey identifies an issuer's key for cache keys.
func certKey(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}
