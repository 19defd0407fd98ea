package dpop

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Errors of Check. Every refusal of a proof wraps ErrInvalidProof (error code
// invalid_dpop_proof); a missing or stale nonce is a *NonceError, which wraps ErrUseNonce
// (use_dpop_nonce). A failure of the ReplayCache wraps neither: the store failed, not the
// client.
var (
	ErrInvalidProof = errors.New("dpop: invalid proof")
	ErrMalformed    = fmt.Errorf("%w: malformed", ErrInvalidProof)
	ErrHeaderCount  = fmt.Errorf("%w: not exactly one DPoP header", ErrInvalidProof)
	ErrType         = fmt.Errorf("%w: typ is not dpop+jwt", ErrInvalidProof)
	ErrAlgorithm    = fmt.Errorf("%w: algorithm not accepted", ErrInvalidProof)
	ErrKey          = fmt.Errorf("%w: jwk header missing, private or unfit for the algorithm", ErrInvalidProof)
	ErrSignature    = fmt.Errorf("%w: bad signature", ErrInvalidProof)
	ErrClaim        = fmt.Errorf("%w: required claim missing or malformed", ErrInvalidProof)
	ErrMethod       = fmt.Errorf("%w: htm does not match the request method", ErrInvalidProof)
	ErrURI          = fmt.Errorf("%w: htu does not match the request URI", ErrInvalidProof)
	ErrIssuedAt     = fmt.Errorf("%w: iat outside the accepted window", ErrInvalidProof)
	ErrTokenHash    = fmt.Errorf("%w: ath does not match the access token", ErrInvalidProof)
	ErrKeyMismatch  = fmt.Errorf("%w: proof key is not the one the token is bound to", ErrInvalidProof)
	ErrReplay       = fmt.Errorf("%w: jti already used", ErrInvalidProof)
	ErrUseNonce     = errors.New("dpop: use_dpop_nonce")
)

// Error codes of RFC 9449 §12.2, for token endpoint answers and WWW-Authenticate.
const (
	CodeInvalidProof = "invalid_dpop_proof"
	CodeUseNonce     = "use_dpop_nonce"
)

// ErrorCode returns the OAuth error code for an error of Check: CodeUseNonce,
// CodeInvalidProof, or "" for anything else (a store failure: answer 503, not 400/401).
func ErrorCode(err error) string {
	switch {
	case errors.Is(err, ErrUseNonce):
		return CodeUseNonce
	case errors.Is(err, ErrInvalidProof):
		return CodeInvalidProof
	}
	return ""
}

// NonceError says that the proof lacks a valid server nonce; Nonce is the one to send in the
// DPoP-Nonce response header.
type NonceError struct{ Nonce string }

func (e *NonceError) Error() string {
	return ErrUseNonce.Error() + ": a fresh server nonce is required"
}

// Unwrap makes errors.Is(err, ErrUseNonce) hold.
func (e *NonceError) Unwrap() error { return ErrUseNonce }

// ReplayCache remembers proof identifiers. Seen records key until exp and reports whether it
// was already recorded; it must be atomic across every replica that checks proofs (the
// broker backs it with the store's PutIfAbsent). The key is base64url(SHA-256(jkt, jti)): 43
// characters, safe as a store key, and two clients' jti never collide.
type ReplayCache interface {
	Seen(ctx context.Context, key string, exp time.Time) (bool, error)
}

// ReplayFunc adapts a function to ReplayCache, e.g. over a store's put-if-absent:
//
//	dpop.ReplayFunc(func(ctx context.Context, key string, exp time.Time) (bool, error) {
//		ttl := max(time.Until(exp), time.Second)
//		fresh, err := s.PutIfAbsent(ctx, "dpop:jti:"+key, []byte{1}, ttl)
//		return !fresh, err
//	})
type ReplayFunc func(ctx context.Context, key string, exp time.Time) (bool, error)

// Seen implements ReplayCache.
func (f ReplayFunc) Seen(ctx context.Context, key string, exp time.Time) (bool, error) {
	return f(ctx, key, exp)
}

// Defaults of Options.
const (
	DefaultMaxAge = 60 * time.Second
	DefaultSkew   = 30 * time.Second
	maxProofSize  = 16 << 10
	maxJTI        = 256
)

// DefaultAlgorithms are the signature algorithms accepted when Options.Algorithms is empty:
// those FAPI 2.0 allows.
var DefaultAlgorithms = []jose.SignatureAlgorithm{jose.ES256, jose.PS256, jose.EdDSA}

// asymmetric lists every algorithm a proof may ever use: no none, no HMAC.
var asymmetric = []jose.SignatureAlgorithm{
	jose.ES256, jose.ES384, jose.ES512, jose.PS256, jose.PS384, jose.PS512,
	jose.RS256, jose.RS384, jose.RS512, jose.EdDSA,
}

// Options configure a Checker.
type Options struct {
	// Algorithms is the allow-list (default DefaultAlgorithms); each must be asymmetric.
	Algorithms []jose.SignatureAlgorithm
	// Replay is the jti cache (required: a proof could otherwise be replayed).
	Replay ReplayCache
	// Nonces, when set, makes a valid server nonce required in every proof.
	Nonces *Nonces
	// MaxAge is how old a proof's iat may be (default 60 s).
	MaxAge time.Duration
	// Skew is how far in the future iat may be, for clients whose clock runs ahead
	// (default 30 s).
	Skew time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Checker checks DPoP proofs. It is safe for concurrent use.
type Checker struct{ o Options }

// NewChecker validates o.
func NewChecker(o Options) (*Checker, error) {
	if o.Replay == nil {
		return nil, errors.New("dpop: Options.Replay is required")
	}
	if len(o.Algorithms) == 0 {
		o.Algorithms = DefaultAlgorithms
	}
	for _, a := range o.Algorithms {
		if !slices.Contains(asymmetric, a) {
			return nil, fmt.Errorf("dpop: algorithm %q is not an asymmetric signature algorithm", a)
		}
	}
	o.Algorithms = slices.Clone(o.Algorithms)
	if o.MaxAge <= 0 {
		o.MaxAge = DefaultMaxAge
	}
	if o.Skew <= 0 {
		o.Skew = DefaultSkew
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Checker{o: o}, nil
}

// Algorithms returns the accepted algorithms, for dpop_signing_alg_values_supported and the
// algs parameter of WWW-Authenticate: DPoP.
func (c *Checker) Algorithms() []string {
	out := make([]string, len(c.o.Algorithms))
	for i, a := range c.o.Algorithms {
		out[i] = string(a)
	}
	return out
}

// Nonce returns a fresh server nonce to send in DPoP-Nonce, or "" when the Checker requires
// none.
func (c *Checker) Nonce() string {
	if c.o.Nonces == nil {
		return ""
	}
	return c.o.Nonces.Current()
}

// Request is what a proof must match.
type Request struct {
	// Method is the HTTP method (htm), e.g. POST.
	Method string
	// URI is the request's absolute URI as the client addressed it (htu), e.g.
	// https://login.inps.it/oauth/token; query and fragment are ignored.
	URI string
	// AccessToken is the token presented with the proof (Authorization: DPoP ...), or ""
	// at the token endpoint.
	AccessToken string
	// JKT, when set, is the thumbprint the access token is bound to (cnf.jkt): the proof's
	// key must have it.
	JKT string
}

// Proof is a checked proof.
type Proof struct {
	// JKT is the RFC 7638 SHA-256 thumbprint of the key, base64url: cnf.jkt.
	JKT string
	// Key is the client's public key.
	Key jose.JSONWebKey
	// ID is the jti.
	ID string
	// IssuedAt is the iat.
	IssuedAt time.Time
}

// FromHeader returns the one DPoP header's value; none, or more than one, is ErrHeaderCount
// (RFC 9449 §4.3, check 1).
func FromHeader(h http.Header) (string, error) {
	v := h.Values("DPoP")
	if len(v) != 1 || strings.TrimSpace(v[0]) == "" {
		return "", ErrHeaderCount
	}
	return strings.TrimSpace(v[0]), nil
}

type claims struct {
	JTI   string   `json:"jti"`
	HTM   string   `json:"htm"`
	HTU   string   `json:"htu"`
	IAT   *float64 `json:"iat"`
	ATH   *string  `json:"ath"`
	Nonce *string  `json:"nonce"`
}

// Check checks proof against r and, last, records its jti.
func (c *Checker) Check(ctx context.Context, proof string, r Request) (*Proof, error) {
	if len(proof) > maxProofSize || strings.Count(proof, ".") != 2 {
		return nil, ErrMalformed
	}
	jws, err := jose.ParseSigned(proof, asymmetric)
	if err != nil {
		switch msg := err.Error(); {
		case strings.Contains(strings.ToLower(msg), "jwk"):
			return nil, fmt.Errorf("%w: %w", ErrKey, err)
		case strings.Contains(msg, "algorithm"):
			return nil, fmt.Errorf("%w: %w", ErrAlgorithm, err)
		}
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if len(jws.Signatures) != 1 {
		return nil, ErrMalformed
	}
	h := jws.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); !strings.EqualFold(typ, "dpop+jwt") {
		return nil, fmt.Errorf("%w (%q)", ErrType, typ)
	}
	if _, crit := h.ExtraHeaders["crit"]; crit {
		return nil, fmt.Errorf("%w: unsupported crit header", ErrMalformed)
	}
	alg := jose.SignatureAlgorithm(h.Algorithm)
	if !slices.Contains(c.o.Algorithms, alg) {
		return nil, fmt.Errorf("%w: %s", ErrAlgorithm, alg)
	}
	if h.JSONWebKey == nil || !h.JSONWebKey.Valid() || !h.JSONWebKey.IsPublic() || !fits(*h.JSONWebKey, alg) {
		return nil, ErrKey
	}
	key := *h.JSONWebKey
	payload, err := jws.Verify(key)
	if err != nil {
		return nil, ErrSignature
	}
	var cl claims
	dec := json.NewDecoder(bytes.NewReader(payload))
	if err := dec.Decode(&cl); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrClaim, err)
	}
	if cl.JTI == "" || len(cl.JTI) > maxJTI || cl.HTM == "" || cl.HTU == "" || cl.IAT == nil ||
		math.IsNaN(*cl.IAT) || math.IsInf(*cl.IAT, 0) || math.Abs(*cl.IAT) > 1e11 {
		return nil, ErrClaim
	}
	if cl.HTM != r.Method {
		return nil, ErrMethod
	}
	if !SameURI(cl.HTU, r.URI) {
		return nil, ErrURI
	}
	now := c.o.Now()
	sec, frac := math.Modf(*cl.IAT)
	iat := time.Unix(int64(sec), int64(frac*1e9))
	if iat.Before(now.Add(-c.o.MaxAge)) || iat.After(now.Add(c.o.Skew)) {
		return nil, ErrIssuedAt
	}
	thumb, err := key.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("%w: thumbprint: %w", ErrKey, err)
	}
	jkt := base64.RawURLEncoding.EncodeToString(thumb)
	if r.AccessToken != "" {
		if cl.ATH == nil || subtle.ConstantTimeCompare([]byte(*cl.ATH), []byte(TokenHash(r.AccessToken))) != 1 {
			return nil, ErrTokenHash
		}
	}
	if r.JKT != "" && subtle.ConstantTimeCompare([]byte(r.JKT), []byte(jkt)) != 1 {
		return nil, ErrKeyMismatch
	}
	if c.o.Nonces != nil && (cl.Nonce == nil || !c.o.Nonces.Valid(*cl.Nonce)) {
		return nil, &NonceError{Nonce: c.o.Nonces.Current()}
	}
	rk := sha256.Sum256([]byte(jkt + "\x00" + cl.JTI))
	seen, err := c.o.Replay.Seen(ctx, base64.RawURLEncoding.EncodeToString(rk[:]), iat.Add(c.o.MaxAge))
	if err != nil {
		return nil, fmt.Errorf("dpop: replay cache: %w", err)
	}
	if seen {
		return nil, ErrReplay
	}
	return &Proof{JKT: jkt, Key: key, ID: cl.JTI, IssuedAt: iat}, nil
}

// TokenHash is the ath of a proof sent with accessToken: base64url(SHA-256(token)).
func TokenHash(accessToken string) string {
	h := sha256.Sum256([]byte(accessToken))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// Thumbprint returns the RFC 7638 SHA-256 thumbprint of a public key, base64url.
func Thumbprint(k jose.JSONWebKey) (string, error) {
	pub := k.Public()
	b, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// fits reports whether k is a key of the kind and strength alg needs.
func fits(k jose.JSONWebKey, alg jose.SignatureAlgorithm) bool {
	if k.Algorithm != "" && k.Algorithm != string(alg) {
		return false
	}
	switch pub := k.Key.(type) {
	case *ecdsa.PublicKey:
		want := map[jose.SignatureAlgorithm]elliptic.Curve{jose.ES256: elliptic.P256(), jose.ES384: elliptic.P384(), jose.ES512: elliptic.P521()}[alg]
		return want != nil && pub.Curve == want
	case *rsa.PublicKey:
		return (strings.HasPrefix(string(alg), "PS") || strings.HasPrefix(string(alg), "RS")) && pub.N.BitLen() >= 2048 && pub.N.BitLen() <= 8192
	case ed25519.PublicKey:
		return alg == jose.EdDSA && len(pub) == ed25519.PublicKeySize
	}
	return false
}
