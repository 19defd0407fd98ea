package pinweb

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/inps/sportello/internal/fiscalcode"
	"github.com/inps/sportello/internal/web"
	"github.com/inps/sportello/pin"
)

// What the pages check before a form reaches the PIN service, so that each mistake is shown
// at its own field (with its own message) instead of one generic error over a form turned red.
// The service checks everything again: these checks only explain.

// fieldCheck returns the catalogue key of what is wrong with a non-empty value, or "".
type fieldCheck func(v string, now time.Time) string

var fieldChecks = map[string]fieldCheck{
	"fiscal_code": checkFiscalCode,
	"pin":         checkPIN,
	"current_pin": checkPIN,
	"birthdate": func(v string, now time.Time) string {
		d, err := web.ParseDate(v)
		switch {
		case err != nil:
			return "field_err.date"
		case !d.Before(now):
			return "field_err.birthdate_future"
		}
		return ""
	},
	"hc_expiry": func(v string, _ time.Time) string {
		if _, err := web.ParseDate(v); err != nil {
			return "field_err.date"
		}
		return ""
	},
	"email":  checkEmail,
	"pec":    checkEmail,
	"mobile": checkMobile,
	"hc_number": func(v string, _ time.Time) string {
		if len(v) != 20 || strings.Trim(v, "0123456789") != "" {
			return "field_err.hc_number"
		}
		return ""
	},
}

func checkFiscalCode(v string, _ time.Time) string {
	_, err := pin.ParseFiscalCode(v)
	switch {
	case err == nil:
		return ""
	case errors.Is(err, fiscalcode.ErrLength) || len(strings.TrimSpace(v)) != 16:
		return "field_err.fiscal_code_length"
	case errors.Is(err, fiscalcode.ErrCheckLetter):
		return "field_err.fiscal_code_check"
	}
	return "field_err.fiscal_code"
}

func checkPIN(v string, _ time.Time) string {
	if _, err := pin.NormalizePIN(v); err != nil {
		return "field_err.pin"
	}
	return ""
}

func checkEmail(v string, _ time.Time) string {
	at := strings.LastIndexByte(v, '@')
	if at < 1 || !strings.Contains(v[at+1:], ".") || strings.ContainsAny(v, " \t<>,;") || len(v) > 254 {
		return "field_err.email"
	}
	return ""
}

func checkMobile(v string, _ time.Time) string {
	digits := 0
	for i, r := range v {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0, r == ' ', r == '-', r == '.', r == '(', r == ')':
		default:
			return "field_err.mobile"
		}
	}
	if digits < 6 || digits > 15 {
		return "field_err.mobile"
	}
	return ""
}

// validate checks the posted values of v's fields: each required field filled, each value
// well formed. It fills v.FieldErrors (and v.Error with the summary's heading) and reports
// whether the form may go on.
func (w *Web) validate(r *http.Request, v *view) bool {
	now := w.svc.Now()
	for _, f := range v.Fields {
		if f.Type == "checkbox" || f.Type == "file" || f.Type == "select" {
			continue
		}
		val := strings.TrimSpace(r.PostFormValue(f.Name))
		if val == "" {
			if !v.optional(f.Name) {
				v.fieldError(f.Name, w.t(r, "field_err.required"))
			}
			continue
		}
		if check := fieldChecks[f.Name]; check != nil {
			if key := check(val, now); key != "" {
				v.fieldError(f.Name, w.t(r, key))
			}
		}
	}
	if len(v.FieldErrors) > 0 {
		v.Error = w.t(r, "err.fields")
		return false
	}
	return true
}

// fieldError records what is wrong with the field name.
func (v *view) fieldError(name, msg string) {
	if v.FieldErrors == nil {
		v.FieldErrors = map[string]string{}
	}
	if _, seen := v.FieldErrors[name]; !seen {
		v.FieldErrors[name] = msg
	}
}

// optional reports whether the field name may be left empty.
func (v *view) optional(name string) bool {
	for _, o := range v.Optional {
		if o == name {
			return true
		}
	}
	return false
}

// isoDate is a posted day (gg/mm/aaaa, validated before) as the service stores it; a value
// that does not parse is passed on as typed, for the service to refuse.
func isoDate(r *http.Request, name string) string {
	v := strings.TrimSpace(r.PostFormValue(name))
	if d, err := web.ISODate(v); err == nil {
		return d
	}
	return v
}
