package pinweb

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/inps/sportello/internal/adminapi"
	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/pin"
	"github.com/inps/sportello/providers"
)

// adminRequest is the JSON body of the operators' API; each endpoint reads the fields it needs.
type adminRequest struct {
	FiscalCode     string   `json:"fiscal_code"`
	PIN            string   `json:"pin"`
	Reason         string   `json:"reason"`
	Municipality   string   `json:"municipality"`
	Convenzione    string   `json:"convenzione"`
	Authorisations []string `json:"authorisations"`
	// Office issuance.
	Person     *pin.Person  `json:"person"`
	Category   pin.Category `json:"category"`
	IDDocument string       `json:"id_document"`
	OnBehalf   string       `json:"on_behalf"`
}

// adminRoutes mounts the operators' JSON API. Every call needs a bearer token with the scope
// the endpoint names; every action is audited by the Service under the operator's name.
//
//	POST /admin/pin/issue                   office issuance → {"envelope": {...}}     pin:office
//	POST /admin/pin/request                 a request taken by phone (ordinario, two halves)  pin:contact_center
//	POST /admin/pin/confirm                 confirm a phone-confirmed request         pin:office|pin:contact_center
//	POST /admin/pin/convert/approve|reject  decide a conversion                       pin:office
//	GET  /admin/pin/convert/document?fiscal_code=  the uploaded document              pin:office
//	POST /admin/pin/revoke                  revoke                                    pin:office
//	POST /admin/pin/unlock                  clear the lock                            pin:office|pin:contact_center
//	POST /admin/pin/authorisations/add|remove                                         pin:office
//	GET  /admin/pin/show?fiscal_code=       the record, never the PIN                 pin:office|pin:contact_center
//	POST /admin/pin/phone/check             {"fiscal_code","pin"} → {"valid": bool}   pin:contact_center
func (w *Web) adminRoutes(mux *http.ServeMux) {
	office := []string{ScopeOffice}
	both := []string{ScopeOffice, ScopeContactCenter}
	mux.HandleFunc("POST /admin/pin/issue", w.admin(office, func(op string, r *http.Request, req adminRequest) (any, error) {
		if req.Person == nil {
			return nil, pin.ErrInvalidInput
		}
		env, err := w.svc.IssueAtOffice(r.Context(), op, pin.OfficeRequest{Person: *req.Person, Category: req.Category,
			IDDocument: req.IDDocument, OnBehalf: req.OnBehalf})
		if err != nil {
			return nil, err
		}
		return map[string]any{"envelope": map[string]string{"number": env.Number, "text": env.Text}}, nil
	}))
	mux.HandleFunc("POST /admin/pin/request", w.admin([]string{ScopeContactCenter}, func(op string, r *http.Request, req adminRequest) (any, error) {
		if req.Person == nil {
			return nil, pin.ErrInvalidInput
		}
		// The Contact Center takes the same request as the online form, by phone: the PIN
		// goes out the same way (first half by SMS or e-mail, second by post).
		cat, err := contactCenterCategory(req.Category)
		if err != nil {
			return nil, err
		}
		return nil, w.svc.RequestPIN(r.Context(), pin.Request{Person: *req.Person, Category: cat,
			Channel: pin.ContactCenter, Operator: op})
	}))
	mux.HandleFunc("POST /admin/pin/confirm", w.admin(both, func(op string, r *http.Request, req adminRequest) (any, error) {
		return nil, w.svc.ConfirmRequest(r.Context(), op, req.FiscalCode)
	}))
	mux.HandleFunc("POST /admin/pin/convert/approve", w.admin(office, func(op string, r *http.Request, req adminRequest) (any, error) {
		return nil, w.svc.DecideConversion(r.Context(), op, req.FiscalCode, true, req.Reason)
	}))
	mux.HandleFunc("POST /admin/pin/convert/reject", w.admin(office, func(op string, r *http.Request, req adminRequest) (any, error) {
		return nil, w.svc.DecideConversion(r.Context(), op, req.FiscalCode, false, req.Reason)
	}))
	mux.HandleFunc("GET /admin/pin/convert/document", func(rw http.ResponseWriter, r *http.Request) {
		if _, ok := w.authorize(r, office); !ok {
			writeJSON(rw, http.StatusUnauthorized, map[string]string{"error": "unauthorized"})
			return
		}
		c, err := w.svc.ConversionRequest(r.Context(), r.URL.Query().Get("fiscal_code"))
		if err != nil || len(c.Document) == 0 {
			writeJSON(rw, http.StatusNotFound, map[string]string{"error": "not_found"})
			return
		}
		rw.Header().Set("Content-Type", c.ContentType)
		rw.Header().Set("Content-Disposition", "attachment")
		rw.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = rw.Write(c.Document) //nolint:gosec // served as an attachment with nosniff; the type was checked by content at upload
	})
	mux.HandleFunc("POST /admin/pin/revoke", w.admin(office, func(op string, r *http.Request, req adminRequest) (any, error) {
		return nil, w.svc.Revoke(r.Context(), op, req.FiscalCode, req.Reason)
	}))
	mux.HandleFunc("POST /admin/pin/unlock", w.admin(both, func(op string, r *http.Request, req adminRequest) (any, error) {
		return nil, w.svc.Unlock(r.Context(), op, req.FiscalCode)
	}))
	mux.HandleFunc("POST /admin/pin/authorisations/add", w.admin(office, func(op string, r *http.Request, req adminRequest) (any, error) {
		return w.svc.AddAuthorisations(r.Context(), op, pin.Grant{FiscalCode: req.FiscalCode, Municipality: req.Municipality,
			Convenzione: req.Convenzione, Authorisations: req.Authorisations})
	}))
	mux.HandleFunc("POST /admin/pin/authorisations/remove", w.admin(office, func(op string, r *http.Request, req adminRequest) (any, error) {
		return w.svc.RemoveAuthorisations(r.Context(), op, req.FiscalCode, req.Authorisations, req.Reason)
	}))
	mux.HandleFunc("GET /admin/pin/show", w.admin(both, func(op string, r *http.Request, _ adminRequest) (any, error) {
		return w.svc.Show(r.Context(), op, r.URL.Query().Get("fiscal_code"))
	}))
	mux.HandleFunc("POST /admin/pin/phone/check", w.admin([]string{ScopeContactCenter}, func(op string, r *http.Request, req adminRequest) (any, error) {
		err := w.svc.CheckPhonePIN(r.Context(), op, req.FiscalCode, req.PIN)
		var locked *providers.LockedError
		switch {
		case err == nil:
			return map[string]any{"valid": true}, nil
		case errors.As(err, &locked):
			return map[string]any{"valid": false, "locked_until": locked.Until}, nil
		case errors.Is(err, providers.ErrBadCredentials):
			return map[string]any{"valid": false}, nil
		}
		return nil, err
	}))
}

// authorize accepts a token carrying any of the scopes.
func (w *Web) authorize(r *http.Request, scopes []string) (string, bool) {
	for _, s := range scopes {
		if op, ok := w.deps.Authorize(r, s); ok && op != "" {
			return op, true
		}
	}
	return "", false
}

// admin wraps one operators' endpoint: authorisation, JSON decoding (1 MiB at most, unknown
// fields refused) and the mapping of domain errors to HTTP statuses.
func (w *Web) admin(scopes []string, h func(op string, r *http.Request, req adminRequest) (any, error)) http.HandlerFunc {
	return adminapi.Endpoint[adminRequest]{
		Authorize: func(r *http.Request) (string, bool) { return w.authorize(r, scopes) },
		MaxBody:   1 << 20, Status: adminStatus, RetryAfter: store.OutageRetryAfter, Log: w.log, Name: "pin admin",
	}.Handle(h)
}

// adminStatus maps domain errors to statuses. Domain errors never carry a PIN, so their text
// may go to the operator.
func adminStatus(err error) (int, string) {
	switch {
	case errors.Is(err, pin.ErrInvalidInput), errors.Is(err, pin.ErrNoConvenzione), errors.Is(err, pin.ErrDocument):
		return http.StatusBadRequest, "invalid_request"
	case errors.Is(err, pin.ErrNoPIN):
		return http.StatusNotFound, "not_found"
	case errors.Is(err, pin.ErrBadState), errors.Is(err, pin.ErrHasPIN):
		return http.StatusConflict, "conflict"
	case errors.Is(err, pin.ErrRateLimited):
		return http.StatusTooManyRequests, "rate_limited"
	case errors.Is(err, pin.ErrNotEligible):
		return http.StatusUnprocessableEntity, "not_eligible"
	case errors.Is(err, providers.ErrUnavailable):
		return http.StatusServiceUnavailable, adminapi.CodeUnavailable
	}
	return http.StatusInternalServerError, "server_error"
}

func writeJSON(rw http.ResponseWriter, status int, v any) { adminapi.WriteJSON(rw, status, v) }

// contactCenterCategory is the category of a request taken by phone: citizens only, like the
// online form. Officials and intermediaries (exempt from the eligibility policy, with their
// own login switches) are made at an office, after an identity check.
func contactCenterCategory(c pin.Category) (pin.Category, error) {
	if c == "" || c == pin.Citizen {
		return pin.Citizen, nil
	}
	return "", fmt.Errorf("%w: the Contact Center takes requests of citizens only", pin.ErrInvalidInput)
}
