package jar

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/inps/sportello/internal/store"
)

// Defaults of Options.
const (
	DefaultLeeway      = 10 * time.Second
	DefaultMaxLifetime = 60 * time.Minute
	DefaultPrefix      = "jar:jti:"
	maxObjectSize      = 64 << 10
	maxJTI             = 256
	maxCandidates      = 8
)

// DefaultAlgorithms is request_object_signing_alg_values_supported when Options.Algorithms is
// empty: the algorithms FAPI 2.0 allows.
var DefaultAlgorithms = []jose.SignatureAlgorithm{jose.ES256, jose.PS256, jose.EdDSA}

// asymmetric lists every algorithm Options.Algorithms may hold: no none, no HMAC.
var asymmetric = []jose.SignatureAlgorithm{
	jose.ES256, jose.ES384, jose.ES512, jose.PS256, jose.PS384, jose.PS512,
	jose.RS256, jose.RS384, jose.RS512, jose.EdDSA,
}

// Client is what Verify needs of a registered client.
type Client struct {
	// ID is the client_id.
	ID string
	// JWKS are the client's registered public keys; when nil, JWKSURI is fetched.
	JWKS *jose.JSONWebKeySet
	// JWKSURI is where the client publishes its keys (https).
	JWKSURI string
	// Algorithm, when set, is the only alg this client signs request objects with (its
	// registered request_object_signing_alg).
	Algorithm jose.SignatureAlgorithm
	// Algorithms, when set, narrow the allow-list for this client (a security profile's
	// algorithms, FAPI 2.0 §5.4.1).
	Algorithms []jose.SignatureAlgorithm
}

// Options configure a Verifier.
type Options struct {
	// Issuer is the broker's issuer, the request objects' aud (required).
	Issuer string
	// Store keeps the jti of every accepted request object until its exp (required).
	Store store.Store
	// Algorithms is the allow-list (default DefaultAlgorithms); each must be asymmetric.
	Algorithms []jose.SignatureAlgorithm
	// Keys fetches jwks_uri (default NewKeys with its defaults).
	Keys *Keys
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Leeway tolerates clock skew on exp, nbf and iat (default 10 s).
	Leeway time.Duration
	// MaxLifetime bounds how old nbf may be and how far after it exp may be (default 60
	// minutes, FAPI 2.0's bound).
	MaxLifetime time.Duration
	// Prefix namespaces the jti keys in the Store (default DefaultPrefix).
	Prefix string
}

// Verifier verifies request objects. It is safe for concurrent use.
type Verifier struct{ o Options }

// New validates o.
func New(o Options) (*Verifier, error) {
	if o.Issuer == "" || o.Store == nil {
		return nil, errors.New("jar: Issuer and Store are required")
	}
	if len(o.Algorithms) == 0 {
		o.Algorithms = DefaultAlgorithms
	}
	for _, a := range o.Algorithms {
		if !slices.Contains(asymmetric, a) {
			return nil, fmt.Errorf("jar: %q is not an asymmetric signature algorithm", a)
		}
	}
	o.Algorithms = slices.Clone(o.Algorithms)
	if o.Keys == nil {
		o.Keys = NewKeys(KeysOptions{})
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Leeway <= 0 {
		o.Leeway = DefaultLeeway
	}
	if o.MaxLifetime <= 0 {
		o.MaxLifetime = DefaultMaxLifetime
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	return &Verifier{o: o}, nil
}

// Algorithms returns the allow-list, for request_object_signing_alg_values_supported.
func (v *Verifier) Algorithms() []string {
	out := make([]string, len(v.o.Algorithms))
	for i, a := range v.o.Algorithms {
		out[i] = string(a)
	}
	return out
}

// Verify checks the request object of client c and returns its claims (numbers as
// json.Number). The jti is recorded last, once everything else holds.
func (v *Verifier) Verify(ctx context.Context, c Client, request string) (map[string]any, error) {
	if c.ID == "" {
		return nil, invalidRequest("client_id is required")
	}
	if len(request) > maxObjectSize {
		return nil, invalidObject("too large", nil)
	}
	if strings.Count(request, ".") != 2 {
		return nil, invalidObject("not a signed JWT (encrypted request objects are not supported)", nil)
	}
	jws, err := jose.ParseSigned(request, asymmetric)
	if err != nil {
		return nil, invalidObject("not a JWT signed with an accepted algorithm", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, invalidObject("not one signature", nil)
	}
	h := jws.Signatures[0].Protected
	alg := jose.SignatureAlgorithm(h.Algorithm)
	if !slices.Contains(v.o.Algorithms, alg) || (c.Algorithm != "" && alg != c.Algorithm) ||
		(len(c.Algorithms) > 0 && !slices.Contains(c.Algorithms, alg)) {
		return nil, invalidObject("algorithm "+string(alg)+" not accepted", nil)
	}
	if typ, ok := h.ExtraHeaders[jose.HeaderType]; ok {
		s, _ := typ.(string)
		switch strings.ToLower(strings.TrimPrefix(strings.ToLower(s), "application/")) {
		case "oauth-authz-req+jwt", "jwt":
		default:
			return nil, invalidObject("typ is not oauth-authz-req+jwt", nil)
		}
	}
	if _, crit := h.ExtraHeaders["crit"]; crit {
		return nil, invalidObject("unsupported crit header", nil)
	}
	if brings, err := bringsKey(request); err != nil || brings {
		// Only registered keys count; a key the object brings or points to proves nothing.
		return nil, invalidObject("jwk, jku, x5c and x5u headers are not accepted", err)
	}
	payload, err := v.verifySignature(ctx, c, jws, alg, h.KeyID)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var claims map[string]any
	if err := dec.Decode(&claims); err != nil || claims == nil {
		return nil, invalidObject("claims are not a JSON object", err)
	}
	exp, err := v.checkClaims(c, claims)
	if err != nil {
		return nil, err
	}
	jti := sha256.Sum256([]byte(c.ID + "\x00" + claims["jti"].(string)))
	// Kept while the object could still be accepted; at least a second, so that a rounding
	// store never reads a tiny ttl as none.
	ttl := max(exp.Add(v.o.Leeway).Sub(v.o.Now()), time.Second)
	fresh, err := v.o.Store.PutIfAbsent(ctx, v.o.Prefix+base64.RawURLEncoding.EncodeToString(jti[:]), []byte{1}, ttl)
	if err != nil {
		return nil, fmt.Errorf("jar: store: %w", err)
	}
	if !fresh {
		return nil, invalidObject("jti already used", nil)
	}
	return claims, nil
}

// verifySignature tries the client's keys that fit the header (by kid when it names one),
// fetching jwks_uri again once when none verifies.
func (v *Verifier) verifySignature(ctx context.Context, c Client, jws *jose.JSONWebSignature, alg jose.SignatureAlgorithm, kid string) ([]byte, error) {
	for attempt := 0; attempt < 2; attempt++ {
		set := c.JWKS
		if set == nil {
			if c.JWKSURI == "" {
				return nil, invalidObject("the client has no registered keys", nil)
			}
			var err error
			if set, err = v.o.Keys.Get(ctx, c.JWKSURI, attempt > 0); err != nil {
				return nil, invalidObject("the client's keys could not be fetched", err)
			}
		}
		tried := 0
		for _, k := range set.Keys {
			if (kid != "" && k.KeyID != kid) || (k.Use != "" && k.Use != "sig") || !k.Valid() || !k.IsPublic() || !fits(k, alg) {
				continue
			}
			if tried++; tried > maxCandidates {
				break
			}
			if payload, err := jws.Verify(k); err == nil {
				return payload, nil
			}
		}
		if c.JWKS != nil {
			break
		}
	}
	return nil, invalidObject("not signed by a key registered for the client", nil)
}

// checkClaims applies the claim rules and returns exp.
func (v *Verifier) checkClaims(c Client, claims map[string]any) (time.Time, error) {
	if iss, _ := claims["iss"].(string); iss != c.ID {
		return time.Time{}, invalidObject("iss is not the client_id", nil)
	}
	if !audience(claims["aud"], v.o.Issuer) {
		return time.Time{}, invalidObject("aud does not name the issuer", nil)
	}
	if id, ok := claims["client_id"]; ok && id != c.ID {
		return time.Time{}, invalidRequest("client_id inside the request object is not the client's")
	}
	for _, k := range []string{"request", "request_uri"} {
		if _, ok := claims[k]; ok {
			return time.Time{}, invalidObject(k+" must not appear inside a request object", nil)
		}
	}
	jti, _ := claims["jti"].(string)
	if jti == "" || len(jti) > maxJTI {
		return time.Time{}, invalidObject("jti is required", nil)
	}
	now := v.o.Now()
	exp, ok := numericDate(claims["exp"])
	if !ok {
		return time.Time{}, invalidObject("exp is required", nil)
	}
	nbf, ok := numericDate(claims["nbf"])
	if !ok {
		return time.Time{}, invalidObject("nbf is required", nil)
	}
	if !now.Before(exp.Add(v.o.Leeway)) {
		return time.Time{}, invalidObject("expired", nil)
	}
	if now.Add(v.o.Leeway).Before(nbf) {
		return time.Time{}, invalidObject("not yet valid (nbf)", nil)
	}
	if nbf.Before(now.Add(-v.o.MaxLifetime)) {
		return time.Time{}, invalidObject("nbf is too old", nil)
	}
	if exp.Sub(nbf) > v.o.MaxLifetime {
		return time.Time{}, invalidObject("exp is too far after nbf", nil)
	}
	if raw, ok := claims["iat"]; ok {
		iat, ok := numericDate(raw)
		if !ok || now.Add(v.o.Leeway).Before(iat) {
			return time.Time{}, invalidObject("iat is malformed or in the future", nil)
		}
	}
	return exp, nil
}

// bringsKey reports whether the protected header of a compact JWS names a key of its own.
func bringsKey(compact string) (bool, error) {
	head, _, _ := strings.Cut(compact, ".")
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return false, err
	}
	var h map[string]json.RawMessage
	if err := json.Unmarshal(b, &h); err != nil {
		return false, err
	}
	for _, k := range []string{"jwk", "jku", "x5c", "x5u"} {
		if _, ok := h[k]; ok {
			return true, nil
		}
	}
	return false, nil
}

func audience(aud any, issuer string) bool {
	switch a := aud.(type) {
	case string:
		return a == issuer
	case []any:
		for _, e := range a {
			if e == issuer {
				return true
			}
		}
	}
	return false
}

func numericDate(v any) (time.Time, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}, false
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e11 {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true
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
		return alg == jose.EdDSA
	}
	return false
}
