package spid

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/inps/sportello/internal/fiscalcode"
	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/saml"
	"github.com/inps/sportello/providers/saml/samlx"
)

// serveACS is the HTTP-POST Assertion Consumer Service. Nothing from the request is trusted
// before validateResponse accepts it; a panic anywhere becomes a refusal.
func (p *Provider) serveACS(w http.ResponseWriter, r *http.Request, f providers.Finisher) {
	loginID, answered := "", false
	defer func() {
		if rec := recover(); rec != nil {
			p.log.Error("spid: acs panic", "panic", fmt.Sprint(rec))
			if !answered {
				f.Fail(w, r, loginID, attempt(&providers.UserError{Code: "spid.invalid_response",
					Err: fmt.Errorf("spid: acs panic: %w", providers.ErrCredentialRejected)}))
			}
		}
	}()
	fail := func(id string, err error) {
		answered = true
		f.Fail(w, r, id, attempt(err))
	}
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, 2*samlx.MaxMessageSize)
	if err := r.ParseForm(); err != nil {
		fail("", &providers.UserError{Code: "spid.invalid_response",
			Err: fmt.Errorf("spid: acs form: %w: %w", providers.ErrCredentialRejected, err)})
		return
	}
	raw, err := samlx.DecodePOST(r.PostForm.Get("SAMLResponse"))
	if err != nil || len(raw) == 0 {
		fail("", &providers.UserError{Code: "spid.invalid_response",
			Err: fmt.Errorf("spid: SAMLResponse: %w: %w", providers.ErrCredentialRejected, err)})
		return
	}
	relayState := r.PostForm.Get("RelayState")
	rec, err := p.peekRequest(ctx, relayState)
	if errors.Is(err, providers.ErrUnavailable) {
		p.audit(ctx, "spid.response", "", map[string]any{"outcome": "unavailable", "error": err.Error(), "xml": string(raw)})
		fail("", userError(err))
		return
	}
	if err != nil {
		p.audit(ctx, "spid.response", "", map[string]any{"outcome": "unsolicited", "error": err.Error(), "xml": string(raw)})
		fail("", &providers.UserError{Code: "spid.unknown_request", Err: err})
		return
	}
	loginID = rec.LoginID
	id, res, err := p.consume(ctx, relayState, rec, raw)
	fields := map[string]any{"login_id": rec.LoginID, "request_id": rec.RequestID, "idp": rec.IdP,
		"xml": string(raw)}
	actor := ""
	if res != nil {
		fields["response_id"], fields["assertion_id"] = res.ResponseID, res.AssertionID
		fields["level"] = loa.ACRForLevel(res.Level)
		fields["issue_instant"] = samlx.FormatTime(res.IssueInstant)
	}
	if id != nil {
		actor = id.FiscalNumber
		fields["fiscal_number"] = id.FiscalNumber
	}
	if err != nil {
		fields["outcome"], fields["error"] = "refused", err.Error()
		p.audit(ctx, "spid.response", actor, fields)
		p.log.Warn("spid: response refused", "login_id", rec.LoginID, "idp", rec.IdP, "err", err)
		fail(rec.LoginID, userError(err))
		return
	}
	fields["outcome"] = "accepted"
	p.audit(ctx, "spid.response", actor, fields)
	p.log.Info("spid: login", "login_id", rec.LoginID, "idp", rec.IdP, "loa", res.Level)
	answered = true
	f.Finish(w, r, rec.LoginID, id)
}

// consume validates a response for its request record and builds the identity; only then
// does the engine use the request up and record the assertion ID against replay. A response
// that does not validate — garbage, a forgery, an error status anyone who saw the request
// could write — consumes nothing.
func (p *Provider) consume(ctx context.Context, relayState string, rec *requestRecord, raw []byte) (*providers.Identity, *assertionResult, error) {
	var id *providers.Identity
	res, err := p.engine.Consume(ctx, relayState, rec, raw, func(res *saml.Assertion, idp *saml.IdP) error {
		var err error
		id, err = identityFrom(res, idp.EntityID)
		return err
	})
	return id, res, err
}

// assertionResult is what a valid Response proves.
type assertionResult = saml.Assertion

// amrFor documents the RFC 8176 values per SPID level: L1 password only; L2 password plus a
// second factor (OTP or app), hence "mfa"; L3 adds a hardware-protected key ("hwk").
func amrFor(level int) []string {
	switch level {
	case 1:
		return []string{"pwd"}
	case 2:
		return []string{"pwd", "mfa"}
	default:
		return []string{"pwd", "hwk", "mfa"}
	}
}

// identityFrom maps a validated assertion to the broker's Identity.
func identityFrom(res *assertionResult, idp string) (*providers.Identity, error) {
	fn, ok := res.Attributes["fiscalNumber"]
	if !ok {
		return nil, reject("attributes.fiscal_number", "%v", errNoFiscalNumber)
	}
	cf, found := strings.CutPrefix(fn, "TINIT-")
	if !found {
		return nil, reject("attributes.fiscal_number", "%q lacks the TINIT- prefix", fn)
	}
	cf, err := fiscalcode.Parse(cf)
	if err != nil {
		return nil, reject("attributes.fiscal_number", "%v", err)
	}
	id := &providers.Identity{
		FiscalNumber: cf,
		GivenName:    res.Attributes["name"],
		FamilyName:   res.Attributes["familyName"],
		Email:        res.Attributes["email"],
		PhoneNumber:  res.Attributes["mobilePhone"],
		Method:       providers.MethodSPID,
		ACR:          loa.ACRForLevel(res.Level),
		AMR:          amrFor(res.Level),
		AuthTime:     res.AuthnInstant.UTC(),
		SPIDIdP:      idp,
		Session: map[string]string{
			"name_id": res.NameID, "name_qualifier": res.NameQualifier,
			"session_index": res.SessionIndex, "idp": idp,
		},
		Attributes: res.Attributes,
	}
	if d := res.Attributes["dateOfBirth"]; d != "" {
		if _, err := time.Parse("2006-01-02", d); err != nil {
			return nil, reject("attributes.date_of_birth", "%q is not an xs:date", d)
		}
		id.Birthdate = d
	}
	if err := id.Validate(); err != nil {
		return nil, reject("identity", "%v", err)
	}
	return id, nil
}

// attempt marks a failure of the ACS as a SPID attempt; a valid assertion below the level
// asked also carries the level it reached, for the broker's record of the failure.
func attempt(err error) error {
	var le *levelError
	if errors.As(err, &le) {
		return &providers.AttemptError{Method: providers.MethodSPID, ACR: loa.ACRForLevel(le.Got), Err: err}
	}
	return providers.Attempt(providers.MethodSPID, err)
}

// userError wraps err with the catalogue key the person should see.
func userError(err error) error {
	var se *StatusError
	var le *levelError
	code := "spid.invalid_response"
	switch {
	case errors.As(err, &se):
		code = "spid.idp_error"
		if se.NR != "" {
			code = "spid." + se.NR
		}
	case errors.As(err, &le):
		code = "spid.level_not_reached"
	case errors.Is(err, providers.ErrUnavailable):
		code = "spid.unavailable"
	case errors.Is(err, providers.ErrLoginExpired):
		code = "spid.unknown_request"
	}
	return &providers.UserError{Code: code, Err: err}
}
