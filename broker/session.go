package broker

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/internal/web"
	"github.com/inps/sportello/providers"
)

// newSession opens the SSO session, sets its cookie and returns its public id (the sid
// claim).
func (b *Broker) newSession(ctx context.Context, w http.ResponseWriter, id *providers.Identity) (string, error) {
	secret, public, err := b.sessions.Open(ctx, id)
	if err != nil {
		return "", err
	}
	http.SetCookie(w, b.cookie(cookieSession, secret, 0))
	return public, nil
}

// sessionIdentity returns the identity and public id of the browser's SSO session, sliding its
// idle timeout, or nil (also when the store cannot say: see session).
func (b *Broker) sessionIdentity(r *http.Request) (*providers.Identity, string) {
	id, sid, _ := b.session(r)
	return id, sid
}

// session is sessionIdentity that tells "no session" (nil, "", nil) from a store that could
// not say (an error wrapping providers.ErrUnavailable). A session whose authentication is at
// or before its person's revocation mark (Broker.EndSessions) is none, and is ended: it
// escaped the revocation's EndPerson (the person index is best effort and bounded, a session
// opened while the revocation ran, EndPerson failing), and reusing it would issue grants on
// the revoked login; the person logs in again.
func (b *Broker) session(r *http.Request) (*providers.Identity, string, error) {
	c, err := r.Cookie(cookieSession)
	if err != nil || c.Value == "" {
		return nil, "", nil
	}
	s, err := b.sessions.Get(r.Context(), c.Value)
	if err != nil {
		return nil, "", errors.Join(providers.ErrUnavailable, err)
	}
	if s == nil {
		return nil, "", nil
	}
	revoked, err := b.grants.PersonRevoked(r.Context(), s.Identity.AuthTime, subjectOf(b.subjectKey, s.Identity))
	if err != nil {
		return nil, "", errors.Join(providers.ErrUnavailable, err)
	}
	if revoked {
		if err := b.sessions.EndRevoked(r.Context(), c.Value); err != nil {
			b.log.WarnContext(r.Context(), "cannot end the session of a revoked person", "error", err)
		}
		b.auditEvent(r.Context(), "session.revoked", subjectOf(b.subjectKey, s.Identity), map[string]any{"method": s.Identity.Method})
		return nil, "", nil
	}
	return s.Identity, s.PublicID, nil
}

// sessionSatisfies reports whether an existing session may answer the request without a new
// login: no forced re-authentication, max_age respected, level high enough.
func (b *Broker) sessionSatisfies(rec *loginRecord, id *providers.Identity) bool {
	if rec.ForceAuthn {
		return false
	}
	if rec.MaxAge != nil && b.now().Sub(id.AuthTime) > time.Duration(*rec.MaxAge)*time.Second {
		return false
	}
	return loa.LevelOf(id.ACR) >= loa.LevelOf(rec.ACR)
}

// endSessionHTTP serves RP-initiated logout (OIDC RP-Initiated Logout 1.0).
func (b *Broker) endSessionHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		b.errorPage(w, r, http.StatusBadRequest, "oauth.bad_request", err)
		return
	}
	target, err := b.postLogoutTarget(r.Form.Get("id_token_hint"), r.Form.Get("client_id"),
		r.Form.Get("post_logout_redirect_uri"), r.Form.Get("state"))
	if err != nil {
		b.errorPage(w, r, http.StatusBadRequest, "logout.bad_request", err)
		return
	}
	// Without an id_token_hint anyone's page could end the session with a plain link: the
	// person confirms first, with a CSRF-protected form.
	if r.Form.Get("id_token_hint") == "" {
		if r.Method != http.MethodPost && r.Form.Get("cancel") != "" {
			b.logoutCancelledPage(w, r, target)
			return
		}
		if r.Method != http.MethodPost {
			b.logoutConfirmPage(w, r)
			return
		}
		if !b.CheckCSRF(r) {
			b.errorPage(w, r, http.StatusForbidden, "login.csrf", errors.New("logout without a valid CSRF token"))
			return
		}
	}
	id, sid := b.sessionIdentity(r)
	if sid != "" {
		if c, err := r.Cookie(cookieSession); err == nil {
			_ = b.sessions.End(r.Context(), c.Value)
		}
		http.SetCookie(w, b.cookie(cookieSession, "", -1))
		b.auditEvent(r.Context(), "logout", subjectOf(b.subjectKey, id), map[string]any{"method": id.Method})
	}
	returnTo := target
	if returnTo == "" {
		returnTo = b.issuer + "/logged-out"
	}
	if id != nil {
		for _, p := range b.provs {
			lo, ok := p.(providers.Logouter)
			if !ok || p.Info().Method != id.Method {
				continue
			}
			if err := lo.Logout(w, r, id, returnTo); err != nil {
				if errors.Is(err, providers.ErrUnavailable) {
					b.log.WarnContext(r.Context(), "upstream logout failed", "error", err)
				}
				break
			}
			return
		}
	}
	http.Redirect(w, r, returnTo, http.StatusFound) //nolint:gosec // a registered post_logout_redirect_uri (postLogoutTarget) or the issuer's own page
}

// EndUpstreamSession ends the broker sessions opened with the given upstream session (called
// by a provider on an IdP-initiated logout). Unknown sessions are not an error.
func (b *Broker) EndUpstreamSession(ctx context.Context, session map[string]string) error {
	found, err := b.sessions.EndUpstream(ctx, session)
	if found {
		b.auditEvent(ctx, "logout.upstream", "", map[string]any{"idp": session["idp"]})
	}
	return err
}

// logoutConfirmPage asks the person to confirm a logout that no relying party vouched for.
func (b *Broker) logoutConfirmPage(w http.ResponseWriter, r *http.Request) {
	lang := b.pickLang(r, "")
	hidden := map[string]string{"csrf": b.CSRFToken(r)}
	for _, k := range []string{"client_id", "post_logout_redirect_uri", "state"} {
		if v := r.Form.Get(k); v != "" {
			hidden[k] = v
		}
	}
	// "Annulla" keeps the session: a page says so, with the way back to the service when the
	// request named a registered one: the confirmation always has a way out.
	cancel := url.Values{"cancel": {"1"}}
	for _, k := range []string{"client_id", "post_logout_redirect_uri", "state"} {
		if v := r.Form.Get(k); v != "" {
			cancel.Set(k, v)
		}
	}
	data := web.FormData{Intro: b.catalogue.T(lang, "logout.confirm"), Action: b.issuer + pathEndSession,
		Hidden: hidden, Submit: b.catalogue.T(lang, "logout.submit"),
		Cancel: &web.Link{Href: b.issuer + pathEndSession + "?" + cancel.Encode(), Label: b.catalogue.T(lang, "logout.cancel")}}
	b.render(w, http.StatusOK, b.catalogue.ui.Page("form"), b.page(r, lang, b.catalogue.T(lang, "logout.confirm_title"), data))
}

// logoutCancelledPage says the session stays open; back is the verified way back to the
// service ("" when the request named none).
func (b *Broker) logoutCancelledPage(w http.ResponseWriter, r *http.Request, back string) {
	lang := b.pickLang(r, "")
	data := web.MessageData{Message: b.catalogue.T(lang, "logout.cancelled")}
	if back != "" {
		data.Link, data.LinkLabel = back, b.catalogue.T(lang, "error.back")
	}
	b.render(w, http.StatusOK, b.catalogue.ui.Page("message"), b.page(r, lang, b.catalogue.T(lang, "logout.cancelled_title"), data))
}
