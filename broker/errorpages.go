package broker

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/internal/web"
	"github.com/inps/sportello/providers"
)

// errorView is one error page: what happened (the catalogue key Code, filled with Args), the
// way back to the relying party (Back, with the OAuth error) and the way to try again (Retry,
// the chooser of the same login). It is also what the mutual-TLS origin hands back to the
// issuer origin (see showOnIssuer), hence the JSON names.
type errorView struct {
	Status int               `json:"status"`
	Code   string            `json:"code"`
	Args   map[string]string `json:"args,omitempty"`
	// Title is the catalogue key of the title (default "error.title").
	Title string `json:"title,omitempty"`
	Back  string `json:"back,omitempty"`
	Retry string `json:"retry,omitempty"`
	// LoginLang is the pending login's language (its ui_locales), "" without a login.
	LoginLang string `json:"login_lang,omitempty"`
	// Ref is the reference of the request that failed (the log line with the cause).
	Ref string `json:"ref"`
}

// errorPageTTL is how long a page handed back from the mTLS origin can be shown (and
// reloaded, or switched to the other language).
const errorPageTTL = 10 * time.Minute

// showError logs the cause with the request's reference and shows the person what happened
// and what to do next, in their language; never the cause itself. On the mutual-TLS origin
// the page is not drawn there: it is handed back to the issuer origin (showOnIssuer).
func (b *Broker) showError(w http.ResponseWriter, r *http.Request, v errorView, err error) {
	v.Ref = requestID(r.Context())
	b.log.WarnContext(r.Context(), "login error shown", "code", v.Code, "status", v.Status, "error", err)
	var ue *providers.UserError
	if errors.As(err, &ue) && ue.Args != nil {
		v.Args = ue.Args
	}
	if onMTLSOrigin(r) {
		b.showOnIssuer(w, r, v)
		return
	}
	b.drawError(w, r, v)
}

// drawError renders v on this origin.
func (b *Broker) drawError(w http.ResponseWriter, r *http.Request, v errorView) {
	lang := b.pickLang(r, v.LoginLang)
	msg := b.catalogue.T(lang, v.Code)
	for k, a := range v.Args {
		msg = strings.ReplaceAll(msg, "{"+k+"}", a)
	}
	title := v.Title
	if title == "" {
		title = "error.title"
	}
	data := web.ErrorData{Message: msg, Ref: v.Ref, Back: v.Back, Retry: v.Retry}
	p := b.page(r, lang, b.catalogue.T(lang, title), data)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		// Answering a POST (a SAML response, a form): a switch link would replay it as a GET.
		// The chooser behind "try again" has the switch.
		p.SwitchURL = ""
	}
	if v.Status == http.StatusMethodNotAllowed && w.Header().Get("Allow") == "" {
		w.Header().Set("Allow", "GET, HEAD")
	}
	b.render(w, v.Status, b.catalogue.ui.Page("error"), p)
}

type ctxMTLSOrigin struct{}

// onMTLSOriginHandler marks the requests of the mutual-TLS listener.
func onMTLSOriginHandler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxMTLSOrigin{}, true)))
	})
}

func onMTLSOrigin(r *http.Request) bool {
	v, _ := r.Context().Value(ctxMTLSOrigin{}).(bool)
	return v
}

// pathLoginError shows, on the issuer origin, a page handed back from the mTLS origin.
const pathLoginError = "/login/error"

// showOnIssuer keeps v in the store under a random reference and redirects to the issuer origin,
// which shows it. The mutual-TLS listener has no keep-alive (each login proves possession of
// the card in a handshake of its own), so a page drawn there would fetch its stylesheets and
// fonts over new connections, some closed mid-page, and lose its look. The certificate step
// therefore only ever answers with redirects.
func (b *Broker) showOnIssuer(w http.ResponseWriter, r *http.Request, v errorView) {
	// The language as this request gives it (its own Accept-Language, the login's ui_locales):
	// the issuer origin may not see the same headers.
	v.LoginLang = b.pickLang(r, v.LoginLang)
	ref, err := randomToken(b.rand, 24)
	if err == nil {
		err = b.store.Put(r.Context(), errorPageKey(ref), mustMarshal(v), errorPageTTL)
	}
	if err != nil {
		// The store is down, so whatever happened, the service is unavailable: the issuer
		// origin says so with a page that needs nothing stored.
		b.log.ErrorContext(r.Context(), "error page hand-back failed", "error", err, "code", v.Code)
		q := url.Values{"ui_locales": {v.LoginLang}, "ref": {v.Ref}}
		http.Redirect(w, r, b.issuer+pathLoginUnavailable+"?"+q.Encode(), http.StatusSeeOther) //nolint:gosec // the issuer's own page
		return
	}
	http.Redirect(w, r, b.issuer+pathLoginError+"?"+url.Values{"ref": {ref}}.Encode(), http.StatusSeeOther) //nolint:gosec // the issuer's own page with a random reference
}

// pathLoginUnavailable shows, on the issuer origin, that the service is unavailable: the
// hand-back of a page from the mTLS origin when the store cannot keep it.
const pathLoginUnavailable = "/login/unavailable"

// requestRef is what a request reference looks like (requestID): a page shows no other text.
var requestRef = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// loginUnavailableHTTP serves /login/unavailable?ui_locales=&ref=: the one page it shows says
// that the service is temporarily unavailable (503, Retry-After), with the reference of the
// request that failed; nothing of the query but a language and a well-formed reference.
func (b *Broker) loginUnavailableHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		b.errorPage(w, r, http.StatusMethodNotAllowed, "status.method", errors.New("method not allowed"))
		return
	}
	q := r.URL.Query()
	ref := q.Get("ref")
	if !requestRef.MatchString(ref) {
		ref = requestID(r.Context())
	}
	_, status, key := classify(providers.ErrUnavailable)
	b.drawError(w, r, errorView{Status: status, Code: key, LoginLang: q.Get("ui_locales"), Ref: ref})
}

// loginErrorHTTP serves /login/error?ref=: the page showOnIssuer kept, with its status.
func (b *Broker) loginErrorHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		b.errorPage(w, r, http.StatusMethodNotAllowed, "status.method", errors.New("method not allowed"))
		return
	}
	raw, err := b.store.Get(r.Context(), errorPageKey(r.URL.Query().Get("ref")))
	if store.IsOutage(err) {
		b.unavailablePage(w, r, err)
		return
	}
	var v errorView
	if err != nil || unmarshal(raw, &v) != nil || v.Code == "" {
		b.errorPage(w, r, http.StatusBadRequest, "login.expired", errors.Join(providers.ErrLoginExpired, err))
		return
	}
	b.drawError(w, r, v)
}

// apiPrefixes are the paths whose unknown addresses answer JSON, not a page: relying parties
// and services call them, people never open them.
var apiPrefixes = []string{"/oauth/", "/userinfo", "/admin/", "/.well-known/", "/jwks"}

// notFoundHTTP answers every address no route serves: a layout page in the person's
// language, or a JSON error under the API paths.
func (b *Broker) notFoundHTTP(w http.ResponseWriter, r *http.Request) {
	for _, p := range apiPrefixes {
		if strings.HasPrefix(r.URL.Path, p) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error":"not_found","error_description":"no such endpoint"}`))
			return
		}
	}
	b.showError(w, r, errorView{Status: http.StatusNotFound, Code: "status.not_found", Title: "status.not_found.title"},
		errors.New("no such page"))
}
