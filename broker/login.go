package broker

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/inps/sportello/broker/grants"
	"github.com/inps/sportello/broker/session"
	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/providers"
)

const (
	cookieBrowser = "sportello_bid"
	cookieSession = "sportello_session"
)

// browserID returns the browser-binding id from its cookie, creating one when absent. A
// pending login is bound to it, so a login finished in one browser cannot be completed in
// another (login CSRF, session fixation). The cookie is "<random>.<MAC>": a value planted by
// someone else (say, from a sibling domain) without the crypto key is ignored.
func (b *Broker) browserID(r *http.Request) string {
	if c, err := r.Cookie(cookieBrowser); err == nil && b.validBrowserID(c.Value) {
		return c.Value
	}
	if v, ok := r.Context().Value(ctxBrowserID{}).(string); ok {
		return v
	}
	return ""
}

type ctxBrowserID struct{}

// browserMAC authenticates a browser id with the crypto key.
func (b *Broker) browserMAC(id string) string {
	m := hmac.New(sha256.New, b.cryptoKey)
	m.Write([]byte("bid:" + id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

func (b *Broker) validBrowserID(v string) bool {
	id, mac, ok := strings.Cut(v, ".")
	return ok && len(id) >= 22 && subtle.ConstantTimeCompare([]byte(mac), []byte(b.browserMAC(id))) == 1
}

// ensureBrowserID is middleware for the login routes: it sets the browser cookie once.
func (b *Broker) ensureBrowserID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie(cookieBrowser); err == nil && b.validBrowserID(c.Value) {
			next.ServeHTTP(w, r)
			return
		}
		id, err := randomToken(b.rand, 18)
		if err != nil {
			b.errorPage(w, r, http.StatusInternalServerError, "broker.error", err)
			return
		}
		value := id + "." + b.browserMAC(id)
		http.SetCookie(w, b.cookie(cookieBrowser, value, 0))
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxBrowserID{}, value)))
	})
}

// ensureBrowserIDOnGet is ensureBrowserID for GET and HEAD only: a form shown sets the cookie
// its CSRF token hangs on; a POST never replaces it. Either way the browser the request comes
// from is recorded in the context for Finisher.LoginRequest ("" when the request carries no
// cookie, as the cross-site SAML POST).
func (b *Broker) ensureBrowserIDOnGet(next http.Handler) http.Handler {
	next = b.withPresenter(next)
	withID := b.ensureBrowserID(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			withID.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// ctxPresenter is the context key of the browser a provider page's request comes from.
type ctxPresenter struct{}

func (b *Broker) withPresenter(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxPresenter{}, b.browserID(r))))
	})
}

// cookie builds a cookie: HttpOnly, SameSite=Lax (the SAML POST return never needs a cookie:
// its state is server-side, keyed by RelayState), Secure outside dev mode.
func (b *Broker) cookie(name, value string, maxAge time.Duration) *http.Cookie {
	c := &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: !b.cfg.Dev} //nolint:gosec // Secure is off only in dev mode (plain http on loopback)
	if maxAge > 0 {
		c.MaxAge = int(maxAge / time.Second)
	} else if maxAge < 0 {
		c.MaxAge = -1
	}
	return c
}

// CSRFToken is the anti-forgery token of the browser: an HMAC of its binding id.
func (b *Broker) CSRFToken(r *http.Request) string {
	bid := b.browserID(r)
	if bid == "" {
		return ""
	}
	m := hmac.New(sha256.New, b.cryptoKey)
	m.Write([]byte("csrf:" + bid))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// CheckCSRF verifies the form field "csrf" against the browser's token.
func (b *Broker) CheckCSRF(r *http.Request) bool {
	want := b.CSRFToken(r)
	got := r.PostFormValue("csrf")
	return want != "" && subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

// loginHTTP serves /login/{id} (the chooser) and /login/{id}/{provider} (start a provider).
func (b *Broker) loginHTTP(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, "/login/")
	id, provID, _ := strings.Cut(rest, "/")
	rec, err := b.getLogin(r.Context(), id)
	if err != nil {
		b.failPage(w, r, nil, err)
		return
	}
	if rec.BrowserID != b.browserID(r) {
		b.errorPage(w, r, http.StatusBadRequest, "login.other_browser", errors.New("browser binding mismatch"))
		return
	}
	if provID == "" {
		b.chooserPage(w, r, rec)
		return
	}
	p, ok := b.provByID[provID]
	if !ok {
		b.errorPage(w, r, http.StatusNotFound, "login.unknown_idp", errors.New("unknown provider"))
		return
	}
	b.startProvider(w, r, rec, p, r.URL.Query().Get("hint"))
}

// startProvider sends the browser to the provider's first step.
func (b *Broker) startProvider(w http.ResponseWriter, r *http.Request, rec *loginRecord, p providers.Provider, hint string) {
	info := p.Info()
	if cl, ok := b.client(rec.ClientID); ok && !cl.offers(info.ID) {
		b.errorPage(w, r, http.StatusBadRequest, "login.unknown_idp", fmt.Errorf("provider %s is not one of client %s's credentials", info.ID, cl.id))
		return
	}
	if b.providerSwitchedOff(p, hint) {
		b.failPage(w, r, rec, providers.Attempt(info.Method, errSwitchedOff))
		return
	}
	if loa.LevelOf(info.MaxACR) < loa.LevelOf(rec.ACR) {
		b.failPage(w, r, rec, providers.Attempt(info.Method, &providers.UserError{Code: "login.level_not_available", Err: providers.ErrLevelNotReached}))
		return
	}
	b.metrics.logins.WithLabelValues(info.Method, levelLabel(rec.ACR), "started").Inc()
	b.count(info.Method, "", LoginStarted)
	switch p := p.(type) {
	case providers.RedirectProvider:
		if err := p.Start(w, r, rec.providerRequest(hint, false)); err != nil {
			b.failPage(w, r, rec, providers.Attempt(info.Method, err))
		}
	case providers.CertificateAuthenticator:
		u, err := b.mtlsStepURL(r.Context(), rec, info.ID)
		if err != nil {
			b.failPage(w, r, rec, providers.Attempt(info.Method, errors.Join(providers.ErrUnavailable, err)))
			return
		}
		http.Redirect(w, r, u, http.StatusFound) //nolint:gosec // u is the configured mTLS origin + a registered provider id + a random step token, nothing of the request
	default:
		b.errorPage(w, r, http.StatusInternalServerError, "broker.error", errors.New("provider has no login capability"))
	}
}

// finisher implements providers.Finisher.
type finisher Broker

// LoginRequest returns the pending login for a provider's page. Asked from a browser other
// than the one that started it (the provider routes record the browser in the context), it is
// refused as expired, before the provider does anything with it.
func (f *finisher) LoginRequest(ctx context.Context, loginID string) (*providers.LoginRequest, error) {
	rec, err := (*Broker)(f).getLogin(ctx, loginID)
	if err != nil {
		return nil, err
	}
	if p, _ := ctx.Value(ctxPresenter{}).(string); p != "" && p != rec.BrowserID {
		return nil, &providers.UserError{Code: "login.other_browser", Err: fmt.Errorf("browser binding mismatch: %w", providers.ErrLoginExpired)}
	}
	return rec.providerRequest("", false), nil
}

// Finish hands a verified identity to the broker; the browser the request carries (none on
// the cross-site SAML POST) must be the one that started the login.
func (f *finisher) Finish(w http.ResponseWriter, r *http.Request, loginID string, id *providers.Identity) {
	b := (*Broker)(f)
	b.finish(w, r, loginID, b.browserID(r), id)
}

// Fail ends a step with an error, shown only to the browser that started the login: at once
// when the request carries its cookie, after the check of /login/done when it carries none.
func (f *finisher) Fail(w http.ResponseWriter, r *http.Request, loginID string, err error) {
	b := (*Broker)(f)
	rec, _ := b.getLogin(r.Context(), loginID)
	presenter := b.browserID(r)
	if rec != nil && presenter != "" && presenter != rec.BrowserID {
		b.otherBrowser(w, r, rec, "fail")
		return
	}
	b.stepFailed(w, r, rec, presenter, err)
}

// RecordFailure counts and audits a refused attempt that the provider answers on its own page
// (providers.FailureRecorder), by the error table like any failed login; the pending login
// stays as it was.
func (f *finisher) RecordFailure(r *http.Request, loginID string, err error) {
	b := (*Broker)(f)
	rec, _ := b.getLogin(r.Context(), loginID)
	oe, _, code := classify(err)
	b.recordFailure(r, rec, err, oe, code)
}

var _ providers.FailureRecorder = (*finisher)(nil)

// completeLogin issues the authorization code and redirects to the relying party; with a
// delegation chosen, the grant names the delegator as subject and the delegate as actor.
func (b *Broker) completeLogin(w http.ResponseWriter, r *http.Request, rec *loginRecord, sid string, deleg *DelegationChoice) {
	ctx := r.Context()
	id := rec.Identity
	g := grants.Grant{
		ClientID:       rec.ClientID,
		Scopes:         rec.Scopes,
		Subject:        subjectOf(b.subjectKey, id),
		Identity:       id,
		Nonce:          rec.Nonce,
		SessionID:      sid,
		IDTokenClaims:  rec.IDTokenClaims,
		UserinfoClaims: rec.UserinfoClaims,
		GrantedAt:      b.now(),
	}
	if deleg != nil {
		b.delegatedGrant(&g, deleg)
	}
	code, err := randomToken(b.rand, 32)
	if err != nil {
		b.failPage(w, r, rec, err)
		return
	}
	cr := grants.Code{Grant: g, RedirectURI: rec.RedirectURI, CodeChallenge: rec.CodeChallenge,
		CodeChallengeMethod: rec.CodeChallengeMethod, DPoPJKT: rec.DPoPJKT, ExpiresAt: b.now().Add(b.cfg.Tokens.CodeTTL)}
	// The session records the client before the code exists: a client that gets tokens is
	// always told when the session ends (back-channel logout). A session that ended in the
	// meantime (a logout in another tab) records nothing; the tokens carry its sid all the
	// same, and the relying party's own session ends with them.
	if sid != "" {
		if err := b.sessions.AddClient(ctx, sid, rec.ClientID, g.Subject); errors.Is(err, session.ErrEnded) {
			b.log.InfoContext(ctx, "code issued in a session that has ended", "client_id", rec.ClientID)
		} else if err != nil {
			b.failPage(w, r, rec, errors.Join(providers.ErrUnavailable, err))
			return
		}
	}
	// A pending login gives one code: it is taken before the code is written, so two
	// concurrent answers (two tabs, a double click on the delegation question) cannot both
	// complete it. If the code cannot be written, the login is put back for a retry.
	var claimed []byte
	if rec.stored {
		if claimed, err = b.store.Take(ctx, loginKey(rec.ID)); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				b.failPage(w, r, nil, &providers.UserError{Code: "login.already_finished", Err: providers.ErrLoginExpired})
				return
			}
			b.failPage(w, r, rec, errors.Join(providers.ErrUnavailable, err))
			return
		}
	}
	if err := b.grants.PutCode(ctx, code, &cr, b.cfg.Tokens.CodeTTL); err != nil {
		if claimed != nil {
			_ = b.store.Put(ctx, loginKey(rec.ID), claimed, b.cfg.Tokens.LoginTTL)
		}
		b.failPage(w, r, rec, errors.Join(providers.ErrUnavailable, err))
		return
	}
	b.metrics.logins.WithLabelValues(id.Method, levelLabel(id.ACR), "success").Inc()
	b.count(id.Method, identityIdP(id), LoginOK)
	fields := map[string]any{"client_id": rec.ClientID, "method": id.Method, "acr": id.ACR, "spid_idp": id.SPIDIdP}
	if deleg != nil {
		// Everything done on the delegator's behalf is traceable to both people.
		fields["delegation_id"] = deleg.ID
		fields["delegate_sub"] = subjectOf(b.subjectKey, id)
	}
	b.auditEvent(ctx, "login.success", g.Subject, fields)
	u, _ := url.Parse(rec.RedirectURI)
	q := u.Query()
	q.Set("code", code)
	if rec.State != "" {
		q.Set("state", rec.State)
	}
	q.Set("iss", b.issuer)
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound) //nolint:gosec // rec.RedirectURI matched a registered URI exactly at /authorize
}

// failPage shows a login failure to the person; when the login is known, it offers the way
// back to the relying party with the matching OAuth error and the way to try again.
func (b *Broker) failPage(w http.ResponseWriter, r *http.Request, rec *loginRecord, err error) {
	oe, status, code := classify(err)
	b.recordFailure(r, rec, err, oe, code)
	b.showFailure(w, r, rec, oe, status, code, errors.Is(err, providers.ErrCancelled), err)
}

// reached is how far a failed login got: the credential tried and, when a person was
// verified, the level reached and who it was.
type reached struct {
	method, acr, fiscalNumber, idp string
}

// reachedBy reads how far a failed login got from the identity the login holds or else from
// the providers.AttemptError the step failed with; method "unknown" when the login failed
// before a credential was tried.
func reachedBy(rec *loginRecord, err error) reached {
	if rec != nil && rec.Identity != nil {
		return reached{rec.Identity.Method, rec.Identity.ACR, rec.Identity.FiscalNumber, identityIdP(rec.Identity)}
	}
	var ae *providers.AttemptError
	if errors.As(err, &ae) && ae.Method != "" {
		return reached{ae.Method, ae.ACR, ae.FiscalNumber, ae.IdP}
	}
	return reached{method: "unknown"}
}

// recordFailure counts a failed login (method tried, level reached) and writes it to the
// audit trail with the level asked and the level reached.
func (b *Broker) recordFailure(r *http.Request, rec *loginRecord, err error, oe *oidc.Error, code string) {
	got := reachedBy(rec, err)
	b.metrics.logins.WithLabelValues(got.method, levelLabel(got.acr), string(oe.ErrorType)).Inc()
	b.count(got.method, got.idp, LoginOutcome(err, string(oe.ErrorType)))
	fields := map[string]any{"error": string(oe.ErrorType), "reason": code, "request_id": requestID(r.Context()), "method": got.method}
	if got.acr != "" {
		fields["acr"] = got.acr
	}
	actor := ""
	if got.fiscalNumber != "" {
		actor = subjectFor(b.subjectKey, got.fiscalNumber) // the pseudonymous sub, as login.success
	}
	if rec != nil {
		fields["client_id"], fields["acr_asked"] = rec.ClientID, rec.ACR
	}
	b.auditEvent(r.Context(), "login.failure", actor, fields)
}

// showFailure answers a failed login: a page, with the way back to the relying party and the
// way to try again when the login is known (a cancelled login too).
func (b *Broker) showFailure(w http.ResponseWriter, r *http.Request, rec *loginRecord, oe *oidc.Error, status int, code string, cancelled bool, err error) {
	if rec == nil {
		b.errorPage(w, r, status, code, err)
		return
	}
	v := errorView{Status: status, Code: code, LoginLang: rec.Lang,
		Back: b.errorRedirectURL(rec.RedirectURI, rec.State, oe), Retry: b.issuer + "/login/" + rec.ID}
	if cancelled {
		// Cancelled at the identity provider (SPID nr25): a page of our own says so and offers
		// both ways on, trying again with this login or going back to the service with
		// access_denied; the login stays until the person picks one.
		v.Title = "login.cancelled_title"
	}
	b.showError(w, r, v, err)
}
