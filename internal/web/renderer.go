package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"sort"
	"strings"
)

//go:embed templates/*.html
var templateFiles embed.FS

// Languages the pages speak; the first is the default.
var Languages = []string{"it", "en"}

// Renderer renders pages in the shared layout and looks up messages in the catalogue
// (key → language → text). It is safe for concurrent use once built.
type Renderer struct {
	msgs   map[string]map[string]string
	layout *template.Template
	pages  map[string]*template.Template
}

// New builds a Renderer over the layout's own messages (Messages) and the catalogues given;
// a later catalogue overrides an earlier one key by key.
func New(catalogues ...map[string]map[string]string) *Renderer {
	r := &Renderer{msgs: Messages(), pages: map[string]*template.Template{}}
	for _, c := range catalogues {
		maps.Copy(r.msgs, c)
	}
	r.layout = template.Must(template.New("layout").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/field.html"))
	for _, name := range []string{"chooser", "error", "message", "postform", "form"} {
		r.pages[name] = template.Must(template.Must(r.layout.Clone()).ParseFS(templateFiles, "templates/"+name+".html"))
	}
	return r
}

var funcs = template.FuncMap{
	"asset": Asset,
	// icon is the URL of an icon of the embedded Bootstrap Italia sprite.
	"icon": func(id string) string { return Asset("svg/sprites.svg") + "#" + id },
	// mark is the URL of one of sportello's own drawings (the SPID and CIE entry marks).
	"mark":       func(id string) string { return Asset("svg/marks.svg") + "#" + id },
	"methodIcon": methodIcon,
	"fieldOf":    fieldOf,
}

// T returns the message key in lang, falling back to Italian and then to the generic error
// text: a person never reads a raw key (the catalogue test makes sure none is missing).
func (r *Renderer) T(lang, key string) string {
	if m, ok := r.msgs[key]; ok {
		if s := m[lang]; s != "" {
			return s
		}
		if s := m["it"]; s != "" {
			return s
		}
	}
	if m := r.msgs["broker.error"]; m != nil && m[lang] != "" {
		return m[lang]
	}
	return key
}

// Keys lists every message key, sorted.
func (r *Renderer) Keys() []string {
	out := make([]string, 0, len(r.msgs))
	for k := range r.msgs {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Messages of the whole catalogue (a copy), for checks.
func (r *Renderer) Catalogue() map[string]map[string]string { return maps.Clone(r.msgs) }

// Layout returns a copy of the layout template: parse a "body" template (and optionally a
// "script" one) into it to make a page.
func (r *Renderer) Layout() *template.Template { return template.Must(r.layout.Clone()) }

// Page returns one of the built-in pages: "chooser" (ChooserData), "error" (ErrorData),
// "message" (MessageData), "postform" (PostFormData), "form" (FormData).
func (r *Renderer) Page(name string) *template.Template {
	t, ok := r.pages[name]
	if !ok {
		panic("ui: no page " + name)
	}
	return t
}

// Page is what the layout shows around a page body.
type Page struct {
	// Lang is the language of the page ("it" or "en"); OtherLang the one the switch offers.
	Lang, OtherLang string
	// Title is the page title (also the h1 of most pages).
	Title string
	// Skip and SwitchLabel are the skip link and language switch texts.
	Skip, SwitchLabel string
	// SwitchURL is the current URL with lang= set to OtherLang: the login in progress is kept.
	SwitchURL string
	// Nonce is the request's CSP nonce (for the one external script tag).
	Nonce string
	// Data is the page body's own data.
	Data any

	r *Renderer
}

// T looks key up in the page's language.
func (p Page) T(key string) string {
	if p.r == nil {
		return key
	}
	return p.r.T(p.Lang, key)
}

// NewPage fills a Page for req in lang: the switch link keeps every query parameter of the
// current URL (the pending login) and sets lang to the other language.
func (r *Renderer) NewPage(req *http.Request, lang, nonce, title string, data any) Page {
	if lang != "en" {
		lang = "it"
	}
	other := "en"
	if lang == "en" {
		other = "it"
	}
	u := *req.URL
	q := u.Query()
	q.Set("lang", other)
	u.RawQuery = q.Encode()
	return Page{Lang: lang, OtherLang: other, Title: title, Skip: r.T(lang, "page.skip"),
		SwitchURL: u.RequestURI(), SwitchLabel: r.T(lang, "page.lang_switch"), Nonce: nonce, Data: data, r: r}
}

// Render executes t with p into a buffer, then writes it with status. Pages are never cached
// (they may carry personal data or a pending login). A template failure is returned before
// anything is written, so the caller can still answer with an error page.
func (r *Renderer) Render(w http.ResponseWriter, status int, t *template.Template, p Page) error {
	if p.r == nil {
		p.r = r
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		return fmt.Errorf("ui: render %s: %w", t.Name(), err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// methodIcon is the sprite icon of a credential's heading; "" for SPID, CIE (card or CIE ID) and eIDAS, whose
// entry buttons carry their own marks.
func methodIcon(method string) string {
	switch method {
	case "spid", "cie", "cieid", "eidas":
		return ""
	case "cns":
		return "it-card"
	case "pin":
		return "it-key"
	}
	return "it-lock"
}

// FieldView is what the "field" template renders: the field, the page (for its texts), the
// ids that describe the field and whether it is marked invalid.
type FieldView struct {
	P           Page
	F           Field
	DescribedBy string
	Invalid     bool
}

// fieldOf prepares f for the "field" template of page p, whose form shows formError (or not).
// The field is described by its hint, its own error and, when the form's error is about it,
// that error (WCAG 3.3.1: the error is announced with the field); it is invalid when it has
// an error of its own or the form's error names it.
func fieldOf(p Page, f Field, formError string) FieldView {
	var ids []string
	if f.Hint != "" {
		ids = append(ids, "f-"+f.Name+"-hint")
	}
	if f.Error != "" {
		ids = append(ids, "f-"+f.Name+"-error")
	}
	formAboutIt := formError != "" && f.Invalid
	if formAboutIt {
		ids = append(ids, "form-error")
	}
	return FieldView{P: p, F: f, DescribedBy: strings.Join(ids, " "), Invalid: f.Error != "" || formAboutIt}
}

// WritePostForm writes the auto-submitting form of a SAML HTTP-POST binding in the layout:
// the external script /static/…/js/autosubmit.js submits it (allowed by script-src 'self',
// no inline handler), and the button stays visible for browsers without JavaScript.
func (r *Renderer) WritePostForm(w http.ResponseWriter, req *http.Request, lang, action string, fields map[string]string) error {
	p := r.NewPage(req, lang, "", r.T(lang, "postform.title"), PostFormData{Action: action, Fields: fields})
	p.SwitchURL = "" // a language switch would replay the request
	return r.Render(w, http.StatusOK, r.Page("postform"), p)
}
