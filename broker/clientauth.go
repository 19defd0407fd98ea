package broker

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/inps/sportello/config"
)

// Why a client authentication failed. The client always gets invalid_client, "client
// authentication failed"; the reason is the error's parent, for the log and the tests.
var (
	errUnknownClient     = errors.New("unknown client")
	errWrongSecret       = errors.New("wrong client secret")
	errWrongAuthMethod   = errors.New("not the client's registered authentication method")
	errBadAssertion      = errors.New("malformed client assertion")
	errAssertionAlg      = errors.New("client assertion algorithm not supported")
	errAssertionKey      = errors.New("client assertion not signed by a registered key of the client")
	errAssertionClientID = errors.New("client_id differs from the client assertion's issuer")
	errAssertionClaims   = errors.New("client assertion iss, sub and jti must name the client and the assertion")
	errAssertionAudience = errors.New("client assertion audience is not this issuer")
	errAssertionLifetime = errors.New("client assertion valid for too long")
	errAssertionTime     = errors.New("client assertion expired or not yet valid")
	errAssertionReplay   = errors.New("client assertion already used")
)

// algEd25519 is the fully-specified JWS name of EdDSA over Ed25519 (RFC 9864). go-jose knows
// only the polymorphic "EdDSA", so signatures named Ed25519 are verified here.
const algEd25519 = jose.SignatureAlgorithm("Ed25519")

// assertionAlgs are the algorithms accepted for client assertions: exactly those discovery
// advertises (token_endpoint_auth_signing_alg_values_supported and its siblings).
var assertionAlgs = []jose.SignatureAlgorithm{jose.ES256, jose.RS256, jose.PS256, jose.EdDSA, algEd25519}

// parseAlgs are the algorithms an assertion is parsed with, so that a well-formed assertion
// with an algorithm outside assertionAlgs is told apart from a malformed one.
var parseAlgs = []jose.SignatureAlgorithm{jose.ES256, jose.ES384, jose.ES512, jose.RS256, jose.RS384, jose.RS512,
	jose.PS256, jose.PS384, jose.PS512, jose.EdDSA, algEd25519, jose.HS256, jose.HS384, jose.HS512}

const (
	// maxAssertionLifetime bounds how far ahead a client assertion may expire, and how old it
	// may be when it carries iat: its jti is kept that long.
	maxAssertionLifetime = 5 * time.Minute
	// assertionLeeway is the clock skew allowed between a client and the broker.
	assertionLeeway = 30 * time.Second
	maxJTILength    = 256
)

// VerifyClient authenticates the client of a token, revocation or introspection request with
// the method it is registered for, and only that one: client_secret_basic (HTTP Basic),
// client_secret_post (form body), both compared in constant time; private_key_jwt (RFC 7523);
// tls_client_auth and self_signed_tls_client_auth (RFC 8705 §2, the certificate of the
// mutual-TLS listener's connection); none for public clients (no secret at all).
func (b *Broker) verifyClient(ctx context.Context, r *op.Request[op.ClientCredentials]) (op.Client, error) {
	cc := r.Data
	if cc.ClientAssertion != "" {
		return b.verifyClientAssertion(ctx, cc.ClientAssertion, cc.ClientID)
	}
	cl, ok := b.client(cc.ClientID)
	if !ok {
		return nil, b.clientAuthFailed(errUnknownClient)
	}
	_, _, basic := (&http.Request{Header: r.Header}).BasicAuth()
	switch cl.authMethod {
	case oidc.AuthMethodNone:
		if cc.ClientSecret != "" {
			return nil, b.clientAuthFailed(errWrongAuthMethod)
		}
		return cl, nil
	case oidc.AuthMethodBasic, oidc.AuthMethodPost:
		if basic != (cl.authMethod == oidc.AuthMethodBasic) {
			return nil, b.clientAuthFailed(errWrongAuthMethod)
		}
		if !cl.checkSecret(cc.ClientSecret) {
			return nil, b.clientAuthFailed(errWrongSecret)
		}
		return cl, nil
	case oidc.AuthMethod(config.AuthTLSClient), oidc.AuthMethod(config.AuthSelfSignedTLSClient):
		// RFC 8705 §2: client_id in the request, the certificate of the TLS connection, no
		// other credential beside it.
		if basic || cc.ClientSecret != "" || cl.tlsAuth == nil {
			return nil, b.clientAuthFailed(errWrongAuthMethod)
		}
		if err := cl.tlsAuth.verify(clientCertFrom(ctx), b.now()); err != nil {
			return nil, b.clientAuthFailed(err)
		}
		return cl, nil
	}
	// A private_key_jwt client must authenticate with an assertion.
	return nil, b.clientAuthFailed(errWrongAuthMethod)
}

// verifyClientAssertion authenticates a private_key_jwt client (RFC 7523 §3, OIDC Core §9):
// an algorithm discovery advertises; signed by one of the client's registered keys; iss = sub
// = the client (and = client_id when the request names one); audience this issuer or its
// token endpoint; exp required and at most maxAssertionLifetime ahead, iat (when present) not
// older than that; its jti used once, kept until exp. (zitadel's VerifyJWTAssertion only
// accepts RS256 assertions when no algorithm list is given, so it is not used here.)
func (b *Broker) verifyClientAssertion(ctx context.Context, assertion, clientID string) (op.Client, error) {
	if strings.ContainsFunc(assertion, func(r rune) bool { return r <= ' ' || r > '~' }) {
		return nil, b.clientAuthFailed(errBadAssertion)
	}
	tok, err := jwt.ParseSigned(assertion, parseAlgs)
	if err != nil || len(tok.Headers) != 1 {
		return nil, b.clientAuthFailed(errBadAssertion)
	}
	hdr := tok.Headers[0]
	alg := jose.SignatureAlgorithm(hdr.Algorithm)
	if !slices.Contains(assertionAlgs, alg) {
		return nil, b.clientAuthFailed(errAssertionAlg)
	}
	var unverified jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&unverified); err != nil {
		return nil, b.clientAuthFailed(errBadAssertion)
	}
	if clientID != "" && clientID != unverified.Issuer {
		return nil, b.clientAuthFailed(errAssertionClientID)
	}
	cl, ok := b.client(unverified.Issuer)
	if !ok {
		return nil, b.clientAuthFailed(errUnknownClient)
	}
	if cl.authMethod != oidc.AuthMethodPrivateKeyJWT || cl.keys == nil {
		return nil, b.clientAuthFailed(errWrongAuthMethod)
	}
	if cl.fapi2 && !slices.Contains(fapi2Algs, alg) {
		return nil, b.clientAuthFailed(errAssertionAlg)
	}
	claims, ok := verifyAssertionSignature(assertion, tok, alg, hdr.KeyID, cl.keys)
	if !ok {
		return nil, b.clientAuthFailed(errAssertionKey)
	}
	if err := b.checkAssertionClaims(claims, cl.id); err != nil {
		return nil, b.clientAuthFailed(err)
	}
	// Kept until the assertion expires (plus the leeway it is accepted with): a bounded time.
	ttl := claims.Expiry.Time().Sub(b.now()) + assertionLeeway
	fresh, err := b.store.PutIfAbsent(ctx, assertionJTIKey(cl.id, claims.ID), []byte("1"), max(ttl, time.Second))
	if err != nil {
		return nil, storeError(err)
	}
	if !fresh {
		return nil, b.clientAuthFailed(errAssertionReplay)
	}
	return cl, nil
}

// verifyAssertionSignature checks the assertion against the client's keys (the one named by
// kid, when it names one) and returns its claims.
func verifyAssertionSignature(raw string, tok *jwt.JSONWebToken, alg jose.SignatureAlgorithm, kid string, keys *jose.JSONWebKeySet) (*jwt.Claims, bool) {
	for _, k := range keys.Keys {
		if kid != "" && k.KeyID != kid {
			continue
		}
		if k.Algorithm != "" && !sameAlg(jose.SignatureAlgorithm(k.Algorithm), alg) {
			continue
		}
		var claims jwt.Claims
		if alg == algEd25519 {
			if verifyEd25519(raw, k.Key) && tok.UnsafeClaimsWithoutVerification(&claims) == nil {
				return &claims, true
			}
			continue
		}
		if err := tok.Claims(k.Key, &claims); err == nil {
			return &claims, true
		}
	}
	return nil, false
}

// sameAlg treats EdDSA and Ed25519 as one algorithm: a key registered for either verifies both
// names (RFC 9864 §2.2).
func sameAlg(a, b jose.SignatureAlgorithm) bool {
	ed := func(x jose.SignatureAlgorithm) bool { return x == jose.EdDSA || x == algEd25519 }
	return a == b || ed(a) && ed(b)
}

// verifyEd25519 checks the signature of a compact JWS over its signing input with an Ed25519
// public key.
func verifyEd25519(compact string, key any) bool {
	pub, ok := key.(ed25519.PublicKey)
	if !ok || len(pub) != ed25519.PublicKeySize {
		return false
	}
	i := strings.LastIndexByte(compact, '.')
	if i < 0 || strings.Count(compact, ".") != 2 {
		return false
	}
	sig, err := base64.RawURLEncoding.Strict().DecodeString(compact[i+1:])
	if err != nil || len(sig) != ed25519.SignatureSize {
		return false
	}
	return ed25519.Verify(pub, []byte(compact[:i]), sig)
}

// checkAssertionClaims applies the claim rules of verifyClientAssertion.
func (b *Broker) checkAssertionClaims(c *jwt.Claims, client string) error {
	now := b.now()
	switch {
	case c.Issuer != client || c.Subject != client || c.ID == "" || len(c.ID) > maxJTILength:
		return errAssertionClaims
	case !slices.ContainsFunc([]string(c.Audience), func(a string) bool {
		return a == b.issuer || a == b.issuer+pathToken || b.mtlsEnabled() && a == b.mtlsURL()+pathToken
	}):
		return errAssertionAudience
	case c.Expiry == nil || c.Expiry.Time().Sub(now) > maxAssertionLifetime+assertionLeeway:
		return errAssertionLifetime
	case c.IssuedAt != nil && now.Sub(c.IssuedAt.Time()) > maxAssertionLifetime+assertionLeeway:
		return errAssertionLifetime
	}
	if err := c.ValidateWithLeeway(jwt.Expected{Time: now}, assertionLeeway); err != nil {
		return errAssertionTime
	}
	return nil
}

// errInvalidClient is the token-side answer to a failed client authentication: 401
// invalid_client (the op router adds nothing; oauthEndpoint adds the WWW-Authenticate).
func errInvalidClient(reason error) error {
	return op.NewStatusError(oidc.ErrInvalidClient().WithDescription("client authentication failed").WithParent(reason), http.StatusUnauthorized)
}

func (b *Broker) clientAuthFailed(reason error) error {
	b.metrics.clientAuthFailures.Inc()
	return errInvalidClient(reason)
}
