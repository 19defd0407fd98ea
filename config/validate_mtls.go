package config

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/netip"
	"net/url"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// maxCertFile bounds a client's CA or pinned-certificate file.
const maxCertFile = 1 << 20

// TLSClientSubject is the one subject attribute of a tls_client_auth client (RFC 8705 §2.1.2):
// Kind is the configuration key's suffix ("subject_dn", "san_dns", "san_uri", "san_email",
// "san_ip"), Value its value. Kind is "" when none or more than one is set.
func (cl *Client) TLSClientSubject() (kind, value string) {
	set := 0
	for _, a := range []struct{ k, v string }{
		{"subject_dn", cl.TLSClientAuthSubjectDN}, {"san_dns", cl.TLSClientAuthSANDNS}, {"san_uri", cl.TLSClientAuthSANURI},
		{"san_email", cl.TLSClientAuthSANEmail}, {"san_ip", cl.TLSClientAuthSANIP},
	} {
		if a.v != "" {
			set++
			kind, value = a.k, a.v
		}
	}
	if set != 1 {
		return "", ""
	}
	return kind, value
}

// validateTLSClient checks the RFC 8705 settings of a client: a tls_client_auth client has
// its CAs and exactly one subject attribute; a self_signed_tls_client_auth client registers
// at least one certificate (pinned, or x5c in its jwks_file); neither is set on another
// client; certificate-bound tokens need the mutual-TLS listener.
func (c *Config) validateTLSClient(v *validator, p string, cl *Client) {
	subjects := []struct{ key, value string }{{"tls_client_auth_subject_dn", cl.TLSClientAuthSubjectDN}, {"tls_client_auth_san_dns", cl.TLSClientAuthSANDNS},
		{"tls_client_auth_san_uri", cl.TLSClientAuthSANURI}, {"tls_client_auth_san_email", cl.TLSClientAuthSANEmail}, {"tls_client_auth_san_ip", cl.TLSClientAuthSANIP}}
	pki := cl.AuthMethod == AuthTLSClient
	selfSigned := cl.AuthMethod == AuthSelfSignedTLSClient
	if pki || selfSigned || cl.CertBound() {
		// Behind a proxy the header reaches that listener too: it is the only one that reads it.
		if c.Listen.MTLS == "" {
			v.add(p+".auth_method", "mutual TLS needs the mutual-TLS listener: listen.mtls")
		}
	}
	if !pki {
		if cl.TLSClientAuthCAFile != "" {
			v.add(p+".tls_client_auth_ca_file", "set without auth_method: tls_client_auth")
		}
		for _, a := range subjects {
			if a.value != "" {
				v.add(p+"."+a.key, "set without auth_method: tls_client_auth")
			}
		}
	}
	if !selfSigned && cl.TLSClientCertificateFile != "" {
		v.add(p+".tls_client_certificate_file", "set without auth_method: self_signed_tls_client_auth")
	}
	switch {
	case pki:
		if cl.TLSClientAuthCAFile == "" {
			v.add(p+".tls_client_auth_ca_file", "required with tls_client_auth: the CAs (PEM) the client's certificate chains to")
		} else if _, msg := readCertFile(cl.TLSClientAuthCAFile); msg != "" {
			v.add(p+".tls_client_auth_ca_file", "%s", msg)
		}
		if kind, value := cl.TLSClientSubject(); kind == "" {
			v.add(p+".auth_method", "tls_client_auth needs exactly one of tls_client_auth_subject_dn, tls_client_auth_san_dns, _san_uri, _san_email, _san_ip (RFC 8705 §2.1.2)")
		} else if msg := checkTLSSubject(kind, value); msg != "" {
			v.add(p+".tls_client_auth_"+kind, "%s", msg)
		}
	case selfSigned:
		n := 0
		if cl.TLSClientCertificateFile != "" {
			certs, msg := readCertFile(cl.TLSClientCertificateFile)
			if msg != "" {
				v.add(p+".tls_client_certificate_file", "%s", msg)
			}
			n += len(certs)
		}
		if cl.JWKSFile != "" {
			n += jwksCertificates(cl.JWKSFile)
		}
		if n == 0 && (cl.TLSClientCertificateFile == "" || cl.JWKSFile != "") {
			v.add(p+".auth_method", "self_signed_tls_client_auth needs the client's certificates: tls_client_certificate_file, or x5c in its jwks_file keys")
		}
	}
}

// checkTLSSubject says why a subject attribute value cannot match a certificate, or "".
func checkTLSSubject(kind, value string) string {
	if strings.TrimSpace(value) != value {
		return "must not start or end with spaces"
	}
	switch kind {
	case "san_ip":
		if _, err := netip.ParseAddr(value); err != nil {
			return "want an IPv4 or IPv6 address"
		}
	case "san_uri":
		if u, err := url.Parse(value); err != nil || !u.IsAbs() {
			return "want an absolute URI"
		}
	case "san_email":
		if !strings.Contains(value, "@") {
			return "want an e-mail address"
		}
	case "subject_dn":
		if !strings.Contains(value, "=") {
			return `want an RFC 4514 distinguished name such as "CN=portale,O=INPS,C=IT"`
		}
	}
	return ""
}

// readCertFile reads a PEM file of certificates: at least one, nothing else in it.
func readCertFile(name string) ([]*x509.Certificate, string) {
	data, err := readSmallFile(name, maxCertFile)
	if err != nil {
		return nil, err.Error()
	}
	certs, err := ParseCertificatesPEM(data)
	if err != nil {
		return nil, fmt.Sprintf("%s: %v", name, err)
	}
	return certs, ""
}

// ParseCertificatesPEM parses a PEM bundle of certificates: at least one, only CERTIFICATE
// blocks, no trailing garbage.
func ParseCertificatesPEM(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for {
		var blk *pem.Block
		blk, data = pem.Decode(data)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("a PEM block of type %q: want certificates only", blk.Type)
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, err
		}
		certs = append(certs, c)
	}
	if strings.TrimSpace(string(data)) != "" {
		return nil, fmt.Errorf("not PEM certificates")
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("no certificate")
	}
	return certs, nil
}

// jwksCertificates counts the keys of a JWKS file that carry a certificate (x5c).
func jwksCertificates(name string) int {
	data, err := readSmallFile(name, maxJWKSFile)
	if err != nil {
		return 0
	}
	var set jose.JSONWebKeySet
	if json.Unmarshal(data, &set) != nil {
		return 0
	}
	n := 0
	for _, k := range set.Keys {
		if len(k.Certificates) > 0 {
			n++
		}
	}
	return n
}
