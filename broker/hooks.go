package broker

import (
	"net/http"
	"slices"
	"strings"

	"github.com/inps/sportello/broker/keys"
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

// CSRF is the anti-forgery protection providers' forms use: a hidden field "csrf".
type CSRF struct{ b *Broker }

// Token returns the browser's token.
func (c CSRF) Token(r *http.Request) string { return c.b.CSRFToken(r) }

// Check verifies the form field "csrf".
func (c CSRF) Check(r *http.Request) bool { return c.b.CheckCSRF(r) }

// CSRF returns the broker's CSRF protection.
func (b *Broker) CSRF() CSRF { return CSRF{b: b} }

// AuthorizeBearer checks an operator API call: a valid, unrevoked access token of this issuer
// for its own APIs (aud tokens.access_audience: not a token exchanged for another service)
// carrying scope. It returns the operator (the client id, or the person's sub).
func (b *Broker) AuthorizeBearer(r *http.Request, scope string) (string, bool) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		return "", false
	}
	claims, err := b.verifyJWT(tok, keys.TypAccessToken)
	if err != nil || !slices.Contains(audiences(claims), b.accessAud) {
		return "", false
	}
	if revoked, err := b.accessTokenRevoked(r.Context(), claims); err != nil || revoked {
		return "", false
	}
	if !slices.Contains(strings.Fields(stringClaim(claims, "scope")), scope) {
		return "", false
	}
	if sub := stringClaim(claims, "sub"); sub != "" {
		return sub, true
	}
	return stringClaim(claims, "client_id"), true
}
