package pinweb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/inps/sportello/internal/web"
	"github.com/inps/sportello/pin"
	"github.com/inps/sportello/providers"
)

// field is one input of a form.
type field struct {
	Name, Label, Type, Value string
	Options                  []option
	Checked                  bool
}

type option struct{ Value, Label string }

type link struct{ Href, Label string }

// view is what one page shows: a form, an outcome, or both.
type view struct {
	Lang, Title, Intro string
	// List follows Intro (the rules of a new PIN).
	List          []string
	Error, Notice string
	// FieldErrors are the messages shown at each field (validate, explain).
	FieldErrors map[string]string
	// ErrorFields are the fields the form's Error is about (a wrong fiscal code and PIN).
	ErrorFields []string
	// Optional fields may be left empty; every other field but a checkbox is required.
	Optional  []string
	Action    string
	Multipart bool
	Fields    []field
	Hidden    map[string]string
	Submit    string
	// Next is the step the page leads to (a sign-in), shown as its main button.
	Next   *link
	Links  []link
	Status int
}

// pages renders in the broker's shared layout (Bootstrap Italia, internal/web) with this
// package's catalogue.
var pages = web.New(Messages())

// autocomplete tokens of the fields (WCAG 1.3.5: the browser may fill in the person's own data).
var autocomplete = map[string]string{
	"given_name": "given-name", "family_name": "family-name", "birthdate": "bday", "residence": "street-address",
	"country": "country-name", "email": "email", "pec": "email", "mobile": "tel",
	"pin": "off", "current_pin": "off", "new_pin": "new-password", "new_pin2": "new-password",
}

// inputMode picks the on-screen keyboard of the fields made of digits.
var inputMode = map[string]string{"hc_number": "numeric"}

// render writes a page.
func (w *Web) render(rw http.ResponseWriter, r *http.Request, v *view) {
	v.Lang = w.lang(r)
	if v.Hidden == nil {
		v.Hidden = map[string]string{}
	}
	if v.Submit != "" {
		v.Hidden["csrf"] = w.deps.CSRF.Token(r)
	}
	if v.Action == "" {
		v.Action = r.URL.Path
	}
	// A language chosen with the switch travels with the form (the handlers read ?lang=).
	if l := r.URL.Query().Get("lang"); l == "it" || l == "en" {
		v.Action += "?" + url.Values{"lang": {l}}.Encode()
	}
	var ref string
	if v.Error != "" {
		ref = refOf(r)
	}
	data := web.FormData{Intro: v.Intro, List: v.List, Error: v.Error, Ref: ref, Notice: v.Notice, Action: v.Action, Multipart: v.Multipart,
		Hidden: v.Hidden, Submit: v.Submit, LinksLabel: text(v.Lang, "form.links", nil)}
	for _, f := range v.Fields {
		uf := web.Field{Name: f.Name, Label: f.Label, Type: f.Type, Value: f.Value, Checked: f.Checked,
			Autocomplete: autocomplete[f.Name], InputMode: inputMode[f.Name], Error: v.FieldErrors[f.Name],
			Required: f.Type != "checkbox" && !v.optional(f.Name), Invalid: slices.Contains(v.ErrorFields, f.Name)}
		if h, ok := catalogue["hint."+f.Name]; ok {
			uf.Hint = h[0]
			if v.Lang == "en" {
				uf.Hint = h[1]
			}
		}
		for _, o := range f.Options {
			uf.Options = append(uf.Options, web.Option{Value: o.Value, Label: o.Label})
		}
		data.Fields = append(data.Fields, uf)
	}
	for _, l := range v.Links {
		data.Links = append(data.Links, web.Link{Href: l.Href, Label: l.Label})
	}
	if v.Next != nil {
		data.Next = &web.Link{Href: v.Next.Href, Label: v.Next.Label}
	}
	// The switch keeps the pending login even on a page answering a POST.
	sw := *r
	u := *r.URL
	if login := v.Hidden["login"]; login != "" {
		q := u.Query()
		q.Set("login", login)
		u.RawQuery = q.Encode()
	}
	sw.URL = &u
	status := v.Status
	if status == 0 {
		status = http.StatusOK
	}
	p := pages.NewPage(&sw, v.Lang, "", v.Title, data)
	if err := pages.Render(rw, status, pages.Page("form"), p); err != nil {
		w.log.Error("pinweb: render", "err", err)
		http.Error(rw, "internal error", http.StatusInternalServerError)
	}
}

// page wraps a page handler: methods, security headers, upload limits and the CSRF check of
// every POST.
func (w *Web) page(f providers.Finisher, h func(providers.Finisher, http.ResponseWriter, *http.Request)) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		hdr := rw.Header()
		// The broker's middleware names every request; an error shown on the page carries that
		// reference, and the log line with the cause carries it too.
		ref := hdr.Get("X-Request-Id")
		if ref == "" {
			ref = newRef()
		}
		r = r.WithContext(context.WithValue(r.Context(), ctxRef{}, ref))
		hdr.Set("Cache-Control", "no-store")
		hdr.Set("X-Frame-Options", "DENY")
		hdr.Set("Referrer-Policy", "no-referrer")
		// Inside the broker its own policy (with the request's nonce) is already set; standing
		// alone, the pages get a strict one. Never 'unsafe-inline'.
		if hdr.Get("Content-Security-Policy") == "" {
			hdr.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		}
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			r = w.withLang(r)
		case http.MethodPost:
			limit := int64(64 << 10)
			if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
				limit += w.svc.Config().MaxUpload
			}
			r.Body = http.MaxBytesReader(rw, r.Body, limit)
			var err error
			if limit > 64<<10 {
				err = r.ParseMultipartForm(limit) //nolint:gosec // the body is bounded by http.MaxBytesReader just above
			} else {
				err = r.ParseForm()
			}
			if err != nil {
				key := "err.invalid_input"
				var mbe *http.MaxBytesError
				if errors.As(err, &mbe) {
					key = "err.document"
				}
				w.render(rw, r, &view{Title: text(w.lang(r), "pin.name", nil), Error: text(w.lang(r), key, nil), Status: http.StatusBadRequest})
				return
			}
			r = w.withLang(r) // after parsing: the form names the pending login
			if !w.deps.CSRF.Check(r) {
				w.render(rw, r, &view{Title: text(w.lang(r), "pin.name", nil), Error: text(w.lang(r), "err.csrf", nil), Status: http.StatusForbidden})
				return
			}
		default:
			if err := pages.WriteMethodNotAllowed(rw, r, w.lang(r), "", ref, http.MethodGet, http.MethodPost); err != nil {
				w.log.Error("pinweb: render", "err", err)
			}
			return
		}
		h(f, rw, r)
	}
}

// errorText explains err to the person; the cause goes to the log.
func (w *Web) errorText(r *http.Request, err error) string {
	lang := w.lang(r)
	var activation *pin.ActivationError
	var wrong *pin.WrongPINError
	var locked *providers.LockedError
	var rule *pin.RuleError
	key, args := "err.unavailable", map[string]string(nil)
	switch {
	case errors.As(err, &activation):
		key, args = "err.activation_failed", w.lockArgs(lang, activation.Until)
	case errors.As(err, &wrong):
		key, args = "err.wrong_pin", w.lockArgs(lang, wrong.Until)
	case errors.As(err, &locked):
		key, args = "err.locked", w.lockArgs(lang, locked.Until)
	case errors.As(err, &rule):
		key, args = "err.rule."+rule.Rule, map[string]string{"n": strconv.Itoa(w.svc.Config().PINHistory)}
	case errors.Is(err, pin.ErrBusy):
		key = "err.busy"
	case errors.Is(err, pin.ErrInvalidInput):
		key = "err.invalid_input"
	case errors.Is(err, pin.ErrActivationExpired):
		key = "err.activation_expired"
	case errors.Is(err, pin.ErrNotActive):
		key = "err.not_active"
	case errors.Is(err, pin.ErrRevoked):
		key = "err.revoked"
	case errors.Is(err, pin.ErrLoginDisabled):
		key = "err.disabled"
	case errors.Is(err, pin.ErrNotEligible):
		key = "err.not_eligible"
	case errors.Is(err, pin.ErrHasPIN):
		key = "err.has_pin"
	case errors.Is(err, pin.ErrDocument):
		key = "err.document"
	case errors.Is(err, pin.ErrBadState), errors.Is(err, pin.ErrNoPIN):
		key = "err.bad_state"
	case errors.Is(err, pin.ErrRecovery):
		key = "err.recovery"
	case errors.Is(err, pin.ErrNeedsStrongLogin):
		key = "err.needs_strong_login"
	case errors.Is(err, providers.ErrLoginExpired):
		key = "err.login_expired"
	case errors.Is(err, providers.ErrBadCredentials):
		key = "err.invalid_input"
	default:
		w.log.ErrorContext(r.Context(), "pinweb: unexpected error", "request_id", refOf(r), "err", err)
		return text(lang, key, args)
	}
	// Never a PIN here: the Service's errors carry none (see pin.WrongPINError).
	w.log.InfoContext(r.Context(), "pinweb: refused", "request_id", refOf(r), "message", key, "err", err)
	return text(lang, key, args)
}

// lockArgs says how long a lock lasts, for people who may live in another time zone: the
// minutes left (rounded up), then the end of the lock (rounded up to the minute) in the pages'
// time zone, named with its abbreviation and UTC offset ("CET, UTC+1"). The clock is the
// Service's.
func (w *Web) lockArgs(lang string, until time.Time) map[string]string {
	mins := int((until.Sub(w.svc.Now()) + time.Minute - 1) / time.Minute)
	wait := text(lang, "wait.minutes", map[string]string{"n": strconv.Itoa(mins)})
	if mins <= 1 {
		wait = text(lang, "wait.minute", nil)
	}
	end := until.In(w.deps.Location)
	if rest := end.Sub(end.Truncate(time.Minute)); rest > 0 {
		end = end.Add(time.Minute - rest)
	}
	zone, offset := end.Zone()
	return map[string]string{"wait": wait, "time": end.Format("15:04"), "zone": zone + ", " + utcOffset(offset)}
}

// utcOffset writes an offset east of UTC in seconds as "UTC+1", "UTC-3" or "UTC+5:30".
func utcOffset(sec int) string {
	sign := "+"
	if sec < 0 {
		sign, sec = "-", -sec
	}
	if m := sec % 3600 / 60; m != 0 {
		return fmt.Sprintf("UTC%s%d:%02d", sign, sec/3600, m)
	}
	return fmt.Sprintf("UTC%s%d", sign, sec/3600)
}

type ctxRef struct{}

// refOf is the reference of the request shown with an error.
func refOf(r *http.Request) string {
	s, _ := r.Context().Value(ctxRef{}).(string)
	return s
}

// newRef names a request the broker's middleware did not (pages served stand-alone).
func newRef() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
