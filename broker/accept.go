package broker

import (
	"context"
	"errors"
	"time"

	"github.com/inps/sportello/broker/claims"
)

// Why acceptAccessToken refused a token (besides errInvalidToken, a signature, typ, issuer or
// expiry that does not verify, and the caller's own check). Anything else it returns is the
// store failing: the caller answers 503, never "invalid".
var (
	errAccessRevoked = errors.New("access token revoked")
	errActTooDeep    = errors.New("the actor chain is too deep")
	// errDelegationEnded: the delegation a grant or a token depends on is revoked or expired.
	errDelegationEnded = errors.New("the delegation has ended")
)

// acceptOptions are where the callers of acceptAccessToken differ.
type acceptOptions struct {
	// check runs on the verified claims before any store lookup, and its error is returned
	// as it is: who may present the token (introspection: the client may see it; userinfo:
	// it names a person; the operators' APIs: aud is the broker's own APIs).
	check func(*claims.Access) error
	// maxActDepth is the deepest actor chain accepted (0: maxActDepth, the deepest token
	// exchange ever builds). Token exchange accepts one less, since it nests one more actor.
	maxActDepth int
}

// acceptAccessToken is the one acceptance of an access token presented back to the broker —
// by introspection, userinfo, token exchange and the operators' APIs (AuthorizeBearer) —
// checked in this order: signature by a published key, typ at+jwt, issuer and expiry
// (errInvalidToken); the caller's check; not revoked, by itself (deny list) or with its grant
// (the refresh family of grant_id) or with its person (Broker.EndSessions: authenticated at or
// before the mark, accessGranted) (errAccessRevoked); an actor chain no deeper than allowed
// (errActTooDeep); every delegation of the chain still in force (errDelegationEnded).
func (b *Broker) acceptAccessToken(ctx context.Context, tok string, o acceptOptions) (*claims.Access, error) {
	c, err := b.verifyAccessToken(tok)
	if err != nil {
		return nil, err
	}
	if o.check != nil {
		if err := o.check(c); err != nil {
			return nil, err
		}
	}
	if revoked, err := b.grants.AccessRevoked(ctx, c.JTI, c.GrantID); err != nil {
		return nil, err
	} else if revoked {
		return nil, errAccessRevoked
	}
	if revoked, err := b.grants.PersonRevoked(ctx, accessGranted(c), accessPeople(c)...); err != nil {
		return nil, err
	} else if revoked {
		return nil, errAccessRevoked
	}
	depth := o.maxActDepth
	if depth == 0 {
		depth = maxActDepth
	}
	if c.Act.Depth(maxActDepth) > depth {
		return nil, errActTooDeep
	}
	if hold, err := b.tokenDelegationsHold(ctx, c.Act); err != nil {
		return nil, err
	} else if !hold {
		return nil, errDelegationEnded
	}
	return c, nil
}

// accessGranted is the time a person's revocation mark is compared with for the access token
// c: its authentication (auth_time, kept by refresh and token exchange) — a token issued later
// from an SSO session opened before the mark rests on the revoked login — or its iat when
// earlier, or for a client's own token, which has no auth_time.
func accessGranted(c *claims.Access) time.Time {
	t := c.IssuedAt
	if c.AuthTime != nil && *c.AuthTime < t {
		t = *c.AuthTime
	}
	return time.Unix(t, 0)
}

// refused reports whether err is acceptAccessToken's refusal of the token (not the store
// failing).
func refused(err error) bool {
	return errors.Is(err, errInvalidToken) || errors.Is(err, errAccessRevoked) || errors.Is(err, errActTooDeep) ||
		errors.Is(err, errDelegationEnded)
}
