package broker

import (
	"context"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// assertionAlgs are the algorithms accepted for client assertions.
var assertionAlgs = []jose.SignatureAlgorithm{jose.ES256, jose.ES384, jose.RS256, jose.PS256, jose.EdDSA}

// verifyClientAssertion authenticates a private_key_jwt client (RFC 7523 §2.2, OIDC Core §9):
// iss = sub = client_id, signed by one of the client's registered keys, audience this issuer
// or its token endpoint, not expired, issued within the last hour, and its jti used once.
// go-jose does the signature and claim checks. (zitadel's VerifyJWTAssertion only accepts
// RS256 assertions when no algorithm list is given, so it is not used here.)
func (b *Broker) verifyClientAssertion(ctx context.Context, assertion string) (op.Client, error) {
	tok, err := jwt.ParseSigned(assertion, assertionAlgs)
	if err != nil || len(tok.Headers) != 1 {
		return nil, b.clientAuthFailed()
	}
	var unverified jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&unverified); err != nil {
		return nil, b.clientAuthFailed()
	}
	cl, ok := b.clients[unverified.Issuer]
	if !ok || cl.authMethod != oidc.AuthMethodPrivateKeyJWT || cl.keys == nil {
		return nil, b.clientAuthFailed()
	}
	hdr := tok.Headers[0]
	var claims jwt.Claims
	verified := false
	for _, k := range cl.keys.Keys {
		if hdr.KeyID != "" && k.KeyID != hdr.KeyID {
			continue
		}
		if k.Algorithm != "" && k.Algorithm != hdr.Algorithm {
			continue
		}
		if err := tok.Claims(k.Key, &claims); err == nil {
			verified = true
			break
		}
	}
	if !verified {
		return nil, b.clientAuthFailed()
	}
	now := b.now()
	if claims.Issuer != cl.id || claims.Subject != cl.id || claims.ID == "" || claims.Expiry == nil {
		return nil, b.clientAuthFailed()
	}
	if !slices.ContainsFunc([]string(claims.Audience), func(a string) bool { return a == b.issuer || a == b.issuer+pathToken }) {
		return nil, b.clientAuthFailed()
	}
	if err := claims.ValidateWithLeeway(jwt.Expected{Time: now}, 30*time.Second); err != nil {
		return nil, b.clientAuthFailed()
	}
	if claims.IssuedAt != nil && now.Sub(claims.IssuedAt.Time()) > time.Hour {
		return nil, b.clientAuthFailed()
	}
	ttl := claims.Expiry.Time().Sub(now) + time.Minute
	fresh, err := b.store.PutIfAbsent(ctx, "jti:"+cl.id+":"+claims.ID, []byte("1"), max(ttl, time.Minute))
	if err != nil {
		return nil, storeError(err)
	}
	if !fresh {
		return nil, b.clientAuthFailed()
	}
	return cl, nil
}

func (b *Broker) clientAuthFailed() error {
	b.metrics.clientAuthFailures.Inc()
	return errInvalidClient()
}
