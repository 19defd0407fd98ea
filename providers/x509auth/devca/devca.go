package devca

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/inps/sportello/providers/x509auth/internal/ocspext"
)

// CAs are the dev CAs served, by file name stem in testdata/pki.
var CAs = []string{"cie-root", "cie-sub", "cns-ca"}

// ResponseValidity is the nextUpdate distance of the OCSP responses served.
const ResponseValidity = time.Hour

// Options configure a Handler.
type Options struct {
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger (default slog.Default()).
	Logger *slog.Logger
}

type authority struct {
	cert      *x509.Certificate
	crl       []byte
	signer    crypto.Signer
	responder *x509.Certificate // nil when the CA signs its own responses
	revoked   map[string]bool
	nameHash  map[crypto.Hash][]byte
	keyHash   map[crypto.Hash][]byte
}

// Handler serves GET /crl/<ca>.crl and OCSP at /ocsp/<ca> (POST, or GET /ocsp/<ca>/<base64>),
// relative to where it is mounted (use http.StripPrefix).
type Handler struct {
	cas  map[string]*authority
	opts Options
}

// New loads the dev CAs, their CRLs, responder keys and ocsp-revoked.json from dir.
func New(dir string, opts Options) (*Handler, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	var revoked map[string][]string
	data, err := os.ReadFile(filepath.Join(dir, "ocsp-revoked.json"))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, &revoked); err != nil {
		return nil, fmt.Errorf("ocsp-revoked.json: %w", err)
	}
	h := &Handler{cas: map[string]*authority{}, opts: opts}
	for _, name := range CAs {
		a := &authority{revoked: map[string]bool{}}
		if a.cert, err = loadCert(filepath.Join(dir, name+".crt")); err != nil {
			return nil, err
		}
		if a.crl, err = os.ReadFile(filepath.Join(dir, name+".crl")); err != nil {
			return nil, err
		}
		stem := name
		if _, err := os.Stat(filepath.Join(dir, "ocsp-"+name+".crt")); err == nil {
			stem = "ocsp-" + name
			if a.responder, err = loadCert(filepath.Join(dir, stem+".crt")); err != nil {
				return nil, err
			}
		}
		if a.signer, err = loadKey(filepath.Join(dir, stem+".key")); err != nil {
			return nil, err
		}
		for _, s := range revoked[name] {
			a.revoked[strings.ToLower(s)] = true
		}
		if a.nameHash, a.keyHash, err = issuerHashes(a.cert); err != nil {
			return nil, err
		}
		h.cas[name] = a
	}
	return h, nil
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/")
	switch {
	case strings.HasPrefix(path, "crl/") && r.Method == http.MethodGet:
		a := h.cas[strings.TrimSuffix(strings.TrimPrefix(path, "crl/"), ".crl")]
		if a == nil || !strings.HasSuffix(path, ".crl") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/pkix-crl")
		_, _ = w.Write(a.crl)
	case strings.HasPrefix(path, "ocsp/"):
		name, rest, _ := strings.Cut(strings.TrimPrefix(path, "ocsp/"), "/")
		a := h.cas[name]
		if a == nil {
			http.NotFound(w, r)
			return
		}
		var der []byte
		var err error
		switch r.Method {
		case http.MethodPost:
			der, err = io.ReadAll(io.LimitReader(r.Body, 16<<10))
		case http.MethodGet:
			der, err = base64.StdEncoding.DecodeString(rest)
		default:
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/ocsp-response")
		_, _ = w.Write(h.respond(a, der)) //nolint:gosec // a DER OCSP response (application/ocsp-response), not HTML
	default:
		http.NotFound(w, r)
	}
}

// respond answers one DER OCSP request.
func (h *Handler) respond(a *authority, der []byte) []byte {
	req, err := ocsp.ParseRequest(der)
	if err != nil {
		return ocsp.MalformedRequestErrorResponse
	}
	if !bytes.Equal(req.IssuerNameHash, a.nameHash[req.HashAlgorithm]) ||
		!bytes.Equal(req.IssuerKeyHash, a.keyHash[req.HashAlgorithm]) {
		return ocsp.UnauthorizedErrorResponse
	}
	now := h.opts.Now().UTC().Truncate(time.Second)
	tmpl := ocsp.Response{
		Status:       ocsp.Good,
		SerialNumber: req.SerialNumber,
		ThisUpdate:   now.Add(-time.Minute),
		NextUpdate:   now.Add(ResponseValidity),
		IssuerHash:   req.HashAlgorithm,
		Certificate:  a.responder,
	}
	if a.revoked[req.SerialNumber.Text(16)] {
		tmpl.Status = ocsp.Revoked
		tmpl.RevokedAt = now.Add(-time.Hour)
		tmpl.RevocationReason = ocsp.KeyCompromise
	}
	if nonce, err := ocspext.RequestNonce(der); err == nil && nonce != nil {
		value, _ := asn1.Marshal(nonce)
		tmpl.ExtraExtensions = []pkix.Extension{{Id: ocspext.OIDNonce, Value: value}}
	}
	responder := a.responder
	if responder == nil {
		responder = a.cert
	}
	resp, err := ocsp.CreateResponse(a.cert, responder, tmpl, a.signer)
	if err != nil {
		h.opts.Logger.Error("devca: OCSP response", "err", err)
		return ocsp.InternalErrorErrorResponse
	}
	return resp
}

// issuerHashes computes the CertID hashes of a CA for the hashes OCSP clients use.
func issuerHashes(ca *x509.Certificate) (names, keys map[crypto.Hash][]byte, err error) {
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(ca.RawSubjectPublicKeyInfo, &spki); err != nil {
		return nil, nil, err
	}
	names, keys = map[crypto.Hash][]byte{}, map[crypto.Hash][]byte{}
	for _, hf := range []crypto.Hash{crypto.SHA1, crypto.SHA256, crypto.SHA384, crypto.SHA512} {
		h := hf.New()
		h.Write(ca.RawSubject)
		names[hf] = h.Sum(nil)
		h = hf.New()
		h.Write(spki.PublicKey.RightAlign())
		keys[hf] = h.Sum(nil)
	}
	return names, keys, nil
}

func loadCert(path string) (*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%s: no certificate", path)
	}
	return x509.ParseCertificate(block.Bytes)
}

func loadKey(path string) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%s: no key", path)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s, ok := key.(crypto.Signer)
	if !ok {
		return nil, errors.New(path + ": not a signing key")
	}
	return s, nil
}
