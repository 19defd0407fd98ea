package saml

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/saml/samlx"
)

// ACS is what a provider package adds to the engine's HTTP-POST Assertion Consumer Service:
// the method its logins are (providers.MethodSPID, MethodCIE...) and the identity a valid
// Assertion means. The catalogue keys of the pages are "<profile>.<key>" (see UserError).
type ACS struct {
	// Method is the auth_method of the logins, named in every failed attempt.
	Method string
	// NameIdP names the IdP of the request in every failed attempt (providers.AttemptError's
	// IdP), for a federation whose identities name their IdP (SPID: spid_idp).
	NameIdP bool
	// Identity maps a valid Assertion of idp to the person; an error (Rejectf) refuses it, and
	// then nothing is consumed.
	Identity func(ctx context.Context, a *Assertion, idp *IdP) (*providers.Identity, error)
}

// ServeACS is the HTTP-POST Assertion Consumer Service every profile shares: the form is
// decoded (bounded), the request record peeked (a store outage is "unavailable", never
// "unknown request"), the Response validated and mapped by acs.Identity, and only then the
// request used up and the assertion kept against replay (Consume). Every response is audited
// whole ("<profile>.response", the federation's trace: accepted, refused, unsolicited,
// unavailable); the outcome goes to f, once: Finish with the identity, or Fail with an
// AttemptError of acs.Method around a UserError whose key the person sees. Nothing from the
// request is trusted before validation; a panic anywhere becomes a refusal.
func (s *SP) ServeACS(w http.ResponseWriter, r *http.Request, f providers.Finisher, acs ACS) {
	name := s.prof.Name
	loginID, answered := "", false
	defer func() {
		if rec := recover(); rec != nil {
			s.log.Error(name+": acs panic", "panic", fmt.Sprint(rec))
			if !answered {
				f.Fail(w, r, loginID, s.attempt(acs.Method, &providers.UserError{Code: name + ".invalid_response",
					Err: fmt.Errorf("%s: acs panic: %w", name, providers.ErrCredentialRejected)}))
			}
		}
	}()
	idp := "" // the IdP of the request, once known
	fail := func(id string, err error) {
		answered = true
		err = s.attempt(acs.Method, err)
		var ae *providers.AttemptError
		if acs.NameIdP && idp != "" && errors.As(err, &ae) && ae.IdP == "" {
			ae.IdP = idp
		}
		f.Fail(w, r, id, err)
	}
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, 2*samlx.MaxMessageSize)
	if err := r.ParseForm(); err != nil {
		fail("", &providers.UserError{Code: name + ".invalid_response",
			Err: fmt.Errorf("%s: acs form: %w: %w", name, providers.ErrCredentialRejected, err)})
		return
	}
	raw, err := samlx.DecodePOST(r.PostForm.Get("SAMLResponse"))
	if err != nil || len(raw) == 0 {
		fail("", &providers.UserError{Code: name + ".invalid_response",
			Err: fmt.Errorf("%s: SAMLResponse: %w: %w", name, providers.ErrCredentialRejected, err)})
		return
	}
	relayState := r.PostForm.Get("RelayState")
	rec, err := s.PeekRequest(ctx, relayState)
	if errors.Is(err, providers.ErrUnavailable) {
		s.audit(ctx, "response", "", map[string]any{"outcome": "unavailable", "error": err.Error(), "xml": string(raw)})
		fail("", s.UserError(err))
		return
	}
	if err != nil {
		s.audit(ctx, "response", "", map[string]any{"outcome": "unsolicited", "error": err.Error(), "xml": string(raw)})
		fail("", &providers.UserError{Code: name + ".unknown_request", Err: err})
		return
	}
	loginID, idp = rec.LoginID, rec.IdP
	var id *providers.Identity
	res, err := s.Consume(ctx, relayState, rec, raw, func(a *Assertion, idp *IdP) error {
		var err error
		id, err = acs.Identity(ctx, a, idp)
		return err
	})
	fields := map[string]any{"login_id": rec.LoginID, "request_id": rec.RequestID, "idp": rec.IdP, "xml": string(raw)}
	actor := ""
	if res != nil {
		fields["response_id"], fields["assertion_id"] = res.ResponseID, res.AssertionID
		fields["level"] = s.prof.LevelURI(res.Level)
		fields["issue_instant"] = samlx.FormatTime(res.IssueInstant)
	}
	if id != nil {
		actor = id.FiscalNumber
		if id.FiscalNumber != "" {
			fields["fiscal_number"] = id.FiscalNumber
		}
	}
	if err != nil {
		fields["outcome"], fields["error"] = "refused", err.Error()
		s.audit(ctx, "response", actor, fields)
		s.log.Warn(name+": response refused", "login_id", rec.LoginID, "idp", rec.IdP, "err", err)
		fail(rec.LoginID, s.UserError(err))
		return
	}
	fields["outcome"] = "accepted"
	s.audit(ctx, "response", actor, fields)
	s.log.Info(name+": login", "login_id", rec.LoginID, "idp", rec.IdP, "loa", res.Level)
	answered = true
	f.Finish(w, r, rec.LoginID, id)
}

// attempt marks a failure of the ACS as an attempt with method; a valid assertion below the
// level asked also carries the level it reached, for the broker's record of the failure.
func (s *SP) attempt(method string, err error) error {
	var le *LevelError
	if errors.As(err, &le) {
		return &providers.AttemptError{Method: method, ACR: loa.ACRForLevel(le.Got), Err: err}
	}
	return providers.Attempt(method, err)
}

// UserErrorKeys are the catalogue keys ServeACS and UserError use, after "<profile>." (besides
// the federation's error codes): every profile's catalogue has them in both languages.
var UserErrorKeys = []string{"invalid_response", "idp_error", "level_not_reached", "unavailable", "unknown_request"}

// UserError wraps err with the catalogue key the person should see, in the profile's
// namespace: "<profile>.<nr>" for an IdP status carrying a federation error code,
// ".idp_error" for one without, ".level_not_reached", ".unavailable", ".unknown_request"
// (expired or used up) and ".invalid_response" for every other refusal.
func (s *SP) UserError(err error) error {
	var se *StatusError
	var le *LevelError
	key := "invalid_response"
	switch {
	case errors.As(err, &se):
		key = "idp_error"
		if se.NR != "" {
			key = se.NR
		}
	case errors.As(err, &le):
		key = "level_not_reached"
	case errors.Is(err, providers.ErrUnavailable):
		key = "unavailable"
	case errors.Is(err, providers.ErrLoginExpired):
		key = "unknown_request"
	}
	return &providers.UserError{Code: s.prof.Name + "." + key, Err: err}
}
