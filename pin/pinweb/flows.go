package pinweb

import (
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/pin"
	"github.com/inps/sportello/providers"
)

func (w *Web) t(r *http.Request, key string) string { return text(w.lang(r), key, nil) }

// retryOverloaded is the Retry-After of a full verification budget (pin.ErrOverloaded): a
// slot frees within a hash's time. A store outage waits store.OutageRetryAfter (a failover).
const retryOverloaded = "2"

// unavailable makes v the answer to err when err says the service is unavailable (the store
// down, the verification budget full): 503 with Retry-After, so a person reads "try again
// shortly" and a client knows when. It reports whether it did.
func unavailable(rw http.ResponseWriter, v *view, err error) bool {
	if !errors.Is(err, providers.ErrUnavailable) {
		return false
	}
	v.Status = http.StatusServiceUnavailable
	retry := strconv.Itoa(int(store.OutageRetryAfter / time.Second))
	if errors.Is(err, pin.ErrOverloaded) {
		retry = retryOverloaded
	}
	rw.Header().Set("Retry-After", retry)
	return true
}

func (w *Web) fields(r *http.Request, names ...string) []field {
	out := make([]field, 0, len(names))
	for _, n := range names {
		f := field{Name: n, Label: w.t(r, "field."+n), Type: "text"}
		switch n {
		case "pin", "current_pin", "new_pin", "new_pin2":
			f.Type = "password"
		case "resident_abroad", "italian_id_document":
			f.Type = "checkbox"
			f.Checked = r.PostFormValue(n) != ""
		case "document":
			f.Type = "file"
		case "email", "pec":
			f.Type = "email"
		case "mobile":
			f.Type = "tel"
		}
		if f.Type != "password" && f.Type != "file" {
			f.Value = r.FormValue(n)
		}
		out = append(out, f)
	}
	return out
}

// links are the other PIN services. They carry no language: a language the person chose is
// remembered by the broker, and the pending login's ui_locales is for that login only.
func (w *Web) links(r *http.Request) []link {
	return []link{
		{"/pin/request", w.t(r, "request.title")},
		{"/pin/activate", w.t(r, "activate.title")},
		{"/pin/first-access", w.t(r, "first.title")},
		{"/pin/lost", w.t(r, "lost.title")},
		{"/pin/revoke", w.t(r, "revoke.title")},
		{"/pin/convert", w.t(r, "convert.title")},
		{"/pin/phone", w.t(r, "phone.title")},
	}
}

func (w *Web) index(_ providers.Finisher, rw http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/pin/" {
		// A page people understand, with the PIN pages that do exist, never a bare 404.
		w.render(rw, r, &view{Title: w.t(r, "pin.name"), Error: w.t(r, "err.page_not_found"), Links: w.links(r), Status: http.StatusNotFound})
		return
	}
	w.render(rw, r, &view{Title: w.t(r, "pin.name"), Intro: w.t(r, "pin.description"), Links: w.links(r)})
}

// loginForm is the PIN login form of the pending login id.
func (w *Web) loginForm(r *http.Request, loginID, errText string) *view {
	v := &view{Title: w.t(r, "login.title"), Intro: w.t(r, "login.intro"), Error: errText, Action: "/pin/login",
		Fields: w.fields(r, "fiscal_code", "pin"), Hidden: map[string]string{"login": loginID},
		Submit: w.t(r, "login.submit"), Links: w.links(r)}
	if w.deps.ChooserURL != nil {
		// The way back to the other credentials of the same login.
		v.Links = append([]link{{w.deps.ChooserURL(loginID), w.t(r, "login.other_credential")}}, v.Links...)
	}
	return v
}

// login is the PIN login of a pending authorisation: on success the broker's Finisher takes
// over; a first access or an expired PIN leads to the form choosing the new PIN.
func (w *Web) login(f providers.Finisher, rw http.ResponseWriter, r *http.Request) {
	loginID := r.FormValue("login")
	if _, err := f.LoginRequest(r.Context(), loginID); loginID == "" || err != nil {
		v := &view{Title: w.t(r, "login.title"), Error: w.t(r, "err.login_expired"), Status: http.StatusBadRequest}
		if unavailable(rw, v, err) {
			// The store could not say whether the login is there: not "expired".
			w.log.WarnContext(r.Context(), "pin login: pending login unreadable", "request_id", refOf(r), "err", err)
			v.Error = w.t(r, "err.unavailable")
		}
		w.render(rw, r, v)
		return
	}
	if r.Method != http.MethodPost {
		w.render(rw, r, w.loginForm(r, loginID, ""))
		return
	}
	v := w.loginForm(r, loginID, "")
	if !w.validate(r, v) {
		v.Status = http.StatusBadRequest
		w.render(rw, r, v)
		return
	}
	id, err := w.svc.Authenticate(r.Context(), r.PostFormValue("fiscal_code"), r.PostFormValue("pin"))
	if err != nil {
		// The form answers the refusal; the broker counts and audits it like any failed login.
		if rec, ok := f.(providers.FailureRecorder); ok {
			rec.RecordFailure(r, loginID, providers.Attempt(providers.MethodPIN, err))
		}
	}
	switch {
	case err == nil:
		f.Finish(rw, r, loginID, id)
	case errors.Is(err, pin.ErrFirstAccess):
		w.render(rw, r, w.changeForm(r, "/pin/first-access", "first", loginID, ""))
	case errors.Is(err, pin.ErrExpired):
		w.render(rw, r, w.changeForm(r, "/pin/renew", "renew", loginID, ""))
	default:
		w.log.InfoContext(r.Context(), "pin login refused", "err", err)
		w.explain(r, v, err)
		unavailable(rw, v, err)
		w.render(rw, r, v)
	}
}

// explain shows err on the form v: a PIN rule or a refused document at its field, anything
// else as the form's error, naming the fields it is about (the credential's, for a wrong
// fiscal code and PIN pair).
func (w *Web) explain(r *http.Request, v *view, err error) {
	msg := w.errorText(r, err)
	var rule *pin.RuleError
	var wrong *pin.WrongPINError
	var locked *providers.LockedError
	switch {
	case errors.As(err, &rule):
		v.fieldError("new_pin", msg)
		v.Error = w.t(r, "err.fields")
		return
	case errors.Is(err, pin.ErrDocument):
		v.fieldError("document", msg)
		v.Error = w.t(r, "err.fields")
		return
	}
	v.Error = msg
	var about []string
	switch {
	case errors.As(err, &wrong), errors.As(err, &locked), errors.Is(err, providers.ErrBadCredentials), errors.Is(err, pin.ErrInvalidInput):
		about = []string{"fiscal_code", "pin", "current_pin", "hc_number", "hc_expiry"}
	case errors.Is(err, pin.ErrHasPIN):
		about = []string{"fiscal_code"}
	case errors.Is(err, pin.ErrNotEligible):
		about = []string{"resident_abroad", "italian_id_document"}
	}
	for _, f := range v.Fields {
		if slices.Contains(about, f.Name) {
			v.ErrorFields = append(v.ErrorFields, f.Name)
		}
	}
}

func (w *Web) changeForm(r *http.Request, action, kind, loginID, errText string) *view {
	return &view{Title: w.t(r, kind+".title"), Intro: w.t(r, kind+".intro"), List: w.pinRules(r), Error: errText,
		Action: action, Fields: w.fields(r, "fiscal_code", "current_pin", "new_pin", "new_pin2"),
		Hidden: map[string]string{"login": loginID}, Submit: w.t(r, "change.submit")}
}

// pinRules are the rules of pin.CheckNewPIN and of the PIN history, shown before the person
// types a new PIN.
func (w *Web) pinRules(r *http.Request) []string {
	n := map[string]string{"n": strconv.Itoa(w.svc.Config().PINHistory)}
	var out []string
	for _, k := range []string{"rule.length", "rule.repeated", "rule.sequence", "rule.fiscal_code", "rule.personal", "rule.recent"} {
		out = append(out, text(w.lang(r), k, n))
	}
	return out
}

// change sets the holder's PIN: first access, guided renewal, or a voluntary change.
func (w *Web) change(f providers.Finisher, rw http.ResponseWriter, r *http.Request) {
	kind := "first"
	if r.URL.Path == "/pin/renew" {
		kind = "renew"
	}
	loginID := r.FormValue("login")
	if r.Method != http.MethodPost {
		w.render(rw, r, w.changeForm(r, r.URL.Path, kind, loginID, ""))
		return
	}
	v := w.changeForm(r, r.URL.Path, kind, loginID, "")
	if !w.validate(r, v) {
		v.Status = http.StatusBadRequest
		w.render(rw, r, v)
		return
	}
	next := r.PostFormValue("new_pin")
	if !strings.EqualFold(strings.TrimSpace(next), strings.TrimSpace(r.PostFormValue("new_pin2"))) {
		v.fieldError("new_pin2", w.t(r, "err.rule.mismatch"))
		v.Error, v.Status = w.t(r, "err.fields"), http.StatusBadRequest
		w.render(rw, r, v)
		return
	}
	// The form token is the broker's per-browser token: it names the browser, so that the
	// same form sent again after a lost answer is recognised (pin.Service.Change).
	id, err := w.svc.Change(r.Context(), pin.ChangeRequest{FiscalCode: r.PostFormValue("fiscal_code"),
		Current: r.PostFormValue("current_pin"), Next: next, Browser: w.deps.CSRF.Token(r)})
	if err != nil {
		w.explain(r, v, err)
		unavailable(rw, v, err)
		w.render(rw, r, v)
		return
	}
	if loginID != "" {
		if _, lerr := f.LoginRequest(r.Context(), loginID); lerr == nil {
			f.Finish(rw, r, loginID, id)
			return
		}
	}
	w.render(rw, r, &view{Title: w.t(r, kind+".title"), Notice: w.t(r, "change.done"), Next: w.signIn(r, ""), Links: w.links(r)})
}

// simple renders a form page whose POST runs do once every field is valid (and check, the
// form's own rule across fields, is met); done is the notice of success. optional lists the
// fields that may be left empty.
func (w *Web) simple(rw http.ResponseWriter, r *http.Request, kind string, names, optional []string, check func(*view), do func() error) {
	v := &view{Title: w.t(r, kind+".title"), Intro: w.t(r, kind+".intro"), Fields: w.fields(r, names...),
		Optional: optional, Submit: w.t(r, kind+".submit"), Links: w.links(r)}
	if r.Method == http.MethodPost {
		ok := w.validate(r, v)
		if ok && check != nil {
			check(v)
			ok = v.Error == ""
		}
		if !ok {
			v.Status = http.StatusBadRequest
		} else if err := do(); err != nil {
			w.explain(r, v, err)
			v.Status = http.StatusBadRequest
			unavailable(rw, v, err)
		} else {
			v = &view{Title: v.Title, Notice: w.t(r, kind+".done"), Links: w.links(r)}
			if kind == "activate" || kind == "request" {
				v.Next = w.signIn(r, "") // no dead end: the next step is signing in
			}
		}
	}
	w.render(rw, r, v)
}

func healthCard(r *http.Request) pin.HealthCard {
	return pin.HealthCard{Number: strings.TrimSpace(r.PostFormValue("hc_number")), Expiry: isoDate(r, "hc_expiry")}
}

func (w *Web) activate(_ providers.Finisher, rw http.ResponseWriter, r *http.Request) {
	w.simple(rw, r, "activate", []string{"fiscal_code", "hc_number", "hc_expiry"}, nil, nil, func() error {
		return w.svc.Activate(r.Context(), r.PostFormValue("fiscal_code"), healthCard(r))
	})
}

func (w *Web) request(_ providers.Finisher, rw http.ResponseWriter, r *http.Request) {
	names := []string{"fiscal_code", "given_name", "family_name", "birthdate", "birth_place", "residence", "country",
		"resident_abroad", "italian_id_document", "mobile", "email", "pec", "hc_number", "hc_expiry"}
	optional := []string{"mobile", "email", "pec", "hc_number", "hc_expiry"}
	// The first half of the PIN goes by SMS or e-mail: one of the two is needed.
	reachable := func(v *view) {
		if strings.TrimSpace(r.PostFormValue("mobile")) == "" && strings.TrimSpace(r.PostFormValue("email")) == "" {
			v.fieldError("mobile", w.t(r, "field_err.mobile_or_email"))
			v.Error = w.t(r, "err.fields")
		}
	}
	w.simple(rw, r, "request", names, optional, reachable, func() error {
		p := pin.Person{FiscalCode: r.PostFormValue("fiscal_code"), GivenName: r.PostFormValue("given_name"),
			FamilyName: r.PostFormValue("family_name"), Birthdate: isoDate(r, "birthdate"),
			BirthPlace: r.PostFormValue("birth_place"), Residence: r.PostFormValue("residence"),
			Country: r.PostFormValue("country"), ResidentAbroad: r.PostFormValue("resident_abroad") != "",
			ItalianIDDocument: r.PostFormValue("italian_id_document") != "",
			Contacts: pin.Contacts{Mobile: r.PostFormValue("mobile"), Email: r.PostFormValue("email"),
				PEC: r.PostFormValue("pec"), Postal: r.PostFormValue("residence")}}
		if hc := healthCard(r); hc.Number != "" {
			p.HealthCard = &hc
		}
		return w.svc.RequestPIN(r.Context(), pin.Request{Person: p, Channel: pin.Online})
	})
}

func (w *Web) lost(_ providers.Finisher, rw http.ResponseWriter, r *http.Request) {
	contacts := []string{"mobile", "email", "pec"}
	// Recovery needs two of the three registered contacts: the form says so before trying.
	twoContacts := func(v *view) {
		var empty []string
		for _, c := range contacts {
			if strings.TrimSpace(r.PostFormValue(c)) == "" {
				empty = append(empty, c)
			}
		}
		if len(empty) > 1 {
			v.Error, v.ErrorFields = w.t(r, "err.two_contacts"), empty
		}
	}
	w.simple(rw, r, "lost", append([]string{"fiscal_code"}, contacts...), contacts, twoContacts, func() error {
		return w.svc.StartRecovery(r.Context(), r.PostFormValue("fiscal_code"),
			pin.Contacts{Mobile: r.PostFormValue("mobile"), Email: r.PostFormValue("email"), PEC: r.PostFormValue("pec")})
	})
}

// recover confirms a recovery link, which carries the recovery code only: a GET shows the
// button (mail scanners follow links) while the code is still good, else says the link is
// spent and offers the procedure again; the POST issues the new PIN.
func (w *Web) recover(_ providers.Finisher, rw http.ResponseWriter, r *http.Request) {
	code := r.FormValue("code")
	spent := &view{Title: w.t(r, "recover.title"), Error: w.t(r, "err.recovery"), Status: http.StatusBadRequest,
		Next: &link{"/pin/lost", w.t(r, "recover.again")}, Links: w.links(r)}
	if r.Method != http.MethodPost {
		ok, err := w.svc.RecoveryPending(r.Context(), code)
		switch {
		case err != nil:
			w.render(rw, r, &view{Title: spent.Title, Error: w.errorText(r, err), Status: http.StatusServiceUnavailable})
		case !ok:
			w.render(rw, r, spent)
		default:
			w.render(rw, r, &view{Title: w.t(r, "recover.title"), Intro: w.t(r, "recover.intro"), Submit: w.t(r, "recover.submit"),
				Hidden: map[string]string{"code": code}})
		}
		return
	}
	if err := w.svc.CompleteRecovery(r.Context(), code); err != nil {
		if !errors.Is(err, pin.ErrRecovery) {
			spent.Error, spent.Next = w.errorText(r, err), nil
			unavailable(rw, spent, err)
		}
		w.render(rw, r, spent)
		return
	}
	w.render(rw, r, &view{Title: spent.Title, Notice: w.t(r, "recover.done"), Next: w.signIn(r, ""), Links: w.links(r)})
}

// signIn is the broker's sign-in coming back to next, nil without one.
func (w *Web) signIn(r *http.Request, next string) *link {
	if w.deps.LoginURL == nil {
		return nil
	}
	key := "signin"
	if next != "" {
		key = "signin.strong"
	}
	return &link{w.deps.LoginURL(next), w.t(r, key)}
}

func (w *Web) revoke(_ providers.Finisher, rw http.ResponseWriter, r *http.Request) {
	w.simple(rw, r, "revoke", []string{"fiscal_code", "hc_number", "hc_expiry"}, nil, nil, func() error {
		return w.svc.RevokeWithHealthCard(r.Context(), r.PostFormValue("fiscal_code"), healthCard(r))
	})
}

// phone generates a PIN telefonico for the person of the broker session (SPID, CIE or CNS).
func (w *Web) phone(_ providers.Finisher, rw http.ResponseWriter, r *http.Request) {
	id, err := w.deps.Session(r)
	if v := (&view{Title: w.t(r, "phone.title"), Error: w.t(r, "err.unavailable")}); unavailable(rw, v, err) {
		w.log.WarnContext(r.Context(), "pin phone: session unreadable", "request_id", refOf(r), "err", err)
		w.render(rw, r, v)
		return
	}
	if err != nil || id == nil || id.Method == providers.MethodPIN {
		w.render(rw, r, &view{Title: w.t(r, "phone.title"), Intro: w.t(r, "phone.intro"), Error: w.t(r, "phone.login"),
			Next: w.signIn(r, "/pin/phone"), Status: http.StatusUnauthorized})
		return
	}
	var opts []option
	for _, v := range []pin.PhoneValidity{pin.OneDay, pin.OneWeek, pin.OneMonth, pin.ThreeMonths} {
		opts = append(opts, option{Value: string(v), Label: w.t(r, "validity."+string(v))})
	}
	v := &view{Title: w.t(r, "phone.title"), Intro: w.t(r, "phone.intro"), Submit: w.t(r, "phone.submit"),
		Fields: []field{{Name: "validity", Label: w.t(r, "field.validity"), Type: "select", Options: opts, Value: string(pin.OneDay)}}}
	if r.Method == http.MethodPost {
		p, until, err := w.svc.GeneratePhonePIN(r.Context(), id, pin.PhoneValidity(r.PostFormValue("validity")))
		if err != nil {
			w.explain(r, v, err)
			unavailable(rw, v, err)
		} else {
			v = &view{Title: v.Title, Notice: text(w.lang(r), "phone.done", map[string]string{
				"pin": p, "until": until.In(w.deps.Location).Format("02/01/2006 15:04")})}
		}
	}
	w.render(rw, r, v)
}

// convert takes the conversion request with its document (multipart upload).
func (w *Web) convert(_ providers.Finisher, rw http.ResponseWriter, r *http.Request) {
	v := &view{Title: w.t(r, "convert.title"), Intro: w.t(r, "convert.intro"), Multipart: true,
		Fields: w.fields(r, "fiscal_code", "pin", "document"), Submit: w.t(r, "convert.submit"), Links: w.links(r)}
	if r.Method == http.MethodPost {
		if !w.validate(r, v) {
			v.Status = http.StatusBadRequest
			w.render(rw, r, v)
			return
		}
		err := func() error {
			file, hdr, err := r.FormFile("document")
			if err != nil {
				return pin.ErrDocument
			}
			defer file.Close()
			doc, err := io.ReadAll(io.LimitReader(file, w.svc.Config().MaxUpload+1))
			if err != nil {
				return pin.ErrDocument
			}
			return w.svc.RequestConversion(r.Context(), r.PostFormValue("fiscal_code"), r.PostFormValue("pin"), hdr.Filename, doc)
		}()
		if err != nil {
			w.explain(r, v, err)
			v.Status = http.StatusBadRequest
			unavailable(rw, v, err)
		} else {
			v = &view{Title: v.Title, Notice: w.t(r, "convert.done"), Links: w.links(r)}
		}
	}
	w.render(rw, r, v)
}
