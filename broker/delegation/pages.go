package delegation

import (
	"errors"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/fiscalcode"
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
	Lang, Other   string
	T             map[string]string
	Who           string
	Error, Notice string
	Given, Recv   []row
	Form          map[string]string
	CSRF          string
	Status        int
	Authenticated bool
}

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.T.title}}</title>
<style>body{font-family:sans-serif;max-width:50em;margin:1em auto;padding:0 1em;line-height:1.4}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ccc;padding:.3em;text-align:left}
label{display:block;margin-top:.8em}input{display:block;width:100%;padding:.4em;box-sizing:border-box}
.error{border-left:4px solid #b00;padding:.5em;background:#fee}.notice{border-left:4px solid #070;padding:.5em;background:#efe}
button{padding:.4em 1.2em}form.inline{margin:0}</style></head>
<body><p><a href="?lang={{.Other}}" hreflang="{{.Other}}">{{if eq .Other "en"}}English{{else}}Italiano{{end}}</a></p>
<h1>{{.T.title}}</h1>
{{if .Error}}<p class="error" role="alert" id="error">{{.Error}}</p>{{end}}
{{if .Notice}}<p class="notice" role="status" id="notice">{{.Notice}}</p>{{end}}
{{if .Authenticated}}<p>{{.Who}}</p><p>{{.T.intro}}</p>
<h2>{{.T.given}}</h2>
{{if .Given}}<table id="given"><tr><th>{{.T.person}}</th><th>{{.T.kind}}</th><th>{{.T.start}}</th><th>{{.T.end}}</th><th>{{.T.status}}</th><th>{{.T.action}}</th></tr>
{{range .Given}}<tr id="d-{{.ID}}"><td>{{.Person}}</td><td>{{.Kind}}</td><td>{{.Start}}</td><td>{{.End}}</td><td>{{.Status}}</td><td>{{if .Revocable}}<form class="inline" method="post" action="/deleghe/revoke"><input type="hidden" name="csrf" value="{{$.CSRF}}"><input type="hidden" name="id" value="{{.ID}}"><button type="submit">{{$.T.revoke}}</button></form>{{else}}{{.Note}}{{end}}</td></tr>
{{end}}</table>{{else}}<p>{{.T.none}}</p>{{end}}
<h2>{{.T.received}}</h2>
{{if .Recv}}<table id="received"><tr><th>{{.T.person}}</th><th>{{.T.kind}}</th><th>{{.T.start}}</th><th>{{.T.end}}</th><th>{{.T.status}}</th></tr>
{{range .Recv}}<tr id="d-{{.ID}}"><td>{{.Person}}</td><td>{{.Kind}}</td><td>{{.Start}}</td><td>{{.End}}</td><td>{{.Status}}</td></tr>
{{end}}</table>{{else}}<p>{{.T.none}}</p>{{end}}
<h2>{{.T.register}}</h2>
<p>{{.T.note}}</p>
<form method="post" action="/deleghe/register"><input type="hidden" name="csrf" value="{{.CSRF}}">
<label for="fiscal_code">{{.T.fiscal_code}}</label><input id="fiscal_code" name="fiscal_code" required maxlength="16" value="{{.Form.fiscal_code}}">
<label for="given_name">{{.T.given_name}}</label><input id="given_name" name="given_name" value="{{.Form.given_name}}">
<label for="family_name">{{.T.family_name}}</label><input id="family_name" name="family_name" value="{{.Form.family_name}}">
<label for="email">{{.T.email}}</label><input id="email" name="email" type="email" value="{{.Form.email}}">
<label for="end">{{.T.end_field}}</label><input id="end" name="end" type="date" value="{{.Form.end}}">
<p><button type="submit">{{.T.submit}}</button></p></form>{{end}}
</body></html>`))

// render writes the page; for a session it fills in the lists.
func (w *Web) render(rw http.ResponseWriter, r *http.Request, v *view) {
	v.Lang = w.lang(r)
	v.Other = "en"
	if v.Lang == "en" {
		v.Other = "it"
	}
	t := func(k string) string { return text(v.Lang, k, nil) }
	v.T = map[string]string{"title": t("title"), "intro": t("intro"), "given": t("given.title"), "received": t("received.title"),
		"none": t("none"), "person": t("col.person"), "kind": t("col.kind"), "start": t("col.start"), "end": t("col.end"),
		"status": t("col.status"), "action": t("col.action"), "revoke": t("revoke.submit"), "register": t("register.title"),
		"note": t("register.note"), "fiscal_code": t("field.fiscal_code"), "given_name": t("field.given_name"),
		"family_name": t("field.family_name"), "email": t("field.email"), "end_field": t("field.end"), "submit": t("register.submit")}
	if v.Authenticated {
		v.CSRF = w.deps.CSRF.Token(r)
	}
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	if v.Status != 0 {
		rw.WriteHeader(v.Status)
	}
	if err := pageTemplate.Execute(rw, v); err != nil {
		w.log.Error("delegation: render", "err", err)
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

func (w *Web) day(t time.Time) string { return t.In(w.deps.Location).Format("2006-01-02") }

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
		http.NotFound(rw, r)
		return
	}
	if r.Method == http.MethodPost {
		rw.Header().Set("Allow", "GET")
		http.Error(rw, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.full(rw, r, id, &view{})
}

// parseEnd reads the last day of validity (YYYY-MM-DD, Italian time): the delegation ends at
// the following midnight.
func (w *Web) parseEnd(s string) (time.Time, error) {
	if s = strings.TrimSpace(s); s == "" {
		return time.Time{}, nil
	}
	d, err := time.ParseInLocation("2006-01-02", s, w.deps.Location)
	if err != nil {
		return time.Time{}, err
	}
	return d.AddDate(0, 0, 1), nil
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
	end, err := w.parseEnd(form["end"])
	if err != nil {
		v.Error, v.Status = text(lang, "err.end", nil), http.StatusBadRequest
		w.full(rw, r, id, v)
		return
	}
	d, err := w.reg.Register(r.Context(), Request{Kind: KindOnline, End: end,
		Delegator: Person{FiscalCode: id.FiscalNumber, GivenName: id.GivenName, FamilyName: id.FamilyName, Email: id.Email},
		Delegate:  Person{FiscalCode: form["fiscal_code"], GivenName: form["given_name"], FamilyName: form["family_name"], Email: form["email"]}})
	if err != nil {
		v.Error, v.Status = w.errorText(r, err)
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
	default:
		w.log.ErrorContext(r.Context(), "delegation: unexpected error", "err", err)
	}
	return text(w.lang(r), key, nil), status
}
