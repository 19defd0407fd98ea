package broker

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/inps/sportello/config"
	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/internal/web"
	"github.com/inps/sportello/providers"
)

// The broker's own sign-in, for its citizens' pages that need a session ("Le mie deleghe",
// the PIN telefonico) and for the pages after which a person wants to sign in (a PIN just
// activated or requested). Without it those pages would be dead ends: "sign in to an INPS
// service and come back".
//
// GET /accedi?next=<page> runs an ordinary authorisation for the built-in client selfClientID,
// whose only redirect URI is the issuer's /accedi/fine: there the code is discarded unused
// (the SSO session, not a token, is what the citizens' pages read) and the browser goes on to
// next. The client has no secret, so its codes can never be redeemed at the token endpoint.
const (
	selfClientID   = config.ReservedClientID
	pathSignIn     = "/accedi"
	pathSignInDone = "/accedi/fine"
)

// signInTargets are the pages /accedi may go on to, with the level each needs; "" is the
// signed-in page itself.
var signInTargets = map[string]string{
	"":           loa.SpidL1,
	"/deleghe/":  loa.SpidL2,
	"/pin/phone": loa.SpidL2,
}

// SignInURL is the broker's sign-in that comes back to next (one of signInTargets; any other
// value gives the signed-in page).
func (b *Broker) SignInURL(next string) string {
	if _, ok := signInTargets[next]; !ok || next == "" {
		return pathSignIn
	}
	return pathSignIn + "?" + url.Values{"next": {next}}.Encode()
}

// ChooserURL is the credential chooser of the pending login id (the way back from a
// provider's own page, such as the PIN form).
func (b *Broker) ChooserURL(loginID string) string {
	return b.issuer + "/login/" + url.PathEscape(loginID)
}

// selfClient is the built-in client of the broker's own sign-in.
func selfClient(issuer string, idTTL time.Duration, dev bool) (*Client, error) {
	return newClient(config.Client{ID: selfClientID, RedirectURIs: []string{issuer + pathSignInDone},
		Scopes: []string{oidc.ScopeOpenID}, GrantTypes: []string{string(oidc.GrantTypeCode)},
		DisplayName: config.Text{"it": "Servizi online INPS", "en": "INPS online services"}}, idTTL, dev, "")
}

// signInRecord is a sign-in in progress (key "signin:<state>").
type signInRecord struct {
	Next string `json:"next"`
}

// signInHTTP serves GET /accedi?next=: it starts the authorisation of the built-in client.
func (b *Broker) signInHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		b.errorPage(w, r, http.StatusMethodNotAllowed, "status.method", errors.New("method not allowed"))
		return
	}
	next := r.URL.Query().Get("next")
	acr, ok := signInTargets[next]
	if !ok {
		next, acr = "", signInTargets[""] // never an open redirect: only the pages listed
	}
	state, err := randomToken(b.rand, 18)
	if err != nil {
		b.errorPage(w, r, http.StatusInternalServerError, "broker.error", err)
		return
	}
	verifier, err := randomToken(b.rand, 32)
	if err != nil {
		b.errorPage(w, r, http.StatusInternalServerError, "broker.error", err)
		return
	}
	if err := b.store.Put(r.Context(), signInKey(state), mustMarshal(signInRecord{Next: next}), b.cfg.Tokens.LoginTTL); err != nil {
		b.unavailablePage(w, r, err)
		return
	}
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"client_id": {selfClientID}, "redirect_uri": {b.issuer + pathSignInDone}, "response_type": {"code"},
		"scope": {oidc.ScopeOpenID}, "state": {state}, "acr_values": {acr}, skipDelegationParam: {"skip"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	http.Redirect(w, r, b.issuer+pathAuthorize+"?"+q.Encode(), http.StatusFound)
}

// signInDoneHTTP serves /accedi/fine: the end of the built-in client's authorisation. The
// code is taken from the store unused; the browser goes on to the page it asked for.
func (b *Broker) signInDoneHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	raw, err := b.store.Take(r.Context(), signInKey(q.Get("state")))
	if store.IsOutage(err) {
		b.unavailablePage(w, r, err)
		return
	}
	var rec signInRecord
	if err != nil || unmarshal(raw, &rec) != nil {
		b.errorPage(w, r, http.StatusBadRequest, "login.expired", errors.Join(providers.ErrLoginExpired, err))
		return
	}
	if code := q.Get("code"); code != "" {
		_ = b.grants.DiscardCode(r.Context(), code)
	}
	if _, ok := signInTargets[rec.Next]; !ok || rec.Next == "" {
		b.signedInPage(w, r)
		return
	}
	// A cancelled or refused sign-in comes back here too (error=...): the page asked for says
	// again what it needs and offers the sign-in.
	http.Redirect(w, r, rec.Next, http.StatusSeeOther)
}

// signedInPage says the person is signed in and what they can do from here.
func (b *Broker) signedInPage(w http.ResponseWriter, r *http.Request) {
	lang := b.pickLang(r, "")
	id, _ := b.sessionIdentity(r)
	key := "signin.done"
	if id == nil {
		key = "signin.not_done"
	}
	data := web.FormData{Intro: b.catalogue.T(lang, key), LinksLabel: b.catalogue.T(lang, "signin.links")}
	if id != nil {
		data.Links = []web.Link{{Href: "/deleghe/", Label: b.catalogue.T(lang, "signin.deleghe")},
			{Href: "/pin/phone", Label: b.catalogue.T(lang, "signin.phone")},
			{Href: b.issuer + pathEndSession, Label: b.catalogue.T(lang, "logout.submit")}}
		data.Links = slices.DeleteFunc(data.Links, func(l web.Link) bool { return !b.routed(l.Href) })
	} else {
		data.Links = []web.Link{{Href: pathSignIn, Label: b.catalogue.T(lang, "signin.again")}}
	}
	b.render(w, http.StatusOK, b.catalogue.ui.Page("form"), b.page(r, lang, b.catalogue.T(lang, "signin.title"), data))
}

// routed reports whether a local link leads to a page this broker serves (the delegation
// pages and the PIN are optional).
func (b *Broker) routed(href string) bool {
	u, err := url.Parse(href)
	if err != nil {
		return false
	}
	if u.Path == pathEndSession {
		return true
	}
	for prefix := range b.routesExtra {
		if len(prefix) > 1 && strings.HasPrefix(u.Path, prefix) {
			return true
		}
	}
	for _, p := range b.provs {
		if pp, ok := p.(providers.RouteProvider); ok {
			for _, prefix := range pp.Routes() {
				if strings.HasPrefix(u.Path, prefix) {
					return true
				}
			}
		}
	}
	return false
}
