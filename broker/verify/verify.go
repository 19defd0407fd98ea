package verify

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/inps/sportello/broker/verify/dpop"
)

// Errors of Verify. Every refusal wraps ErrInvalidToken.
var (
	// ErrInvalidToken is wrapped by every reason to refuse a token.
	ErrInvalidToken = errors.New("verify: invalid token")
	ErrMalformed    = fmt.Errorf("%w: malformed", ErrInvalidToken)
	ErrAlgorithm    = fmt.Errorf("%w: algorithm not accepted (ES256, RS256 only)", ErrInvalidToken)
	ErrType         = fmt.Errorf("%w: typ is not at+jwt", ErrInvalidToken)
	ErrUnknownKey   = fmt.Errorf("%w: signed by an unknown key", ErrInvalidToken)
	ErrSignature    = fmt.Errorf("%w: bad signature", ErrInvalidToken)
	ErrIssuer       = fmt.Errorf("%w: wrong issuer", ErrInvalidToken)
	ErrAudience     = fmt.Errorf("%w: wrong audience", ErrInvalidToken)
	ErrExpired      = fmt.Errorf("%w: expired", ErrInvalidToken)
	ErrNotYetValid  = fmt.Errorf("%w: not yet valid", ErrInvalidToken)
	errActDepth     = fmt.Errorf("%w: act chain too deep", ErrInvalidToken)
	// ErrProofRequired refuses a DPoP-bound token (cnf.jkt) presented without a proof, as a
	// bearer token, or to a Verifier without Options.DPoP.
	ErrProofRequired = fmt.Errorf("%w: the token is DPoP-bound and needs a proof of possession", ErrInvalidToken)
	// ErrNotBound refuses a token without cnf.jkt presented with a DPoP proof.
	ErrNotBound = fmt.Errorf("%w: the token is not DPoP-bound", ErrInvalidToken)
	// ErrProof wraps every refusal of a DPoP proof, together with the dpop error
	// (errors.Is(err, dpop.ErrInvalidProof), or dpop.ErrUseNonce for a missing nonce).
	ErrProof = fmt.Errorf("%w: DPoP proof refused", ErrInvalidToken)
	// ErrCertificateRequired refuses a certificate-bound token (cnf.x5t#S256, RFC 8705 §3)
	// presented without a client certificate, as a plain bearer token.
	ErrCertificateRequired = fmt.Errorf("%w: the token is bound to a TLS client certificate", ErrInvalidToken)
	// ErrCertificateMismatch refuses a certificate-bound token presented over a connection
	// with another client certificate.
	ErrCertificateMismatch = fmt.Errorf("%w: the token is bound to another TLS client certificate", ErrInvalidToken)
)

// Defaults of Options.
const (
	DefaultRefreshInterval    = 15 * time.Minute
	DefaultMinRefreshInterval = 10 * time.Second
	DefaultLeeway             = 30 * time.Second
	maxDocument               = 1 << 20
	maxTokenSize              = 64 << 10
)

// accepted are the only signature algorithms a sportello token may use.
var accepted = []jose.SignatureAlgorithm{jose.ES256, jose.RS256}

// Options configure a Verifier.
type Options struct {
	// Issuer is the sportello issuer URL, exactly as in the tokens' iss (required).
	Issuer string
	// Audience is this service's identifier; tokens must name it in aud (required).
	Audience string
	// HTTPClient fetches discovery and JWKS (default: a client with a 10 s timeout).
	HTTPClient *http.Client
	// Now is the clock (default time.Now).
	Now func() time.Time
	// RefreshInterval is the longest the keys are cached (default 15 minutes).
	RefreshInterval time.Duration
	// MinRefreshInterval is the shortest time between two fetches triggered by unknown key
	// ids (default 10 seconds).
	MinRefreshInterval time.Duration
	// Leeway tolerates clock skew on exp and nbf (default 30 seconds).
	Leeway time.Duration
	// DPoP checks the proofs of DPoP-bound tokens (cnf.jkt, RFC 9449), which VerifyDPoP
	// accepts only with a valid proof for the bound key; without it every bound token is
	// refused. Back its ReplayCache with storage the service's replicas share.
	DPoP *dpop.Checker
	// BaseURL is this service's external scheme://host[:port], from which Middleware builds
	// the URI a DPoP proof must name (htu): BaseURL + the request's path. Without it the URI
	// comes from the request (TLS and Host), which is wrong behind a proxy that terminates
	// TLS or rewrites Host.
	BaseURL string
}

// Verifier verifies access tokens of one issuer for one audience. It is safe for
// concurrent use.
type Verifier struct {
	o       Options
	jwksURI string

	fetchMu sync.Mutex // serialises fetches
	mu      sync.RWMutex
	keys    map[string]jose.JSONWebKey
	fetched time.Time
}

// New fetches the issuer's discovery document and keys.
func New(ctx context.Context, o Options) (*Verifier, error) {
	if o.Issuer == "" || o.Audience == "" {
		return nil, errors.New("verify: Issuer and Audience are required")
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.RefreshInterval <= 0 {
		o.RefreshInterval = DefaultRefreshInterval
	}
	if o.MinRefreshInterval <= 0 {
		o.MinRefreshInterval = DefaultMinRefreshInterval
	}
	if o.Leeway <= 0 {
		o.Leeway = DefaultLeeway
	}
	v := &Verifier{o: o}
	var disc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := v.getJSON(ctx, strings.TrimSuffix(o.Issuer, "/")+"/.well-known/openid-configuration", &disc); err != nil {
		return nil, fmt.Errorf("verify: discovery: %w", err)
	}
	if disc.Issuer != o.Issuer {
		return nil, fmt.Errorf("verify: discovery names issuer %q, not %q", disc.Issuer, o.Issuer)
	}
	if !strings.HasPrefix(disc.JWKSURI, "https://") && !strings.HasPrefix(disc.JWKSURI, "http://") {
		return nil, fmt.Errorf("verify: discovery: bad jwks_uri %q", disc.JWKSURI)
	}
	v.jwksURI = disc.JWKSURI
	if err := v.refresh(ctx, time.Time{}); err != nil {
		return nil, err
	}
	return v, nil
}

func (v *Verifier) getJSON(ctx context.Context, url string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := v.o.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxDocument+1))
	if err != nil {
		return err
	}
	if len(b) > maxDocument {
		return fmt.Errorf("GET %s: document too large", url)
	}
	return json.Unmarshal(b, out)
}

// refresh fetches the JWKS unless another fetch completed after since.
func (v *Verifier) refresh(ctx context.Context, since time.Time) error {
	v.fetchMu.Lock()
	defer v.fetchMu.Unlock()
	v.mu.RLock()
	done := v.fetched.After(since) && !since.IsZero()
	v.mu.RUnlock()
	if done {
		return nil
	}
	var set jose.JSONWebKeySet
	if err := v.getJSON(ctx, v.jwksURI, &set); err != nil {
		return fmt.Errorf("verify: jwks: %w", err)
	}
	keys := map[string]jose.JSONWebKey{}
	for _, k := range set.Keys {
		if k.KeyID == "" || (k.Use != "" && k.Use != "sig") || !k.Valid() || !k.IsPublic() || !usable(k) {
			continue
		}
		keys[k.KeyID] = k
	}
	if len(keys) == 0 {
		return errors.New("verify: jwks: no usable key")
	}
	v.mu.Lock()
	v.keys, v.fetched = keys, v.o.Now()
	v.mu.Unlock()
	return nil
}

// usable accepts P-256 keys for ES256 and RSA keys of 2048 bits or more for RS256.
func usable(k jose.JSONWebKey) bool {
	switch pub := k.Key.(type) {
	case *ecdsa.PublicKey:
		return pub.Curve == elliptic.P256() && (k.Algorithm == "" || k.Algorithm == string(jose.ES256))
	case *rsa.PublicKey:
		return pub.N.BitLen() >= 2048 && (k.Algorithm == "" || k.Algorithm == string(jose.RS256))
	}
	return false
}

// key returns the cached key kid, fetching the JWKS again when the cache is stale or, rate
// limited, when kid is unknown.
func (v *Verifier) key(ctx context.Context, kid string) (jose.JSONWebKey, error) {
	now := v.o.Now()
	v.mu.RLock()
	k, ok := v.keys[kid]
	fetched := v.fetched
	v.mu.RUnlock()
	stale := now.Sub(fetched) >= v.o.RefreshInterval
	if ok && !stale {
		return k, nil
	}
	if !stale && now.Sub(fetched) < v.o.MinRefreshInterval {
		return k, ErrUnknownKey
	}
	if err := v.refresh(ctx, fetched); err != nil {
		if ok { // keep serving the cached key when the issuer is briefly unreachable
			return k, nil
		}
		return k, fmt.Errorf("%w: %w", ErrUnknownKey, err)
	}
	v.mu.RLock()
	k, ok = v.keys[kid]
	v.mu.RUnlock()
	if !ok {
		return k, ErrUnknownKey
	}
	return k, nil
}

// Verify checks raw (a compact JWS), a bearer token, and returns the token. A DPoP-bound
// token (cnf.jkt) is refused with ErrProofRequired: it is good only with its proof
// (VerifyDPoP); a certificate-bound one (cnf.x5t#S256) with ErrCertificateRequired: it is
// good only over mutual TLS with its certificate (VerifyWithCertificate).
func (v *Verifier) Verify(ctx context.Context, raw string) (*Token, error) {
	return v.VerifyWithCertificate(ctx, raw, nil)
}

// VerifyWithCertificate checks raw, a bearer token presented over a TLS connection whose
// client certificate is cert (the leaf: r.TLS.PeerCertificates[0]; nil without one): a
// certificate-bound token (cnf.x5t#S256) is accepted only when the SHA-256 thumbprint of
// cert's DER encoding is the one it names (RFC 8705 §3), else ErrCertificateRequired or
// ErrCertificateMismatch; a token without the binding is accepted with any certificate or
// none; a DPoP-bound one is refused (ErrProofRequired).
func (v *Verifier) VerifyWithCertificate(ctx context.Context, raw string, cert *x509.Certificate) (*Token, error) {
	t, err := v.verify(ctx, raw)
	if err != nil {
		return nil, err
	}
	if t.JKT != "" {
		return nil, ErrProofRequired
	}
	if err := CheckCertificate(t, cert); err != nil {
		return nil, err
	}
	return t, nil
}

// CheckCertificate checks the certificate binding of a verified token t (RFC 8705 §3): nil
// when t is not certificate-bound or cert is the certificate it is bound to.
func CheckCertificate(t *Token, cert *x509.Certificate) error {
	if t.X5TS256 == "" {
		return nil
	}
	if cert == nil {
		return ErrCertificateRequired
	}
	sum := sha256.Sum256(cert.Raw)
	if subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(t.X5TS256)) != 1 {
		return ErrCertificateMismatch
	}
	return nil
}

// VerifyDPoP checks raw, presented as Authorization: DPoP, with its proof (the DPoP header)
// of a request with method to uri (absolute, as the client addressed it): the token must be
// bound to a key (cnf.jkt, else ErrNotBound) and the proof must be valid, signed by that key
// and carry the token's hash (else ErrProof, wrapping the dpop error). A failure of the
// proofs' replay cache is returned as is, and is no ErrInvalidToken.
func (v *Verifier) VerifyDPoP(ctx context.Context, raw, proof, method, uri string) (*Token, error) {
	t, err := v.verify(ctx, raw)
	if err != nil {
		return nil, err
	}
	if t.JKT == "" {
		return nil, ErrNotBound
	}
	if v.o.DPoP == nil {
		return nil, ErrProofRequired
	}
	if _, err := v.o.DPoP.Check(ctx, proof, dpop.Request{Method: method, URI: uri, AccessToken: raw, JKT: t.JKT}); err != nil {
		if dpop.ErrorCode(err) == "" {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %w", ErrProof, err)
	}
	return t, nil
}

func (v *Verifier) verify(ctx context.Context, raw string) (*Token, error) {
	if len(raw) > maxTokenSize || strings.Count(raw, ".") != 2 {
		return nil, ErrMalformed
	}
	jws, err := jose.ParseSigned(raw, accepted)
	if err != nil {
		if strings.Contains(err.Error(), "algorithm") {
			return nil, fmt.Errorf("%w: %w", ErrAlgorithm, err)
		}
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if len(jws.Signatures) != 1 {
		return nil, ErrMalformed
	}
	h := jws.Signatures[0].Protected
	typ, _ := h.ExtraHeaders[jose.HeaderType].(string)
	if t := strings.ToLower(typ); t != "at+jwt" && t != "application/at+jwt" {
		return nil, fmt.Errorf("%w (%q)", ErrType, typ)
	}
	if _, crit := h.ExtraHeaders["crit"]; crit {
		return nil, fmt.Errorf("%w: unsupported crit header", ErrMalformed)
	}
	k, err := v.key(ctx, h.KeyID)
	if err != nil {
		return nil, err
	}
	if k.Algorithm != "" && k.Algorithm != h.Algorithm {
		return nil, fmt.Errorf("%w: key %s is for %s", ErrAlgorithm, k.KeyID, k.Algorithm)
	}
	payload, err := jws.Verify(k)
	if err != nil {
		return nil, ErrSignature
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var claims map[string]any
	if err := dec.Decode(&claims); err != nil || claims == nil {
		return nil, fmt.Errorf("%w: claims", ErrMalformed)
	}
	t := &Token{}
	if err := t.fill(claims); err != nil {
		return nil, err
	}
	if str(claims, "iss") != v.o.Issuer {
		return nil, ErrIssuer
	}
	if !slices.Contains(t.Audience, v.o.Audience) {
		return nil, ErrAudience
	}
	now := v.o.Now()
	if t.ExpiresAt.IsZero() {
		return nil, fmt.Errorf("%w: no exp", ErrMalformed)
	}
	if !now.Before(t.ExpiresAt.Add(v.o.Leeway)) {
		return nil, ErrExpired
	}
	if nbf, ok := timeOf(claims["nbf"]); ok && now.Add(v.o.Leeway).Before(nbf) {
		return nil, ErrNotYetValid
	}
	if !t.IssuedAt.IsZero() && now.Add(v.o.Leeway).Before(t.IssuedAt) {
		return nil, ErrNotYetValid
	}
	if t.Subject == "" {
		return nil, fmt.Errorf("%w: no sub", ErrMalformed)
	}
	return t, nil
}
