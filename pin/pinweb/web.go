package pinweb

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	_ "time/tzdata" // lock times are shown in Italian time on any host

	"github.com/inps/sportello/pin"
	"github.com/inps/sportello/providers"
)

// CSRF issues and checks the hidden csrf field of every form.
type CSRF interface {
	Token(r *http.Request) string
	Check(r *http.Request) bool
}

// Deps are what the broker gives the web adapter.
type Deps struct {
	// ID is the provider id (default "pin").
	ID string
	// CSRF protects every form (required).
	CSRF CSRF
	// Lang returns the person's language, "it" or "en" (default: always "it").
	Lang func(r *http.Request) string
	// Session returns the identity of the broker session (for the PIN telefonico, which
	// needs a SPID, CIE or CNS login): nil without one, an error wrapping
	// providers.ErrUnavailable when the store could not say.
	Session func(r *http.Request) (*providers.Identity, error)
	// Authorize checks an operator's bearer token for a scope and names the operator.
	Authorize func(r *http.Request, scope string) (operator string, ok bool)
	// Logger is the structured log (default: discard).
	Logger *slog.Logger
	// Location is the time zone of times shown to people (default Europe/Rome).
	Location *time.Location
	// ChooserURL is the credential chooser of a pending login: the PIN form's way back to the
	// other credentials. nil: no such link.
	ChooserURL func(loginID string) string
	// LoginURL is the broker's own sign-in coming back to next ("" for its signed-in page):
	// offered after a PIN is activated or restored, and on pages that need a session. nil:
	// no such link.
	LoginURL func(next string) string
}

// Operator scopes of the /admin/pin/ API.
const (
	// ScopeOffice: an INPS office back-office (issue, convert, revoke, unlock, authorise,
	// show, confirm).
	ScopeOffice = "pin:office"
	// ScopeContactCenter: the Contact Center (check a PIN telefonico, show, confirm requests,
	// unlock).
	ScopeContactCenter = "pin:contact_center"
)

// Web is the PIN provider for the broker.
type Web struct {
	svc  *pin.Service
	deps Deps
	log  *slog.Logger
}

// New builds the web adapter over svc.
func New(svc *pin.Service, deps Deps) (*Web, error) {
	if svc == nil || deps.CSRF == nil {
		return nil, errors.New("pinweb: a Service and a CSRF are required")
	}
	if deps.ID == "" {
		deps.ID = "pin"
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
	return &Web{svc: svc, deps: deps, log: log.With("provider", deps.ID)}, nil
}

// Info describes the PIN to the login page.
func (w *Web) Info() providers.Info {
	return providers.Info{
		ID:          w.deps.ID,
		Method:      providers.MethodPIN,
		MaxACR:      w.svc.Config().ACR.Dispositivo,
		Name:        map[string]string{"it": catalogue["pin.name"][0], "en": catalogue["pin.name"][1]},
		Description: map[string]string{"it": catalogue["pin.description"][0], "en": catalogue["pin.description"][1]},
	}
}

// Routes lists the path prefixes Handler serves: the citizens' pages and the operators' API.
func (w *Web) Routes() []string { return []string{"/pin/", "/admin/pin/"} }

// LoginURL is where the broker sends the browser to log in with the PIN.
func LoginURL(loginID string) string { return "/pin/login?" + url.Values{"login": {loginID}}.Encode() }

// Handler serves the pages and the operators' API; f finishes logins.
func (w *Web) Handler(f providers.Finisher) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/pin/login", w.page(f, w.login))
	mux.HandleFunc("/pin/first-access", w.page(f, w.change))
	mux.HandleFunc("/pin/renew", w.page(f, w.change))
	mux.HandleFunc("/pin/activate", w.page(f, w.activate))
	mux.HandleFunc("/pin/request", w.page(f, w.request))
	mux.HandleFunc("/pin/lost", w.page(f, w.lost))
	mux.HandleFunc("/pin/lost/complete", w.page(f, w.recover))
	mux.HandleFunc("/pin/revoke", w.page(f, w.revoke))
	mux.HandleFunc("/pin/phone", w.page(f, w.phone))
	mux.HandleFunc("/pin/convert", w.page(f, w.convert))
	mux.HandleFunc("/pin/", w.page(f, w.index))
	w.adminRoutes(mux)
	return mux
}

// lang returns the person's language, it or en: the one page fixed for this request (see
// page), else the switch (?lang=), else what the broker says (the remembered choice, the
// pending login's ui_locales, Accept-Language).
func (w *Web) lang(r *http.Request) string {
	if l, ok := r.Context().Value(ctxLang{}).(string); ok {
		return l
	}
	if l := r.URL.Query().Get("lang"); l == "it" || l == "en" {
		return l
	}
	if strings.HasPrefix(w.deps.Lang(r), "en") {
		return "en"
	}
	return "it"
}

type ctxLang struct{}

// withLang fixes the language of r once (the broker may read the pending login for it).
func (w *Web) withLang(r *http.Request) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), ctxLang{}, w.lang(r)))
}

// Start sends the browser to the PIN login form of the pending login, which makes the PIN a
// providers.RedirectProvider (the broker's idp=pin hint and chooser use it).
func (w *Web) Start(rw http.ResponseWriter, r *http.Request, req *providers.LoginRequest) error {
	http.Redirect(rw, r, LoginURL(req.ID), http.StatusFound)
	return nil
}

var _ providers.RedirectProvider = (*Web)(nil)
