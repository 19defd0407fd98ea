package delegation

import (
	"errors"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/inps/sportello/internal/fiscalcode"
	"github.com/inps/sportello/internal/web"
	"github.com/inps/sportello/providers"
)

// row is one delegation in a table.
type row struct {
	ID, Person, Kind, Start, End, Status string
	// Revocable shows the revoke button; Note explains why not.
	Revocable bool
	Note      string
}

// view is what the page shows.
type view struct {
	Lang          string
	T             map[string]string
	Who           string
	Error, Notice string
	Ref           string // the help desk's reference shown with Error
	Given, Recv   []row
	Form          map[string]string
	// FieldErrors are the messages shown at each field of the registration form.
	FieldErrors map[string]string
	// Fields is the registration form, built by render.
	Fields []web.Field
	// LoginURL offers a sign-in when the page needs a session it lacks.
	LoginURL      string
	CSRF          string
	Status        int
	Authenticated bool
}

// pages renders in the broker's shared layout (Bootstrap Italia, skip link, language switch,
// footer): the same look and accessibility as every other citizen page.
var pages = web.New(Messages())

var pageTemplate = template.Must(pages.Layout().Parse(`{{define "body"}}
<h1 class="mb-4">{{.Title}}</h1>
{{with .Data}}
{{if .Error}}<div class="alert alert-danger" role="alert" id="error"><p class="mb-0">{{.Error}}</p>{{if .FieldErrors}}<ul class="sp-error-summary">{{range .Fields}}{{if .Error}}<li><a href="#f-{{.Name}}">{{.Label}}: {{.Error}}</a></li>{{end}}{{end}}</ul>{{end}}{{if .Ref}}<p class="mb-0 mt-2 small">{{$.T "error.reference"}}: <span class="sp-ref">{{.Ref}}</span></p>{{end}}</div>{{end}}
{{if .Notice}}<div class="alert alert-success" role="status" id="notice"><p class="mb-0">{{.Notice}}</p></div>{{end}}
{{if .LoginURL}}<p><a class="btn btn-primary" href="{{.LoginURL}}">{{.T.login}}</a></p>{{end}}
{{if .Authenticated}}<p class="lead">{{.Who}}</p><p>{{.T.intro}}</p>
<h2 class="h3 mt-5" id="given-title">{{.T.given}}</h2>
{{if .Given}}<div class="table-responsive" tabindex="0" role="region" aria-labelledby="given-title"><table id="given" class="table" aria-labelledby="given-title">
<thead><tr><th scope="col">{{.T.person}}</th><th scope="col">{{.T.kind}}</th><th scope="col">{{.T.start}}</th><th scope="col">{{.T.end}}</th><th scope="col">{{.T.status}}</th><th scope="col">{{.T.action}}</th></tr></thead><tbody>
{{range .Given}}<tr id="d-{{.ID}}"><td>{{.Person}}</td><td>{{.Kind}}</td><td>{{.Start}}</td><td>{{.End}}</td><td>{{.Status}}</td><td>{{if .Revocable}}<form class="d-inline" method="post" action="/deleghe/revoke"><input type="hidden" name="csrf" value="{{$.Data.CSRF}}"><input type="hidden" name="id" value="{{.ID}}"><button type="submit" class="btn btn-outline-primary btn-sm">{{$.Data.T.revoke}}</button></form>{{else}}{{.Note}}{{end}}</td></tr>
{{end}}</tbody></table></div>{{else}}<p>{{.T.none}}</p>{{end}}
<h2 class="h3 mt-5" id="received-title">{{.T.received}}</h2>
{{if .Recv}}<div class="table-responsive" tabindex="0" role="region" aria-labelledby="received-title"><table id="received" class="table" aria-labelledby="received-title">
<thead><tr><th scope="col">{{.T.person}}</th><th scope="col">{{.T.kind}}</th><th scope="col">{{.T.start}}</th><th scope="col">{{.T.end}}</th><th scope="col">{{.T.status}}</th></tr></thead><tbody>
{{range .Recv}}<tr id="d-{{.ID}}"><td>{{.Person}}</td><td>{{.Kind}}</td><td>{{.Start}}</td><td>{{.End}}</td><td>{{.Status}}</td></tr>
{{end}}</tbody></table></div>{{else}}<p>{{.T.none}}</p>{{end}}
<h2 class="h3 mt-5">{{.T.register}}</h2>
<p>{{.T.note}}</p>
<form class="sp-form" method="post" action="/deleghe/register" novalidate><input type="hidden" name="csrf" value="{{.CSRF}}">
{{$err := .Error}}{{range .Fields}}{{template "field" (fieldOf $ . $err)}}{{end}}
<button type="submit" class="btn btn-primary">{{.T.submit}}</button></form>{{end}}
{{end}}
{{end}}`))

// render writes the page; for a session it fills in the lists.
func (w *Web) render(rw http.ResponseWriter, r *http.Request, v *view) {
	v.Lang = w.lang(r)
	t := func(k string) string { return text(v.Lang, k, nil) }
	v.T = map[string]string{"title": t("title"), "intro": t("intro"), "given": t("given.title"), "received": t("received.title"),
		"none": t("none"), "person": t("col.person"), "kind": t("col.kind"), "start": t("col.start"), "end": t("col.end"),
		"status": t("col.status"), "action": t("col.action"), "revoke": t("revoke.submit"), "register": t("register.title"),
		"note": t("register.note"), "fiscal_code": t("field.fiscal_code"), "given_name": t("field.given_name"),
		"family_name": t("field.family_name"), "email": t("field.email"), "end_field": t("field.end"), "submit": t("register.submit"),
		"login": t("login")}
	if v.Authenticated {
		v.CSRF = w.deps.CSRF.Token(r)
		v.Fields = w.formFields(v)
	}
	if v.Error != "" {
		v.Ref = rw.Header().Get("X-Request-Id") // the broker's request id, also in its log line
	}
	status := v.Status
	if status == 0 {
		status = http.StatusOK
	}
	p := pages.NewPage(r, v.Lang, "", v.T["title"], v)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		p.SwitchURL = "" // answering a POST: a switch link would not repeat it
	}
	if err := pages.Render(rw, status, pageTemplate, p); err != nil {
		w.log.Error("delegation: render", "err", err)
		http.Error(rw, "internal error", http.StatusInternalServerError)
	}
}

// full renders the page of the person id with the lists.
func (w *Web) full(rw http.ResponseWriter, r *http.Request, id *providers.Identity, v *view) {
	lang := w.lang(r)
	v.Authenticated = true
	name := strings.TrimSpace(id.GivenName + " " + id.FamilyName)
	v.Who = text(lang, "whoami", map[string]string{"name": name, "cf": id.FiscalNumber})
	given, err := w.reg.Given(r.Context(), id.FiscalNumber)
	if err == nil {
		var recv []Delegation
		recv, err = w.reg.Received(r.Context(), id.FiscalNumber)
		for i := len(given) - 1; i >= 0; i-- { // newest first
			v.Given = append(v.Given, w.row(r, given[i], given[i].Delegate, id.FiscalNumber, true))
		}
		for i := len(recv) - 1; i >= 0; i-- {
			v.Recv = append(v.Recv, w.row(r, recv[i], recv[i].Delegator, id.FiscalNumber, false))
		}
	}
	if err != nil {
		w.log.ErrorContext(r.Context(), "delegation: list", "err", err)
		v.Error, v.Status = text(lang, "err.unavailable", nil), http.StatusServiceUnavailable
	}
	w.render(rw, r, v)
}

// day shows a day as gg/mm/aaaa, Italian time.
func (w *Web) day(t time.Time) string { return web.FormatDate(t.In(w.deps.Location)) }

func (w *Web) row(r *http.Request, d Delegation, other Person, me string, given bool) row {
	lang := w.lang(r)
	now := w.reg.Now()
	out := row{ID: d.ID, Person: other.Name() + " (" + other.FiscalCode + ")", Kind: text(lang, "kind."+string(d.Kind), nil),
		Start: w.day(d.Start), End: text(lang, "no_end", nil), Status: text(lang, "status."+d.Status(now), nil)}
	if !d.End.IsZero() {
		out.End = w.day(d.End.Add(-time.Nanosecond)) // the last day of validity
	}
	if d.Kind.Legal() {
		out.Kind += " – " + string(d.Role)
	}
	if !given || !d.ActiveAt(now) {
		return out
	}
	switch err := w.reg.CanRevokeOnline(r.Context(), &d, me); {
	case err == nil:
		out.Revocable = true
	case errors.Is(err, ErrRevokeWindow):
		out.Note = text(lang, "revoke.window", map[string]string{"date": w.day(d.Start.Add(RevokeWindow))})
	default:
		out.Note = text(lang, "revoke.protected", nil)
	}
	return out
}

func (w *Web) index(rw http.ResponseWriter, r *http.Request, id *providers.Identity) {
	if r.URL.Path != "/deleghe/" {
		w.notFound(rw, r)
		return
	}
	if r.Method == http.MethodPost {
		w.methodNotAllowed(rw, r, http.MethodGet)
		return
	}
	w.full(rw, r, id, &view{})
}

// parseEnd reads the last day of validity (gg/mm/aaaa, or aaaa-mm-gg; Italian time): the
// delegation ends at the following midnight.
func (w *Web) parseEnd(s string) (time.Time, error) {
	if s = strings.TrimSpace(s); s == "" {
		return time.Time{}, nil
	}
	d, err := web.ParseDate(s)
	if err != nil {
		return time.Time{}, err
	}
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, w.deps.Location).AddDate(0, 0, 1), nil
}

func (w *Web) register(rw http.ResponseWriter, r *http.Request, id *providers.Identity) {
	lang := w.lang(r)
	if r.Method != http.MethodPost {
		http.Redirect(rw, r, "/deleghe/", http.StatusSeeOther)
		return
	}
	form := map[string]string{}
	for _, k := range []string{"fiscal_code", "given_name", "family_name", "email", "end"} {
		form[k] = strings.TrimSpace(r.PostFormValue(k))
	}
	v := &view{Form: form}
	end, ok := w.checkForm(r, v)
	if !ok {
		v.Error, v.Status = text(lang, "err.fields", nil), http.StatusBadRequest
		w.full(rw, r, id, v)
		return
	}
	d, err := w.reg.Register(r.Context(), Request{Kind: KindOnline, End: end,
		Delegator: Person{FiscalCode: id.FiscalNumber, GivenName: id.GivenName, FamilyName: id.FamilyName, Email: id.Email},
		Delegate:  Person{FiscalCode: form["fiscal_code"], GivenName: form["given_name"], FamilyName: form["family_name"], Email: form["email"]}})
	if err != nil {
		v.Error, v.Status = w.errorText(r, err)
		if f := errorField(err); f != "" {
			v.fieldError(f, v.Error)
			v.Error = text(lang, "err.fields", nil)
		}
		w.full(rw, r, id, v)
		return
	}
	w.full(rw, r, id, &view{Notice: text(lang, "register.done", map[string]string{"name": d.Delegate.Name()})})
}

func (w *Web) revoke(rw http.ResponseWriter, r *http.Request, id *providers.Identity) {
	if r.Method != http.MethodPost {
		http.Redirect(rw, r, "/deleghe/", http.StatusSeeOther)
		return
	}
	if err := w.reg.Revoke(r.Context(), r.PostFormValue("id"), Online(id.FiscalNumber)); err != nil {
		v := &view{}
		v.Error, v.Status = w.errorText(r, err)
		w.full(rw, r, id, v)
		return
	}
	w.full(rw, r, id, &view{Notice: text(w.lang(r), "revoke.done", nil)})
}

// errorText explains err to the person with a status; unexpected causes go to the log only.
func (w *Web) errorText(r *http.Request, err error) (string, int) {
	key, status := "err.unavailable", http.StatusServiceUnavailable
	switch {
	case errors.Is(err, fiscalcode.ErrInvalid):
		key, status = "err.cf", http.StatusBadRequest
	case errors.Is(err, ErrInvalid):
		key, status = "err.end", http.StatusBadRequest
	case errors.Is(err, ErrSelfDelegation):
		key, status = "err.self", http.StatusBadRequest
	case errors.Is(err, ErrLimitDelegator):
		key, status = "err.delegator", http.StatusConflict
	case errors.Is(err, ErrLimitDelegate):
		key, status = "err.delegate", http.StatusConflict
	case errors.Is(err, ErrDuplicate):
		key, status = "err.duplicate", http.StatusConflict
	case errors.Is(err, ErrRevokeWindow):
		key, status = "err.window", http.StatusForbidden
	case errors.Is(err, ErrProtectedPerson):
		key, status = "err.protected", http.StatusForbidden
	case errors.Is(err, ErrForbidden):
		key, status = "err.forbidden", http.StatusForbidden
	case errors.Is(err, ErrNotFound):
		key, status = "err.not_found", http.StatusNotFound
	case errors.Is(err, ErrNotActive):
		key, status = "err.inactive", http.StatusConflict
	case errors.Is(err, providers.ErrUnavailable):
		w.log.WarnContext(r.Context(), "delegation: store unavailable", "err", err)
	default:
		w.log.ErrorContext(r.Context(), "delegation: unexpected error", "err", err)
	}
	return text(w.lang(r), key, nil), status
}
