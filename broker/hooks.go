package broker

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/inps/sportello/broker/claims"
	"github.com/inps/sportello/internal/switches"
	"github.com/inps/sportello/providers"
)

// Lang is the language of the pages for this request ("it" or "en"): see pickLang. A request
// that names a pending login (the login parameter of the PIN pages, in the query or in a form
// already parsed) speaks that login's language unless the person chose another.
func (b *Broker) Lang(r *http.Request) string {
	id := r.URL.Query().Get("login")
	if id == "" && r.PostForm != nil {
		id = r.PostForm.Get("login")
	}
	loginLang := ""
	if id != "" {
		if rec, err := b.getLogin(r.Context(), id); err == nil {
			loginLang = rec.Lang
		}
	}
	return b.pickLang(r, loginLang)
}

// SessionIdentity returns the identity of the browser's SSO session: nil without one, an
// error wrapping providers.ErrUnavailable when the store could not say (a page then answers
// 503 "temporarily unavailable", not "sign in").
func (b *Broker) SessionIdentity(r *http.Request) (*providers.Identity, error) {
	id, _, err := b.session(r)
	return id, err
}

// errOtherResource: an access token for another resource than the broker's own APIs.
var errOtherResource = errors.New("access token for another resource")

// CSRF is the anti-forgery protection providers' forms use: a hidden field "csrf".
type CSRF struct{ b *Broker }

// Token returns the browser's token.
func (c CSRF) Token(r *http.Request) string { return c.b.CSRFToken(r) }

// Check verifies the form field "csrf".
func (c CSRF) Check(r *http.Request) bool { return c.b.CheckCSRF(r) }

// CSRF returns the broker's CSRF protection.
func (b *Broker) CSRF() CSRF { return CSRF{b: b} }

// AuthorizeBearer checks an operator API call: an access token of this issuer accepted as
// every endpoint accepts one (acceptAccessToken: unrevoked, its delegations still in force),
// for its own APIs (aud tokens.access_audience: not a token exchanged for another service)
// carrying scope, presented as its binding requires (operatorToken). It returns the operator
// (the client id, or the person's sub). A store that cannot answer refuses too.
func (b *Broker) AuthorizeBearer(r *http.Request, scope string) (string, bool) {
	op, scopes, ok := b.BearerScopes(r)
	if !ok || !slices.Contains(scopes, scope) {
		return "", false
	}
	return op, true
}

// BearerScopes checks the access token of r as AuthorizeBearer does, whatever its scopes, and
// returns the operator and the token's scopes: an API tells a token without the scope it
// needs (403 insufficient_scope) from no valid token at all (401).
func (b *Broker) BearerScopes(r *http.Request) (string, []string, bool) {
	c, err := b.operatorToken(r)
	if err != nil || b.switchedOff(switches.KindClient, c.ClientID) {
		return "", nil, false
	}
	scopes := strings.Fields(c.Scope)
	if c.Subject != "" {
		return c.Subject, scopes, true
	}
	return c.ClientID, scopes, true
}

// errNoAccessToken: an operator API call without an access token in the Bearer or DPoP
// scheme.
var errNoAccessToken = errors.New("no access token in the Bearer or DPoP scheme")

// operatorCredentials reads an Authorization header value: the token of the Bearer (RFC 6750
// §2.1) or DPoP (RFC 9449 §7.1) scheme, named in any letter case (RFC 9110 §11.1), and
// whether it came with DPoP; ok false for any other scheme or no token.
func operatorCredentials(h string) (tok string, dpop, ok bool) {
	scheme, tok, _ := strings.Cut(h, " ")
	dpop = strings.EqualFold(scheme, tokenTypeDPoP)
	if tok = strings.TrimLeft(tok, " "); tok == "" || !dpop && !strings.EqualFold(scheme, "Bearer") {
		return "", false, false
	}
	return tok, dpop, true
}

// operatorToken is the access token of an operator API call r, accepted as the protected
// resources accept one: a bearer token in the Bearer scheme (RFC 6750 §2.1); a
// certificate-bound token only with that certificate on the connection (RFC 8705 §3), so
// never on the main listener; a DPoP-bound token only in the DPoP scheme with a proof by its
// key for this request — htm its method, htu the URL called, ath the token (RFC 9449 §7.1) —
// checked by the same resource-proof checker as userinfo. A stolen bound token is worth
// nothing without its key.
func (b *Broker) operatorToken(r *http.Request) (*claims.Access, error) {
	tok, dpopScheme, ok := operatorCredentials(r.Header.Get("Authorization"))
	if !ok {
		return nil, errNoAccessToken
	}
	ctx := r.Context()
	c, err := b.acceptAccessToken(ctx, tok, acceptOptions{check: func(c *claims.Access) error {
		if !slices.Contains(c.Audience, b.accessAud) {
			return errOtherResource
		}
		return checkCertBound(ctx, c)
	}})
	if err != nil {
		return nil, err
	}
	ra := &resourceAuth{dpop: dpopScheme, header: r.Header, method: r.Method, uri: b.issuer + r.URL.EscapedPath()} // served on the main listener only
	if err := b.checkResourceProof(context.WithValue(ctx, ctxResourceAuth{}, ra), c, tok); err != nil {
		return nil, err
	}
	return c, nil
}
