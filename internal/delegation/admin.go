package delegation

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/inps/sportello/internal/adminapi"
	"github.com/inps/sportello/internal/fiscalcode"
	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/providers"
)

// Summary is everything the registry holds about one person, as the office sees it.
type Summary struct {
	FiscalCode string       `json:"fiscal_code"`
	Protected  bool         `json:"under_legal_protection"`
	Given      []Delegation `json:"given"`
	Received   []Delegation `json:"received"`
}

// Lookup returns the Summary of cf for an operator, and audits the lookup.
func (r *Registry) Lookup(ctx context.Context, operator, cf string) (*Summary, error) {
	cf, err := fiscalcode.Parse(cf)
	if err != nil {
		return nil, fmt.Errorf("delegation: %w", err)
	}
	s := &Summary{FiscalCode: cf}
	if s.Given, err = r.Given(ctx, cf); err != nil {
		return nil, err
	}
	if s.Received, err = r.Received(ctx, cf); err != nil {
		return nil, err
	}
	now := r.now()
	for _, d := range s.Given {
		if d.Kind.Legal() && d.ActiveAt(now) {
			s.Protected = true
		}
	}
	if r.audit != nil {
		r.auditEvent(ctx, "delegation.lookup", operator, &Delegation{Delegator: Person{FiscalCode: cf}}, nil)
	}
	return s, nil
}

// adminRequest is the JSON body of the operators' API.
type adminRequest struct {
	Kind      Kind   `json:"kind"`
	Role      Role   `json:"role"`
	Delegator Person `json:"delegator"`
	Delegate  Person `json:"delegate"`
	// End is the last day of validity (YYYY-MM-DD, Italian time) or an RFC 3339 instant.
	End       string `json:"end"`
	Reference string `json:"reference"`
	ID        string `json:"id"`
	Reason    string `json:"reason"`
}

// parseEndAny accepts a last day of validity (YYYY-MM-DD) or an RFC 3339 instant.
func (w *Web) parseEndAny(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return w.parseEnd(s)
}

// adminRoutes mounts the operators' JSON API. Every call needs a bearer token with scope
// delegation:office; every action is audited under the operator's name.
//
//	POST /admin/delegations/register   {"kind","role","delegator":{...},"delegate":{...},"end","reference"} → the delegation
//	POST /admin/delegations/revoke     {"id","reason"}
//	GET  /admin/delegations/show?fiscal_code=   → Summary (given, received, under_legal_protection)
//	GET  /admin/delegations/get?id=             → the delegation
func (w *Web) adminRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /admin/delegations/register", w.admin(func(op string, r *http.Request, req adminRequest) (any, error) {
		if req.Kind == KindOnline {
			return nil, fmt.Errorf("%w: operators register office kinds (office_aa08, office_aa09, legal_aa10)", ErrInvalid)
		}
		end := time.Time{}
		if req.End != "" {
			var err error
			if end, err = w.parseEndAny(req.End); err != nil {
				return nil, fmt.Errorf("%w: end: %w", ErrInvalid, err)
			}
		}
		return w.reg.Register(r.Context(), Request{Kind: req.Kind, Role: req.Role, Delegator: req.Delegator,
			Delegate: req.Delegate, End: end, Operator: op, Reference: req.Reference})
	}))
	mux.HandleFunc("POST /admin/delegations/revoke", w.admin(func(op string, r *http.Request, req adminRequest) (any, error) {
		return nil, w.reg.Revoke(r.Context(), req.ID, Actor{Operator: op, Reason: req.Reason})
	}))
	mux.HandleFunc("GET /admin/delegations/show", w.admin(func(op string, r *http.Request, _ adminRequest) (any, error) {
		return w.reg.Lookup(r.Context(), op, r.URL.Query().Get("fiscal_code"))
	}))
	mux.HandleFunc("GET /admin/delegations/get", w.admin(func(op string, r *http.Request, _ adminRequest) (any, error) {
		return w.reg.Get(r.Context(), r.URL.Query().Get("id"))
	}))
}

// admin wraps one operators' endpoint: authorisation (scope delegation:office), strict JSON
// decoding and the mapping of domain errors to HTTP statuses.
func (w *Web) admin(h func(op string, r *http.Request, req adminRequest) (any, error)) http.HandlerFunc {
	return adminapi.Endpoint[adminRequest]{
		Authorize: func(r *http.Request) (string, bool) { return w.deps.Authorize(r, ScopeOffice) },
		Scope:     ScopeOffice, MaxBody: 64 << 10, Status: adminStatus, RetryAfter: store.OutageRetryAfter,
		Log: w.log, Name: "delegation admin",
	}.Handle(h)
}

// adminStatus maps domain errors to statuses and codes; domain errors hold no secret, so
// their text may go to the operator.
func adminStatus(err error) (int, string) {
	switch {
	case errors.Is(err, fiscalcode.ErrInvalid), errors.Is(err, ErrInvalid), errors.Is(err, ErrSelfDelegation):
		return http.StatusBadRequest, "invalid_request"
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound, "not_found"
	case errors.Is(err, ErrLimitDelegator):
		return http.StatusConflict, "limit_delegator"
	case errors.Is(err, ErrLimitDelegate):
		return http.StatusConflict, "limit_delegate"
	case errors.Is(err, ErrDuplicate):
		return http.StatusConflict, "duplicate"
	case errors.Is(err, ErrNotActive):
		return http.StatusConflict, "not_active"
	case errors.Is(err, providers.ErrUnavailable):
		return http.StatusServiceUnavailable, adminapi.CodeUnavailable
	}
	return http.StatusInternalServerError, "server_error"
}

func writeJSON(rw http.ResponseWriter, status int, v any) { adminapi.WriteJSON(rw, status, v) }
