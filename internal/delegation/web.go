package delegation

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"
	_ "time/tzdata" // dates are shown and read in Italian time on any host

	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/providers"
)

// CSRF issues and checks the hidden csrf field of every form.
type CSRF interface {
	Token(r *http.Request) string
	Check(r *http.Request) bool
}

// Deps are what the broker gives the pages and the operators' API.
type Deps struct {
	// CSRF protects every form (required).
	CSRF CSRF
	// Lang returns the person's language, "it" or "en" (default: always "it").
	Lang func(r *http.Request) string
	// Session returns the identity of the broker's SSO session: nil without one, an error
	// wrapping providers.ErrUnavailable when the store could not say.
	Session func(r *http.Request) (*providers.Identity, error)
	// Authorize checks an operator's bearer token for a scope and names the operator.
	Authorize func(r *http.Request, scope string) (operator string, ok bool)
	// Logger is the structured log (default: discard).
	Logger *slog.Logger
	// Location is the time zone of dates shown and typed (default Europe/Rome).
	Location *time.Location
	// LoginURL is where a person without a suitable session signs in to come back to next
	// (the broker's own sign-in); nil: the page only explains.
	LoginURL func(next string) string
}

// ScopeOffice is the operator scope of the /admin/delegations/ API.
const ScopeOffice = "delegation:office"

// MinLevel is the level of the session the citizens' pages require (SpidL2).
const MinLevel = 2

// Web serves "Le mie deleghe" under /deleghe/ and the operators' API under
// /admin/delegations/.
type Web struct {
	reg  *Registry
	deps Deps
	log  *slog.Logger
	mux  *http.ServeMux
}

var _ http.Handler = (*Web)(nil)

// NewWeb builds the pages and the operators' API over reg.
func NewWeb(reg *Registry, deps Deps) (*Web, error) {
	if reg == nil || deps.CSRF == nil {
		return nil, errors.New("delegation: a Registry and a CSRF are required")
	}
	if deps.Lang == nil {
		deps.Lang = func(*http.Request) string { return "it" }
	}
	if deps.Session == nil {
		deps.Session = func(*http.Request) (*providers.Identity, error) { return nil, nil }
	}
	if deps.Authorize == nil {
		deps.Authorize = func(*http.Request, string) (string, bool) { return "", false }
	}
	if deps.Location == nil {
		loc, err := time.LoadLocation("Europe/Rome")
		if err != nil {
			loc = time.UTC
		}
		deps.Location = loc
	}
	log := deps.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	w := &Web{reg: reg, deps: deps, log: log.With("component", "delegation.web"), mux: http.NewServeMux()}
	w.mux.HandleFunc("/deleghe/", w.page(w.index))
	w.mux.HandleFunc("/deleghe/register", w.page(w.register))
	w.mux.HandleFunc("/deleghe/revoke", w.page(w.revoke))
	w.adminRoutes(w.mux)
	return w, nil
}

// Routes lists the path prefixes the handler serves.
func (w *Web) Routes() []string { return []string{"/deleghe/", "/admin/delegations/"} }

// ServeHTTP serves the pages and the API.
func (w *Web) ServeHTTP(rw http.ResponseWriter, r *http.Request) { w.mux.ServeHTTP(rw, r) }

// lang returns the person's language, it or en.
func (w *Web) lang(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l == "it" || l == "en" {
		return l
	}
	if strings.HasPrefix(w.deps.Lang(r), "en") {
		return "en"
	}
	return "it"
}

// page wraps a page handler: methods, security headers, the CSRF check of every POST and the
// session of level MinLevel or above.
func (w *Web) page(h func(rw http.ResponseWriter, r *http.Request, id *providers.Identity)) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Cache-Control", "no-store")
		rw.Header().Set("X-Frame-Options", "DENY")
		// Stricter than the broker's page policy (whose form-action must allow the SAML POST
		// to identity providers): these forms only ever post to this origin. Never
		// 'unsafe-inline'; the shared layout needs no inline style or script.
		rw.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		rw.Header().Set("Referrer-Policy", "no-referrer")
		lang := w.lang(r)
		switch r.Method {
		case http.MethodGet, http.MethodHead:
		case http.MethodPost:
			r.Body = http.MaxBytesReader(rw, r.Body, 16<<10)
			if err := r.ParseForm(); err != nil {
				w.render(rw, r, &view{Error: text(lang, "err.invalid", nil), Status: http.StatusBadRequest})
				return
			}
			if !w.deps.CSRF.Check(r) {
				w.render(rw, r, &view{Error: text(lang, "err.csrf", nil), Status: http.StatusForbidden})
				return
			}
		default:
			w.methodNotAllowed(rw, r, http.MethodGet, http.MethodPost)
			return
		}
		id, err := w.deps.Session(r)
		if errors.Is(err, providers.ErrUnavailable) {
			// The store could not say whether there is a session: not "sign in".
			w.log.WarnContext(r.Context(), "delegation: session unreadable", "err", err)
			w.render(rw, r, &view{Error: text(lang, "err.unavailable", nil), Status: http.StatusServiceUnavailable})
			return
		}
		if err != nil || id == nil || id.FiscalNumber == "" {
			w.render(rw, r, &view{Error: text(lang, "err.login", nil), LoginURL: w.loginURL(), Status: http.StatusUnauthorized})
			return
		}
		if loa.LevelOf(id.ACR) < MinLevel {
			w.render(rw, r, &view{Error: text(lang, "err.level", nil), LoginURL: w.loginURL(), Status: http.StatusForbidden})
			return
		}
		h(rw, r, id)
	}
}

// loginURL is the sign-in that comes back to the delegations page, "" without one.
func (w *Web) loginURL() string {
	if w.deps.LoginURL == nil {
		return ""
	}
	return w.deps.LoginURL("/deleghe/")
}

// notFound and methodNotAllowed answer with the layout's pages, in the person's language.
func (w *Web) notFound(rw http.ResponseWriter, r *http.Request) {
	if err := pages.WriteNotFound(rw, r, w.lang(r), "", rw.Header().Get("X-Request-Id")); err != nil {
		w.log.Error("delegation: render", "err", err)
	}
}

func (w *Web) methodNotAllowed(rw http.ResponseWriter, r *http.Request, allow ...string) {
	if err := pages.WriteMethodNotAllowed(rw, r, w.lang(r), "", rw.Header().Get("X-Request-Id"), allow...); err != nil {
		w.log.Error("delegation: render", "err", err)
	}
}
