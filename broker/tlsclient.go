package broker

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/inps/sportello/broker/claims"
	"github.com/inps/sportello/config"
)

// Why a mutual-TLS client authentication failed (RFC 8705 §2); the client gets
// invalid_client, as for every other method.
var (
	errNoClientCert      = errors.New("no client certificate: mutual-TLS client authentication is only on the mutual-TLS listener")
	errClientCertChain   = errors.New("client certificate does not chain to the client's CAs")
	errClientCertSubject = errors.New("client certificate does not carry the client's registered subject")
	errClientCertPinned  = errors.New("client certificate is not one the client registered")
)

// tlsClientAuth recognises a client's certificate: PKI (tls_client_auth: a path to one of
// roots, verified by crypto/x509 for the clientAuth usage, and the one registered subject
// attribute) or self-signed (self_signed_tls_client_auth: the very certificate registered).
type tlsClientAuth struct {
	selfSigned bool
	roots      *x509.CertPool
	// kind and value are the registered subject attribute (config.Client.TLSClientSubject).
	kind, value string
	// pinned are the DER certificates a self-signed client registered.
	pinned [][]byte
}

// newTLSClientAuth reads the client's CAs or registered certificates; nil for a client of
// another method.
func newTLSClientAuth(c config.Client, keys *jose.JSONWebKeySet) (*tlsClientAuth, error) {
	switch c.AuthMethod {
	case config.AuthTLSClient:
		certs, err := readCerts(c.TLSClientAuthCAFile)
		if err != nil {
			return nil, fmt.Errorf("tls_client_auth_ca_file: %w", err)
		}
		a := &tlsClientAuth{roots: x509.NewCertPool()}
		for _, ca := range certs {
			a.roots.AddCert(ca)
		}
		if a.kind, a.value = c.TLSClientSubject(); a.kind == "" {
			return nil, errors.New("tls_client_auth needs exactly one subject attribute")
		}
		return a, nil
	case config.AuthSelfSignedTLSClient:
		a := &tlsClientAuth{selfSigned: true}
		if c.TLSClientCertificateFile != "" {
			certs, err := readCerts(c.TLSClientCertificateFile)
			if err != nil {
				return nil, fmt.Errorf("tls_client_certificate_file: %w", err)
			}
			for _, cert := range certs {
				a.pinned = append(a.pinned, cert.Raw)
			}
		}
		if keys != nil {
			// RFC 8705 §2.2: the certificate is the first of a registered key's x5c.
			for _, k := range keys.Keys {
				if len(k.Certificates) > 0 {
					a.pinned = append(a.pinned, k.Certificates[0].Raw)
				}
			}
		}
		if len(a.pinned) == 0 {
			return nil, errors.New("self_signed_tls_client_auth needs a registered certificate")
		}
		return a, nil
	}
	return nil, nil
}

func readCerts(name string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return config.ParseCertificatesPEM(data)
}

// verify authenticates the client by the chain it presented (leaf first). PKI: the leaf is
// verified by crypto/x509 against the client's CAs alone, with what else the client sent as
// intermediates, for the clientAuth usage at now; then its subject DN or one of its SANs must
// equal the registered value (RFC 8705 §2.1.2). Self-signed: the leaf must be, byte for byte,
// a certificate the client registered (§2.2); no path is built.
func (a *tlsClientAuth) verify(chain []*x509.Certificate, now time.Time) error {
	if len(chain) == 0 {
		return errNoClientCert
	}
	leaf := chain[0]
	if a.selfSigned {
		if !slices.ContainsFunc(a.pinned, func(der []byte) bool { return bytes.Equal(der, leaf.Raw) }) {
			return errClientCertPinned
		}
		return nil
	}
	opts := x509.VerifyOptions{Roots: a.roots, Intermediates: x509.NewCertPool(), CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	for _, c := range chain[1:] {
		opts.Intermediates.AddCert(c)
	}
	if _, err := leaf.Verify(opts); err != nil {
		return fmt.Errorf("%w: %w", errClientCertChain, err)
	}
	if !subjectMatches(leaf, a.kind, a.value) {
		return errClientCertSubject
	}
	return nil
}

// subjectMatches compares the registered subject attribute with the certificate's: the
// subject DN in crypto/x509's RFC 4514 form, or one SAN of the kind, exactly (an IP address
// compared as an address, so "::1" matches "0:0:0:0:0:0:0:1").
func subjectMatches(c *x509.Certificate, kind, value string) bool {
	switch kind {
	case "subject_dn":
		return c.Subject.String() == value
	case "san_dns":
		return slices.Contains(c.DNSNames, value)
	case "san_email":
		return slices.Contains(c.EmailAddresses, value)
	case "san_uri":
		return slices.ContainsFunc(c.URIs, func(u *url.URL) bool { return u.String() == value })
	case "san_ip":
		want := net.ParseIP(value)
		return want != nil && slices.ContainsFunc(c.IPAddresses, func(ip net.IP) bool { return ip.Equal(want) })
	}
	return false
}

// certThumbprint is the x5t#S256 of a certificate: base64url (unpadded) SHA-256 of its DER
// encoding (RFC 8705 §3.1).
func certThumbprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

type ctxClientCert struct{}

// withClientCert makes the client certificate of a request on the mutual-TLS listener (from
// the handshake, or the trusted proxy's header) available to the OAuth endpoints behind it:
// client authentication by certificate and certificate-bound tokens see it there and nowhere
// else. A header that does not parse is a request without a certificate.
func (b *Broker) withClientCert(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if chain, err := b.clientChain(r); err == nil && len(chain) > 0 {
			r = r.WithContext(context.WithValue(r.Context(), ctxClientCert{}, chain))
		}
		next.ServeHTTP(w, r)
	})
}

// clientCertFrom is the presented chain of a request on the mutual-TLS listener; nil on the
// main listener.
func clientCertFrom(ctx context.Context) []*x509.Certificate {
	chain, _ := ctx.Value(ctxClientCert{}).([]*x509.Certificate)
	return chain
}

// certIntrospection serves introspection on the mutual-TLS listener for a client that
// authenticates by its certificate alone (RFC 8705 §2: client_id and the connection): the op
// router's introspection insists on a secret or an assertion, so such a request is decoded
// here and answered by Introspect, which authenticates it as the token endpoint does. Any
// other request goes to the op router.
func (b *Broker) certIntrospection(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			op.WriteError(w, r, oidc.ErrInvalidRequest().WithDescription("malformed form"), nil)
			return
		}
		_, _, basic := r.BasicAuth()
		if basic || r.PostForm.Get("client_secret") != "" || r.PostForm.Get("client_assertion") != "" || clientCertFrom(r.Context()) == nil {
			next.ServeHTTP(w, r)
			return
		}
		if r.PostForm.Get("client_id") == "" {
			op.WriteError(w, r, oidc.ErrInvalidRequest().WithDescription("client_id is required"), nil)
			return
		}
		tok := r.PostForm.Get("token")
		if tok == "" {
			op.WriteError(w, r, oidc.ErrInvalidRequest().WithDescription("token missing"), nil)
			return
		}
		resp, err := b.Introspect(r.Context(), &op.Request[op.IntrospectionRequest]{Method: r.Method, URL: r.URL, Header: r.Header, Form: r.PostForm,
			Data: &op.IntrospectionRequest{ClientCredentials: &op.ClientCredentials{ClientID: r.PostForm.Get("client_id")},
				IntrospectionRequest: &oidc.IntrospectionRequest{Token: tok}}})
		if err != nil {
			op.WriteError(w, r, err, nil)
			return
		}
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(resp.Data)
	})
}

// errCertMismatch: a certificate-bound access token presented without its certificate.
var errCertMismatch = errors.New("the access token is bound to a client certificate that was not presented")

// certBinding is the x5t#S256 the tokens issued now to cl are bound to (RFC 8705 §3): "" for
// a client without tls_client_certificate_bound_access_tokens; else that of the certificate
// of this request, which must then have come over the mutual-TLS listener with one
// (invalid_request otherwise: a bearer token is never issued to such a client).
func (b *Broker) certBinding(ctx context.Context, cl *Client) (string, error) {
	if !cl.certBound {
		return "", nil
	}
	chain := clientCertFrom(ctx)
	if len(chain) == 0 {
		return "", oidc.ErrInvalidRequest().WithDescription("this client's tokens are bound to its TLS client certificate: call the mutual-TLS endpoint (mtls_endpoint_aliases) with one")
	}
	return certThumbprint(chain[0]), nil
}

// checkCertBound refuses a certificate-bound access token unless the request presented that
// certificate (RFC 8705 §3: the protected resource compares the thumbprints); a bearer token
// passes.
func checkCertBound(ctx context.Context, c *claims.Access) error {
	if c.Confirmation == nil || c.Confirmation.X5TS256 == "" {
		return nil
	}
	chain := clientCertFrom(ctx)
	if len(chain) == 0 || subtle.ConstantTimeCompare([]byte(certThumbprint(chain[0])), []byte(c.Confirmation.X5TS256)) != 1 {
		return errCertMismatch
	}
	return nil
}
