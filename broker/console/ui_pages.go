package console

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/inps/sportello/internal/fiscalcode"
	"github.com/inps/sportello/internal/switches"
	"github.com/inps/sportello/internal/web"
)

//go:embed templates/*.html
var uiTemplates embed.FS

// uiRenderer renders the console in the citizens' pages' layout (Bootstrap Italia, the same
// language switch), with the console's own messages.
var uiRenderer = web.New(uiLabels.Messages("console."))

// uiPage is one console page: the layout, the console's navigation and the page's body.
func uiPage(name string) *template.Template {
	t := uiRenderer.Layout().Funcs(uiFuncs)
	return template.Must(t.ParseFS(uiTemplates, "templates/nav.html", "templates/"+name+".html"))
}

var uiFuncs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
	"day":  func(t time.Time) string { return t.UTC().Format("2006-01-02") },
	"join": strings.Join,
	"age": func(sec *int64) string {
		if sec == nil {
			return "—"
		}
		d := time.Duration(*sec) * time.Second
		switch {
		case d >= 48*time.Hour:
			return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + " d"
		case d >= time.Hour:
			return strconv.FormatInt(int64(d/time.Hour), 10) + " h"
		}
		return strconv.FormatInt(int64(d/time.Minute), 10) + " min"
	},
}

var pageTemplates = map[string]*template.Template{}

func init() {
	addFuncs(uiFuncs)
	for _, name := range []string{"overview", "providers", "clients", "keys", "replicas", "audit", "actions", "confirm", "message"} {
		pageTemplates[name] = uiPage(name)
	}
}

// navItem is one link of the console's navigation.
type navItem struct {
	URL, Label string
	Current    bool
}

// view is what every console page gets: the operator, the navigation, the CSRF token of
// their session, and the page's own data.
type view struct {
	Operator *session
	Nav      []navItem
	CSRF     string
	Admin    bool
	// Problem is shown above the page (a source that could not be read).
	Problem string
	Body    any
}

var navPages = []struct{ path, key string }{
	{"/console/", "nav.overview"}, {"/console/providers", "nav.providers"}, {"/console/clients", "nav.clients"},
	{"/console/keys", "nav.keys"}, {"/console/replicas", "nav.replicas"}, {"/console/audit", "nav.audit"},
	{"/console/actions", "nav.actions"},
}

// render writes page name with body for the session s (nil: no navigation).
func (u *UI) render(w http.ResponseWriter, r *http.Request, status int, name, titleKey string, s *session, body any, problem string) {
	lang := u.c.Lang(r)
	v := view{Operator: s, Body: body, Problem: problem}
	if s != nil {
		v.CSRF, v.Admin = s.CSRF, s.admin()
		for _, n := range navPages {
			v.Nav = append(v.Nav, navItem{URL: n.path, Label: uiRenderer.T(lang, "console."+n.key), Current: r.URL.Path == n.path})
		}
	}
	p := uiRenderer.NewPage(r, lang, "", uiRenderer.T(lang, "console."+titleKey), v)
	if (r.Method != http.MethodGet && r.Method != http.MethodHead) || r.URL.Path == "/console/callback" {
		p.SwitchURL = "" // the switch would repeat a form post as a GET, or a used code
	}
	if err := uiRenderer.Render(w, status, pageTemplates[name], p); err != nil {
		u.c.Log.Error("console: page not rendered", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
	}
}

// messageBody is a message page: what happened, and where to go next.
type messageBody struct {
	Key         string
	Link, Label string
	// Refresh makes the page go on to Link by itself (a meta refresh: no script).
	Refresh bool
}

// message answers status with the message page console.msg.<key>.
func (u *UI) message(w http.ResponseWriter, r *http.Request, status int, key string, s *session) {
	b := messageBody{Key: key}
	switch key {
	case "not_operator", "level", "logged_out", "login_expired", "login_failed", "no_session":
		b.Link, b.Label = "/console/login", "console.sign_in"
	case "csrf", "read_only", "bad_form", "not_found":
		b.Link, b.Label = "/console/", "console.back"
	}
	u.render(w, r, status, "message", "msg."+key+".title", s, b, "")
}

// signedIn is the page after a login, going on to next by itself.
func (u *UI) signedIn(w http.ResponseWriter, r *http.Request, next string) {
	u.render(w, r, http.StatusOK, "message", "msg.signed_in.title", nil,
		messageBody{Key: "signed_in", Link: safeNext(next), Label: "console.continue", Refresh: true}, "")
}

// problemKey names the message for an error of the API's functions.
func problemKey(err error) string {
	var ae *apiError
	if errors.As(err, &ae) {
		switch ae.status {
		case http.StatusServiceUnavailable:
			return "store_down"
		case http.StatusNotFound:
			return "not_found_item"
		case http.StatusBadRequest:
			return "invalid"
		case http.StatusNotImplemented:
			return "not_offered"
		}
	}
	return "error"
}

func statusOf(err error) int {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.status
	}
	return http.StatusInternalServerError
}

// problem is the text shown for err: the message, and the API's own detail for a request
// the operator can correct.
func (u *UI) problem(r *http.Request, err error) string {
	lang := u.c.Lang(r)
	msg := uiRenderer.T(lang, "console.problem."+problemKey(err))
	var ae *apiError
	if errors.As(err, &ae) && ae.status == http.StatusBadRequest {
		msg += " (" + ae.desc + ")"
	}
	if ae == nil || ae.logged != nil || ae.status >= 500 {
		u.c.Log.Warn("console page", "path", r.URL.Path, "err", err)
	}
	return msg
}

type overviewBody struct {
	Providers, ProvidersOff, IdPs, IdPsOff, Clients, ClientsOff, Replicas int
	ActiveKey                                                             string
	Switches                                                              []switches.Switch
}

func (u *UI) overview(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	var b overviewBody
	var errs []error
	ps, err := u.c.API.listProviders(ctx)
	errs = append(errs, err)
	for _, p := range ps {
		if p.Kind == switches.KindIdP {
			b.IdPs++
			if !p.Enabled {
				b.IdPsOff++
			}
			continue
		}
		b.Providers++
		if !p.Enabled {
			b.ProvidersOff++
		}
	}
	cs, err := u.c.API.listClients(ctx)
	errs = append(errs, err)
	b.Clients = len(cs)
	for _, c := range cs {
		if !c.Enabled {
			b.ClientsOff++
		}
	}
	ks, err := u.c.API.listKeys(ctx)
	errs = append(errs, err)
	for _, k := range ks {
		if k.State == "active" {
			b.ActiveKey = k.KID
		}
	}
	rs, err := u.c.API.c.Replicas(ctx)
	if err != nil {
		err = unavailable(err)
	}
	errs = append(errs, err)
	b.Replicas = len(rs)
	b.Switches, err = u.c.API.c.Switches.List(ctx)
	if err != nil {
		err = unavailable(err)
	}
	errs = append(errs, err)
	u.show(w, r, "overview", "overview.title", s, b, errors.Join(errs...))
}

// show renders a reading page; a source that failed is named above it (503 when the Store
// was down).
func (u *UI) show(w http.ResponseWriter, r *http.Request, name, title string, s *session, body any, err error) {
	status, problem := http.StatusOK, ""
	if err != nil {
		status, problem = statusOfJoined(err), u.problem(r, firstError(err))
	}
	u.render(w, r, status, name, title, s, body, problem)
}

func firstError(err error) error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if e != nil {
				return e
			}
		}
	}
	return err
}

func statusOfJoined(err error) int { return statusOf(firstError(err)) }

func (u *UI) providersPage(w http.ResponseWriter, r *http.Request, s *session) {
	ps, err := u.c.API.listProviders(r.Context())
	u.show(w, r, "providers", "providers.title", s, ps, err)
}

func (u *UI) clientsPage(w http.ResponseWriter, r *http.Request, s *session) {
	cs, err := u.c.API.listClients(r.Context())
	u.show(w, r, "clients", "clients.title", s, cs, err)
}

func (u *UI) keysPage(w http.ResponseWriter, r *http.Request, s *session) {
	ks, err := u.c.API.listKeys(r.Context())
	u.show(w, r, "keys", "keys.title", s, ks, err)
}

func (u *UI) replicasPage(w http.ResponseWriter, r *http.Request, s *session) {
	rs, err := u.c.API.c.Replicas(r.Context())
	if err != nil {
		err = unavailable(err)
	}
	u.show(w, r, "replicas", "replicas.title", s, rs, err)
}

// auditBody is the audit page: the search form as filled, the records and the chain.
type auditBody struct {
	Person, Client, Type, Since, Until string
	Records                            []AuditRecord
	Chain                              *AuditChain
	// Unavailable: this broker keeps no searchable trail.
	Unavailable bool
}

// timeForm is the layout of an <input type="datetime-local"> (HTML §4.10.5.1.8), read as UTC.
const timeForm = "2006-01-02T15:04"

func parseFormTime(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, true
	}
	for _, l := range []string{timeForm, "2006-01-02T15:04:05", time.RFC3339} {
		if t, err := time.ParseInLocation(l, s, time.UTC); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func (u *UI) auditPage(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	b := auditBody{Person: q.Get("person"), Client: q.Get("client"), Type: q.Get("type"), Since: q.Get("since"), Until: q.Get("until")}
	if u.c.API.c.AuditLog == nil {
		b.Unavailable = true
		u.show(w, r, "audit", "audit.title", s, b, nil)
		return
	}
	aq := AuditQuery{Client: strings.TrimSpace(b.Client), Type: strings.TrimSpace(b.Type), Limit: 200}
	var err error
	if p := strings.TrimSpace(b.Person); p != "" {
		if aq.Person, err = fiscalcode.Parse(p); err != nil {
			err = badRequest("person must be a valid fiscal code")
		}
	}
	since, ok1 := parseFormTime(b.Since)
	until, ok2 := parseFormTime(b.Until)
	switch {
	case err != nil:
	case !ok1 || !ok2:
		err = badRequest("since and until must be dates and times")
	case !printableQuery(aq.Client) || !printableQuery(aq.Type):
		err = badRequest("client and type must be at most 256 printable characters")
	case !since.IsZero() && !until.IsZero() && until.Before(since):
		err = badRequest("until is before since")
	}
	if err == nil {
		aq.Since, aq.Until = since, until
		var chain AuditChain
		b.Records, chain, err = u.c.API.searchAudit(r.Context(), aq)
		if err == nil {
			b.Chain = &chain
		}
	}
	u.show(w, r, "audit", "audit.title", s, b, err)
}

// actionsBody is the actions page: the actions this broker offers (Actions set), and the
// providers whose metadata can be refreshed.
type actionsBody struct {
	UnlockPIN, RevokePerson, Refresh bool
	Refreshable                      []Provider
}

func (u *UI) actionsPage(w http.ResponseWriter, r *http.Request, s *session) {
	ps, err := u.c.API.listProviders(r.Context())
	acts := u.c.API.c.Actions
	b := actionsBody{UnlockPIN: acts.UnlockPIN != nil, RevokePerson: acts.RevokePerson != nil, Refresh: acts.RefreshMetadata != nil}
	for _, p := range ps {
		if p.Metadata != nil {
			b.Refreshable = append(b.Refreshable, p)
		}
	}
	u.show(w, r, "actions", "actions.title", s, b, err)
}

// change is one change an operator asks for, read from a form.
type changeRequest struct {
	Action string // switch, refresh_metadata, rotate_keys, unlock_pin, revoke_person
	Kind   switches.Kind
	ID     string
	// On is the switch's new state.
	On         bool
	FiscalCode string
	Reason     string
}

// confirmBody is the confirmation page of a change, and the result page once Done.
type confirmBody struct {
	C       changeRequest
	Problem string
	Done    bool
	Revoked int
}

// readChange reads and checks a change form (the same checks as the API's).
func readChange(r *http.Request) (changeRequest, error) {
	f := r.PostForm
	c := changeRequest{Action: f.Get("action"), Kind: switches.Kind(f.Get("kind")), ID: f.Get("id"),
		On: f.Get("state") == "on", FiscalCode: strings.TrimSpace(f.Get("fiscal_code")), Reason: strings.TrimSpace(f.Get("reason"))}
	switch c.Action {
	case "switch":
		if !switches.ValidKind(c.Kind) {
			return c, badRequest("kind must be idp, provider or client")
		}
		if !switches.ValidID(c.ID) {
			return c, badRequest("id must be 1 to 1024 printable characters")
		}
		if s := f.Get("state"); s != "on" && s != "off" {
			return c, badRequest("state must be on or off")
		}
	case "refresh_metadata":
		if !switches.ValidID(c.ID) {
			return c, badRequest("choose a provider or an IdP")
		}
	case "rotate_keys":
	case "unlock_pin", "revoke_person":
		cf, err := fiscalcode.Parse(c.FiscalCode)
		if err != nil {
			return c, badRequest("fiscal_code must be a valid fiscal code")
		}
		c.FiscalCode = cf
	default:
		return c, badRequest("unknown action")
	}
	return c, nil
}

// confirm shows what the change will do, and the form that applies it (no script: a page).
func (u *UI) confirm(w http.ResponseWriter, r *http.Request, s *session) {
	c, err := readChange(r)
	if err != nil {
		u.render(w, r, http.StatusBadRequest, "confirm", "confirm.title", s, confirmBody{C: c, Problem: u.problem(r, err)}, "")
		return
	}
	u.render(w, r, http.StatusOK, "confirm", "confirm.title", s, confirmBody{C: c}, "")
}

// apply makes the change through the API's own functions, so the audit record and the
// errors are the API's, with the operator's fiscal code as actor.
func (u *UI) apply(w http.ResponseWriter, r *http.Request, s *session) {
	c, err := readChange(r)
	n := 0
	if err == nil {
		n, err = u.applyChange(r.Context(), s, c)
	}
	if err != nil {
		// Back to the confirmation, with what went wrong: nothing was applied.
		u.render(w, r, statusOf(err), "confirm", "confirm.title", s, confirmBody{C: c, Problem: u.problem(r, err)}, "")
		return
	}
	u.render(w, r, http.StatusOK, "confirm", "result.title", s, confirmBody{C: c, Done: true, Revoked: n}, "")
}

// applyChange runs c as the operator of s; n is what revoke_person revoked.
func (u *UI) applyChange(ctx context.Context, s *session, c changeRequest) (n int, err error) {
	a := u.c.API
	switch c.Action {
	case "switch":
		ch := switches.Change{Kind: c.Kind, ID: c.ID, Enabled: c.On, Actor: s.FiscalCode}
		if !c.On {
			ch.Reason = c.Reason
		}
		_, err = a.applySwitch(ctx, ch)
	case "refresh_metadata":
		err = a.doRefreshMetadata(ctx, s.FiscalCode, c.ID)
	case "rotate_keys":
		err = a.doRotateKeys(ctx, s.FiscalCode)
	case "unlock_pin":
		err = a.doUnlockPIN(ctx, s.FiscalCode, c.FiscalCode)
	case "revoke_person":
		n, err = a.doRevokePerson(ctx, s.FiscalCode, c.FiscalCode)
	default:
		err = badRequest("unknown action")
	}
	return n, err
}
