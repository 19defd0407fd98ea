package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/providers"
)

// UIPrefix is where the HTML console is mounted (the API, at Prefix, is inside it).
const UIPrefix = "/console/"

// The console's cookies: Path=/console/ so no other page of the issuer ever receives them.
const (
	// sessionCookie holds an operator's session id (the Store keeps the session, hashed).
	sessionCookie = "sportello_console"
	// loginCookie binds a login in progress to the browser that started it (the state).
	loginCookie = "sportello_console_login"
)

// Roles of an operator, from the entitlements their fiscal code has.
const (
	RoleRead  = "read"
	RoleAdmin = "admin"
)

// loginTTL bounds a login in progress (authorize, upstream login, callback).
const loginTTL = 10 * time.Minute

// UIConfig is what the HTML console needs besides the API whose functions it calls.
type UIConfig struct {
	// API is the console's JSON API: the pages read and change through the same functions.
	API *API
	// Store keeps the logins in progress and the operators' sessions.
	Store store.Store
	// Issuer is this issuer's URL: the console signs in at Issuer/authorize and comes back to
	// Issuer/console/callback.
	Issuer string
	// ClientID is the console's own client at this issuer (a public client, PKCE S256).
	ClientID string
	// Token sends a token request (RFC 6749 §4.1.3, form-encoded) to this issuer's token
	// endpoint in process and returns the HTTP status and body.
	Token func(ctx context.Context, form url.Values) (status int, body []byte, err error)
	// Operators names what a person may do here: the entitlements console:read or
	// console:admin of their fiscal code (configuration: console.operators).
	Operators providers.Entitler
	// Revoked, when set, tells whether the person with this fiscal code was revoked (an
	// operator's revoke-person) at or after since: an operator's console session opened before
	// the revocation ends with it, as their SSO sessions and tokens do.
	Revoked func(ctx context.Context, fiscalCode string, since time.Time) (bool, error)
	// Lang is the person's language, "it" or "en" (the broker's, with its language switch).
	Lang func(r *http.Request) string
	// Secure marks the cookies Secure (everywhere but dev mode's plain http).
	Secure bool
	// IdleTimeout ends a session after this long without a request (default 15m); MaxAge
	// this long after the login (default 8h).
	IdleTimeout, MaxAge time.Duration
	Log                 *slog.Logger
	// Now is the clock and Random the random source; nil means time.Now and crypto/rand.
	Now    func() time.Time
	Random io.Reader
}

// UI is the security team's HTML console: every page needs an operator's session, opened by
// the broker's own login at SpidL3 (the console is a relying party of this issuer).
type UI struct {
	c   UIConfig
	mux *http.ServeMux
}

// NewUI returns the console's pages; mount it at UIPrefix (the API at Prefix beside it).
func NewUI(c UIConfig) (*UI, error) {
	if c.API == nil || c.Store == nil || c.Issuer == "" || c.ClientID == "" || c.Token == nil || c.Operators == nil || c.Lang == nil {
		return nil, errors.New("console: API, Store, Issuer, ClientID, Token, Operators and Lang are required")
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 15 * time.Minute
	}
	if c.MaxAge <= 0 {
		c.MaxAge = 8 * time.Hour
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Random == nil {
		c.Random = rand.Reader
	}
	u := &UI{c: c, mux: http.NewServeMux()}
	u.mux.HandleFunc("GET /console/login", u.login)
	u.mux.HandleFunc("GET /console/callback", u.callback)
	u.mux.HandleFunc("POST /console/logout", u.logout)
	u.mux.HandleFunc("GET /console/{$}", u.page(u.overview))
	u.mux.HandleFunc("GET /console/providers", u.page(u.providersPage))
	u.mux.HandleFunc("GET /console/clients", u.page(u.clientsPage))
	u.mux.HandleFunc("GET /console/keys", u.page(u.keysPage))
	u.mux.HandleFunc("GET /console/replicas", u.page(u.replicasPage))
	u.mux.HandleFunc("GET /console/audit", u.page(u.auditPage))
	u.mux.HandleFunc("GET /console/actions", u.page(u.actionsPage))
	u.mux.HandleFunc("POST /console/confirm", u.change(u.confirm))
	u.mux.HandleFunc("POST /console/apply", u.change(u.apply))
	u.mux.HandleFunc("/console/", func(w http.ResponseWriter, r *http.Request) {
		u.message(w, r, http.StatusNotFound, "not_found", nil)
	})
	return u, nil
}

// ServeHTTP implements http.Handler.
func (u *UI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	u.mux.ServeHTTP(w, r)
}

// session is an operator's console session, kept in the Store under the hash of its id.
type session struct {
	FiscalCode string    `json:"fiscal_code"`
	Subject    string    `json:"sub"`
	Name       string    `json:"name,omitempty"`
	Role       string    `json:"role"`
	CSRF       string    `json:"csrf"`
	Created    time.Time `json:"created"`
	Seen       time.Time `json:"seen"`
}

// admin tells whether the session may change anything (console:admin).
func (s *session) admin() bool { return s.Role == RoleAdmin }

// errNoSession: no cookie, or the session ended (logged out, idle, too old).
var errNoSession = errors.New("console: no session")

func sessionKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return "console:session:" + hex.EncodeToString(sum[:])
}

// random returns n random bytes, base64url-encoded.
func (u *UI) random(n int) (string, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(u.c.Random, b); err != nil {
		return "", fmt.Errorf("console: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// cookie builds one of the console's cookies: Path=/console/, HttpOnly, Secure outside dev
// mode. The session cookie is SameSite=Strict: no other site's page or form ever carries it.
func (u *UI) cookie(name, value string, sameSite http.SameSite, maxAge time.Duration) *http.Cookie {
	c := &http.Cookie{Name: name, Value: value, Path: UIPrefix, HttpOnly: true, Secure: u.c.Secure, SameSite: sameSite} //nolint:gosec // Secure is off only in dev mode (plain http on loopback)
	if maxAge > 0 {
		c.MaxAge = int(maxAge / time.Second)
	} else if maxAge < 0 {
		c.MaxAge = -1
	}
	return c
}

// openSession stores a new session and sets its cookie.
func (u *UI) openSession(ctx context.Context, w http.ResponseWriter, s session) error {
	id, err := u.random(32)
	if err != nil {
		return err
	}
	if s.CSRF, err = u.random(32); err != nil {
		return err
	}
	now := u.c.Now()
	s.Created, s.Seen = now, now
	raw, _ := json.Marshal(s)
	if err := u.c.Store.Put(ctx, sessionKey(id), raw, u.c.IdleTimeout); err != nil {
		return err
	}
	http.SetCookie(w, u.cookie(sessionCookie, id, http.SameSiteStrictMode, 0))
	return nil
}

// currentSession returns the session of r, and renews its idle deadline. It is errNoSession
// when there is none or it ended; any other error is the Store's.
func (u *UI) currentSession(r *http.Request) (*session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" || len(c.Value) > 128 {
		return nil, errNoSession
	}
	key := sessionKey(c.Value)
	raw, err := u.c.Store.Get(r.Context(), key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNoSession
	}
	if err != nil {
		return nil, err
	}
	var s session
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, errNoSession
	}
	// The role is the configuration's now, not the one at the login: an operator removed or
	// made read-only loses the rights at once.
	ents, err := u.c.Operators.Entitlements(r.Context(), s.FiscalCode)
	if err != nil {
		return nil, err
	}
	if s.Role = roleOf(ents); s.Role == "" {
		_ = u.c.Store.Delete(r.Context(), key)
		return nil, errNoSession
	}
	if u.c.Revoked != nil {
		revoked, err := u.c.Revoked(r.Context(), s.FiscalCode, s.Created)
		if err != nil {
			return nil, err
		}
		if revoked {
			_ = u.c.Store.Delete(r.Context(), key)
			return nil, errNoSession
		}
	}
	now := u.c.Now()
	// The Store's TTL ends an idle session; the clock here decides too, so a Store whose
	// expiry lags never stretches it.
	if now.Sub(s.Seen) >= u.c.IdleTimeout || now.Sub(s.Created) >= u.c.MaxAge {
		_ = u.c.Store.Delete(r.Context(), key)
		return nil, errNoSession
	}
	s.Seen = now
	ttl := min(u.c.IdleTimeout, s.Created.Add(u.c.MaxAge).Sub(now))
	next, _ := json.Marshal(s)
	if err := u.c.Store.Put(r.Context(), key, next, ttl); err != nil {
		return nil, err
	}
	return &s, nil
}

// roleOf is the console role entitlements give ("" for none).
func roleOf(ents []string) string {
	switch {
	case slices.Contains(ents, ScopeAdmin):
		return RoleAdmin
	case slices.Contains(ents, ScopeRead):
		return RoleRead
	}
	return ""
}

// checkCSRF compares the form's csrf field with the session's token.
func checkCSRF(r *http.Request, s *session) bool {
	got := r.PostFormValue("csrf")
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.CSRF)) == 1
}

// page wraps a page that shows: without a session the browser goes to the login, which comes
// back here.
func (u *UI) page(h func(w http.ResponseWriter, r *http.Request, s *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, err := u.currentSession(r)
		switch {
		case errors.Is(err, errNoSession):
			next := r.URL.Path
			if r.URL.RawQuery != "" {
				next += "?" + r.URL.RawQuery
			}
			http.Redirect(w, r, "/console/login?next="+url.QueryEscape(next), http.StatusSeeOther)
			return
		case err != nil:
			u.c.Log.Warn("console: session lookup failed", "err", err)
			u.message(w, r, http.StatusServiceUnavailable, "store_down", nil)
			return
		}
		h(w, r, s)
	}
}

// change wraps a POST that changes something: a session, console:admin and the session's
// CSRF token are required, or nothing is done (403).
func (u *UI) change(h func(w http.ResponseWriter, r *http.Request, s *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, err := u.currentSession(r)
		switch {
		case errors.Is(err, errNoSession):
			u.message(w, r, http.StatusForbidden, "no_session", nil)
			return
		case err != nil:
			u.c.Log.Warn("console: session lookup failed", "err", err)
			u.message(w, r, http.StatusServiceUnavailable, "store_down", nil)
			return
		}
		if err := r.ParseForm(); err != nil {
			u.message(w, r, http.StatusBadRequest, "bad_form", s)
			return
		}
		if !checkCSRF(r, s) {
			u.c.Log.Warn("console: form without a valid CSRF token refused", "operator", s.FiscalCode, "path", r.URL.Path)
			u.message(w, r, http.StatusForbidden, "csrf", s)
			return
		}
		if !s.admin() {
			u.c.Log.Warn("console: a read-only operator's change refused", "operator", s.FiscalCode, "path", r.URL.Path)
			u.message(w, r, http.StatusForbidden, "read_only", s)
			return
		}
		h(w, r, s)
	}
}

// safeNext keeps a return address inside the console's pages (no open redirect).
func safeNext(next string) string {
	if !strings.HasPrefix(next, UIPrefix) || strings.HasPrefix(next, "/console/api/") || strings.ContainsAny(next, "\\\r\n") ||
		strings.Contains(next, "//") || len(next) > 512 {
		return UIPrefix
	}
	return next
}
