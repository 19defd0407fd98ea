package broker

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"time"

	"github.com/inps/sportello/broker/claims"
	"github.com/inps/sportello/broker/grants"
	"github.com/inps/sportello/providers"
)

// Delegations is what the broker asks the delegation registry (internal/delegation, adapted by
// cmd/sportello): which delegators a person may act for, and whether a delegation still holds.
type Delegations interface {
	// ActiveFor lists the delegations in force now whose delegate is fiscalNumber.
	ActiveFor(ctx context.Context, delegateFiscalNumber string) ([]DelegationChoice, error)
	// Active reports whether the delegation id is still in force (not revoked, not expired).
	Active(ctx context.Context, id string) (bool, error)
}

// DelegationChoice is one delegator a delegate may act for.
type DelegationChoice struct {
	ID                    string     `json:"id"`
	Type                  string     `json:"type"`
	ExpiresAt             *time.Time `json:"expires_at,omitempty"`
	DelegatorFiscalNumber string     `json:"delegator_fiscal_number"`
	DelegatorGivenName    string     `json:"delegator_given_name,omitempty"`
	DelegatorFamilyName   string     `json:"delegator_family_name,omitempty"`
}

// skipDelegationParam is the authorization-request extension parameter with which a relying
// party asks not to be offered delegations: delegation=skip (the person acts for themselves).
const skipDelegationParam = "delegation"

// askActFor shows the question "act for yourself or for …" when the person is a delegate,
// or completes the login for themselves. It reports whether it answered the request.
func (b *Broker) askActFor(w http.ResponseWriter, r *http.Request, rec *loginRecord, sid string) {
	ctx := r.Context()
	if b.delegs == nil || rec.SkipDelegation {
		b.completeLogin(w, r, rec, sid, nil)
		return
	}
	choices, err := b.delegs.ActiveFor(ctx, rec.Identity.FiscalNumber)
	if err != nil {
		b.failPage(w, r, rec, errors.Join(providers.ErrUnavailable, err))
		return
	}
	if len(choices) == 0 {
		b.completeLogin(w, r, rec, sid, nil)
		return
	}
	rec.Choices = choices
	rec.SessionID = sid
	if err := b.putLogin(ctx, rec); err != nil {
		b.failPage(w, r, rec, errors.Join(providers.ErrUnavailable, err))
		return
	}
	b.actForPage(w, r, rec, http.StatusOK)
}

// actForHTTP serves POST /login/act: the person's answer, field act_for = "self" or the
// delegator's fiscal code.
func (b *Broker) actForHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		b.errorPage(w, r, http.StatusMethodNotAllowed, "oauth.bad_request", errors.New("method not allowed"))
		return
	}
	ctx := r.Context()
	if err := r.ParseForm(); err != nil || !b.CheckCSRF(r) {
		b.errorPage(w, r, http.StatusForbidden, "login.csrf", errors.New("missing or wrong CSRF token"))
		return
	}
	rec, err := b.getLogin(ctx, r.PostFormValue("login"))
	if errors.Is(err, providers.ErrUnavailable) {
		b.failPage(w, r, nil, err)
		return
	}
	if err != nil || rec.Identity == nil || len(rec.Choices) == 0 {
		b.failPage(w, r, nil, providers.ErrLoginExpired)
		return
	}
	if rec.BrowserID == "" || rec.BrowserID != b.browserID(r) {
		b.errorPage(w, r, http.StatusBadRequest, "login.other_browser", errors.New("browser binding mismatch at act_for"))
		return
	}
	choice := r.PostFormValue("act_for")
	if choice == "self" {
		b.completeLogin(w, r, rec, rec.SessionID, nil)
		return
	}
	for i := range rec.Choices {
		c := &rec.Choices[i]
		if c.DelegatorFiscalNumber != choice {
			continue
		}
		// The delegation may have ended since the question was asked.
		if ok, err := b.delegs.Active(ctx, c.ID); err != nil {
			b.failPage(w, r, rec, errors.Join(providers.ErrUnavailable, err))
			return
		} else if !ok {
			b.failPage(w, r, rec, &providers.UserError{Code: "delegation.not_active", Err: providers.ErrDenied})
			return
		}
		b.completeLogin(w, r, rec, rec.SessionID, c)
		return
	}
	b.actForPage(w, r, rec, http.StatusBadRequest)
}

// delegatedGrant turns a delegate's own login into a grant for the delegator (the token
// contract): sub and fiscal_number of the delegator, act naming the delegate and the
// delegation, acr/amr/auth_time of the delegate's own login.
func (b *Broker) delegatedGrant(g *grants.Grant, c *DelegationChoice) {
	own := g.Identity
	act := &claims.Act{Subject: g.Subject, FiscalNumber: own.FiscalNumber, Delegation: delegationClaim(c)}
	id := *own
	id.FiscalNumber = c.DelegatorFiscalNumber
	id.GivenName, id.FamilyName = c.DelegatorGivenName, c.DelegatorFamilyName
	id.Birthdate, id.Email, id.PhoneNumber = "", "", ""
	id.Entitlements = nil // an official's authorisations never pass to the people they act for
	id.Session, id.Attributes = nil, nil
	g.Identity = &id
	g.Subject = subjectFor(b.subjectKey, c.DelegatorFiscalNumber)
	g.Act = act
	g.DelegationID = c.ID
}

func delegationClaim(c *DelegationChoice) *claims.Delegation {
	d := &claims.Delegation{ID: c.ID, Type: c.Type}
	if c.ExpiresAt != nil {
		exp := c.ExpiresAt.Unix()
		d.ExpiresAt = &exp
	}
	return d
}

// checkGrantStillValid re-checks a delegated grant at every refresh: a revoked or expired
// delegation stops its refresh tokens at once.
func (b *Broker) checkGrantStillValid(ctx context.Context, g *grants.Grant) error {
	if g.DelegationID == "" || b.delegs == nil {
		return nil
	}
	ok, err := b.delegs.Active(ctx, g.DelegationID)
	if err != nil {
		return err
	}
	if !ok {
		return errDelegationEnded
	}
	return nil
}

// maxActDepth bounds the actor chain of a token: token exchange refuses to nest deeper, and a
// chain this deep is never taken as valid.
const maxActDepth = 8

// tokenDelegationsHold re-checks, for an access token presented back to the broker (token
// exchange, introspection, userinfo, the operators' APIs), every delegation named in its act
// chain: a delegated token stops counting as soon as its delegation is revoked or expires,
// not only at its exp.
func (b *Broker) tokenDelegationsHold(ctx context.Context, act *claims.Act) (bool, error) {
	if b.delegs == nil {
		return true, nil
	}
	for depth := 0; act != nil; depth++ {
		if depth == maxActDepth {
			return false, nil // deeper than token exchange ever nests: unchecked means refused
		}
		if d := act.Delegation; d != nil {
			if d.ID == "" {
				return false, nil
			}
			ok, err := b.delegs.Active(ctx, d.ID)
			if err != nil || !ok {
				return false, err
			}
		}
		act = act.Act
	}
	return true, nil
}

var actForTmpl = template.Must(template.Must(pageTemplates.Clone()).Parse(`{{define "body"}}
<h1>{{.Title}}</h1><p>{{.Data.Intro}}</p>
<form method="post" action="{{.Data.Action}}">
<input type="hidden" name="csrf" value="{{.Data.CSRF}}">
<input type="hidden" name="login" value="{{.Data.Login}}">
<fieldset><legend>{{.Data.Legend}}</legend>
<p><input type="radio" id="act-self" name="act_for" value="self" checked> <label for="act-self">{{.Data.Self}}</label></p>
{{range $i, $c := .Data.Choices}}<p><input type="radio" id="act-{{$i}}" name="act_for" value="{{$c.DelegatorFiscalNumber}}">
<label for="act-{{$i}}">{{$c.DelegatorGivenName}} {{$c.DelegatorFamilyName}} ({{$c.DelegatorFiscalNumber}})</label></p>{{end}}
</fieldset>
<p><button type="submit" class="btn btn-primary">{{.Data.Continue}}</button></p>
</form>{{end}}`))

func (b *Broker) actForPage(w http.ResponseWriter, r *http.Request, rec *loginRecord, status int) {
	lang := b.pickLang(r, rec.Lang)
	data := map[string]any{
		"Intro": b.catalogue.T(lang, "actfor.intro"), "Legend": b.catalogue.T(lang, "actfor.legend"),
		"Self": b.catalogue.T(lang, "actfor.self"), "Continue": b.catalogue.T(lang, "actfor.continue"),
		"Action": b.issuer + "/login/act", "CSRF": b.CSRFToken(r), "Login": rec.ID, "Choices": rec.Choices,
	}
	b.render(w, status, actForTmpl, b.page(r, lang, b.catalogue.T(lang, "actfor.title"), data))
}

// actForMessages are the catalogue entries of the delegation question.
var actForMessages = map[string]map[string]string{
	"actfor.title":          {"it": "Per chi vuoi operare?", "en": "On whose behalf do you want to act?"},
	"actfor.intro":          {"it": "Hai ricevuto una delega all'identità digitale. Puoi operare per conto tuo o per conto di chi ti ha conferito la delega: tutto ciò che farai per suo conto sarà registrato a nome di entrambi.", "en": "You hold a delegation of digital identity. You can act for yourself or for the person who delegated you: everything you do on their behalf is recorded under both names."},
	"actfor.legend":         {"it": "Scegli", "en": "Choose"},
	"actfor.self":           {"it": "Per conto mio", "en": "For myself"},
	"actfor.continue":       {"it": "Continua", "en": "Continue"},
	"delegation.not_active": {"it": "La delega non è più attiva (revocata o scaduta). Puoi accedere per conto tuo.", "en": "The delegation is no longer in force (revoked or expired). You can sign in for yourself."},
	"login.csrf":            {"it": "Il modulo è scaduto o non è valido. Torna indietro, ricarica la pagina e riprova.", "en": "The form has expired or is not valid. Go back, reload the page and try again."},
}
