package delegation

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/inps/sportello/internal/fiscalcode"
	"github.com/inps/sportello/internal/web"
)

// formFields is the registration form of v: what was typed is kept, each field carries its
// own error, the delegate's fiscal code and names are required, e-mail and end date optional.
func (w *Web) formFields(v *view) []web.Field {
	t := func(k string) string { return text(v.Lang, k, nil) }
	fields := []web.Field{
		{Name: "fiscal_code", Label: t("field.fiscal_code"), Type: "text", Autocomplete: "off", Required: true},
		{Name: "given_name", Label: t("field.given_name"), Type: "text", Autocomplete: "off", Required: true},
		{Name: "family_name", Label: t("field.family_name"), Type: "text", Autocomplete: "off", Required: true},
		{Name: "email", Label: t("field.email"), Type: "email", Autocomplete: "off", Hint: t("hint.email")},
		{Name: "end", Label: t("field.end"), Type: "text", Autocomplete: "off", Hint: t("hint.end")},
	}
	for i := range fields {
		fields[i].Value = v.Form[fields[i].Name]
		fields[i].Error = v.FieldErrors[fields[i].Name]
	}
	return fields
}

// checkForm checks the posted registration before it reaches the registry, so each mistake
// is shown at its own field; it returns the end of validity (zero: none).
func (w *Web) checkForm(r *http.Request, v *view) (time.Time, bool) {
	lang := w.lang(r)
	for _, k := range []string{"fiscal_code", "given_name", "family_name"} {
		if v.Form[k] == "" {
			v.fieldError(k, text(lang, "err.required", nil))
		}
	}
	if cf := v.Form["fiscal_code"]; cf != "" {
		if _, err := fiscalcode.Parse(cf); err != nil {
			v.fieldError("fiscal_code", text(lang, "err.cf", nil))
		}
	}
	if e := v.Form["email"]; e != "" && (!strings.Contains(e, "@") || strings.ContainsAny(e, " <>,;")) {
		v.fieldError("email", text(lang, "err.email", nil))
	}
	end, err := w.parseEnd(v.Form["end"])
	if err != nil || (!end.IsZero() && !end.After(w.reg.Now())) {
		v.fieldError("end", text(lang, "err.end", nil))
	}
	return end, len(v.FieldErrors) == 0
}

// fieldError records what is wrong with the field name (the first message wins).
func (v *view) fieldError(name, msg string) {
	if v.FieldErrors == nil {
		v.FieldErrors = map[string]string{}
	}
	if _, seen := v.FieldErrors[name]; !seen {
		v.FieldErrors[name] = msg
	}
}

// errorField is the field a registry refusal is about, "" for the form as a whole.
func errorField(err error) string {
	switch {
	case errors.Is(err, fiscalcode.ErrInvalid), errors.Is(err, ErrSelfDelegation), errors.Is(err, ErrLimitDelegate), errors.Is(err, ErrDuplicate):
		return "fiscal_code"
	case errors.Is(err, ErrInvalid):
		return "end"
	}
	return ""
}
