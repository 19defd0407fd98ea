package providers

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// A client certificate chain reaches the broker in the TLS handshake or, behind a reverse
// proxy that terminates TLS, in a header; the parsers below are the one way outside PEM
// becomes a chain for a CertificateAuthenticator.

// Limits on outside input.
const (
	// MaxChainPEM bounds a PEM chain given by a client or a proxy header.
	MaxChainPEM = 64 << 10
	// MaxChainLen bounds the number of certificates in a presented chain.
	MaxChainLen = 8
)

// ErrBadPEM is returned for a PEM chain that cannot be used.
var ErrBadPEM = errors.New("providers: bad PEM certificate chain")

// ParsePEMChain parses PEM CERTIFICATE blocks, leaf first. Anything else (other block types,
// text between blocks beyond whitespace, more than MaxChainLen certificates, more than
// MaxChainPEM bytes) is refused.
func ParsePEMChain(data []byte) ([]*x509.Certificate, error) {
	if len(data) > MaxChainPEM {
		return nil, fmt.Errorf("%w: %d bytes", ErrBadPEM, len(data))
	}
	var chain []*x509.Certificate
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" || len(block.Headers) != 0 {
			return nil, fmt.Errorf("%w: unexpected block %q", ErrBadPEM, block.Type)
		}
		if len(chain) == MaxChainLen {
			return nil, fmt.Errorf("%w: more than %d certificates", ErrBadPEM, MaxChainLen)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadPEM, err)
		}
		chain = append(chain, cert)
	}
	if strings.TrimSpace(string(rest)) != "" {
		return nil, fmt.Errorf("%w: trailing data", ErrBadPEM)
	}
	if len(chain) == 0 {
		return nil, fmt.Errorf("%w: no certificate", ErrBadPEM)
	}
	return chain, nil
}

// ParseEscapedPEM parses a URL-encoded PEM chain as reverse proxies pass it in a header (nginx
// $ssl_client_escaped_cert, Apache with a rewritten SSL_CLIENT_CERT). An empty value means no
// certificate and is refused like any malformed value.
func ParseEscapedPEM(headerValue string) ([]*x509.Certificate, error) {
	if len(headerValue) > 3*MaxChainPEM {
		return nil, fmt.Errorf("%w: header of %d bytes", ErrBadPEM, len(headerValue))
	}
	// PathUnescape keeps "+" (a base64 character) as is, unlike QueryUnescape. A proxy that
	// form-encodes the value turns the spaces of the armour lines ("-----BEGIN CERTIFICATE-----")
	// into "+": there, and only there, "+" stands for a space.
	pemText, err := url.PathUnescape(headerValue)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadPEM, err)
	}
	lines := strings.Split(pemText, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "-----") {
			lines[i] = strings.ReplaceAll(l, "+", " ")
		}
	}
	return ParsePEMChain([]byte(strings.Join(lines, "\n")))
}
