package console

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/inps/sportello/internal/adminapi"
	"github.com/inps/sportello/internal/audit"
	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/internal/switches"
)

// The scopes of the console API.
const (
	ScopeRead  = "console:read"
	ScopeAdmin = "console:admin"
)

// Prefix is where the API is mounted.
const Prefix = "/console/api/"

// maxBody bounds a request body.
const maxBody = 16 << 10

//go:embed openapi.json
var openAPI []byte

// OpenAPI returns the API's OpenAPI 3 document.
func OpenAPI() []byte { return slices.Clone(openAPI) }

// Config is what the API needs.
type Config struct {
	// Authorize checks the bearer token of r (a valid, unrevoked access token of this issuer
	// for its own APIs: the broker's BearerScopes) and returns the operator and the token's
	// scopes; ok is false when there is no such token.
	Authorize func(r *http.Request) (operator string, scopes []string, ok bool)
	Sources   Sources
	// Switches writes the overrides; Reader is this replica's view of them, reloaded after a
	// change so this replica applies it at once.
	Switches *switches.Switches
	Reader   *switches.Reader
	Replicas Replicas
	// AuditLog answers GET /console/api/audit (nil: 501).
	AuditLog AuditLog
	// Audit receives a record of every change.
	Audit   audit.Auditor
	Actions Actions
	Log     *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// API is the console's JSON API.
type API struct {
	c   Config
	mux *http.ServeMux
}

// New returns the API; mount it at Prefix.
func New(c Config) (*API, error) {
	if c.Authorize == nil || c.Sources == nil || c.Switches == nil || c.Reader == nil || c.Replicas == nil || c.Audit == nil {
		return nil, errors.New("console: Authorize, Sources, Switches, Reader, Replicas and Audit are required")
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	a := &API{c: c, mux: http.NewServeMux()}
	a.mux.HandleFunc("GET /console/api/openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openAPI)
	})
	read := func(pattern string, h func(r *http.Request) (any, error)) {
		a.mux.HandleFunc(pattern, a.handle(ScopeRead, func(_ string, r *http.Request) (any, error) { return h(r) }))
	}
	read("GET /console/api/providers", a.providers)
	read("GET /console/api/clients", a.clients)
	read("GET /console/api/keys", a.keys)
	read("GET /console/api/replicas", a.replicas)
	read("GET /console/api/audit", a.audit)
	read("GET /console/api/switches", a.listSwitches)
	a.mux.HandleFunc("PUT /console/api/switches/{kind}/{id}", a.handle(ScopeAdmin, a.setSwitch))
	a.mux.HandleFunc("POST /console/api/actions/refresh-metadata", a.handle(ScopeAdmin, a.refreshMetadata))
	a.mux.HandleFunc("POST /console/api/actions/rotate-keys", a.handle(ScopeAdmin, a.rotateKeys))
	a.mux.HandleFunc("POST /console/api/actions/unlock-pin", a.handle(ScopeAdmin, a.unlockPIN))
	a.mux.HandleFunc("POST /console/api/actions/revoke-person", a.handle(ScopeAdmin, a.revokePerson))
	a.mux.HandleFunc("/console/api/", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		writeError(w, http.StatusNotFound, "not_found", "no such endpoint")
	})
	return a, nil
}

// ServeHTTP implements http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

// apiError is an answer other than 200, chosen by a handler.
type apiError struct {
	status      int
	code, desc  string
	logged      error
	retryAfterS int
}

func (e *apiError) Error() string { return e.desc }

func badRequest(desc string) error {
	return &apiError{status: http.StatusBadRequest, code: "invalid_request", desc: desc}
}

// unavailable is the answer when a dependency (the Store above all) failed: nothing applied.
func unavailable(err error) error {
	return &apiError{status: http.StatusServiceUnavailable, code: adminapi.CodeUnavailable,
		desc: "temporarily unavailable; nothing was changed, try again later", logged: err,
		retryAfterS: int(store.OutageRetryAfter / time.Second)}
}

func internal(err error) error { return internalError(err) }

func internalError(err error) *apiError {
	return &apiError{status: http.StatusInternalServerError, code: "server_error", desc: "internal error", logged: err}
}

// handle authorises the request for scope, runs h and answers JSON.
func (a *API) handle(scope string, h func(operator string, r *http.Request) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		op, ok := a.authorize(r, scope)
		if !ok {
			if op != "" { // a valid token without the scope
				w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="`+scope+`"`)
				writeError(w, http.StatusForbidden, "insufficient_scope", "this operation needs the scope "+scope)
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", scope="`+scope+`"`)
			writeError(w, http.StatusUnauthorized, "invalid_token", "a bearer access token of this issuer with the scope "+scope+" is required")
			return
		}
		out, err := h(op, r)
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) {
				ae = internalError(err)
			}
			if ae.logged != nil {
				lvl := slog.LevelWarn
				if ae.status >= 500 && ae.status != http.StatusServiceUnavailable {
					lvl = slog.LevelError
				}
				a.c.Log.Log(r.Context(), lvl, "console api", "operator", op, "method", r.Method, "path", r.URL.Path, "status", ae.status, "err", ae.logged)
			}
			if ae.retryAfterS > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(ae.retryAfterS))
			}
			writeError(w, ae.status, ae.code, ae.desc)
			return
		}
		adminapi.WriteJSON(w, http.StatusOK, out)
	}
}

// authorize names the operator when the token carries scope (console:admin also reads). When
// it does not, operator is the operator of a valid token without the scope, or "" when the
// token is missing or not valid.
func (a *API) authorize(r *http.Request, scope string) (operator string, ok bool) {
	op, scopes, valid := a.c.Authorize(r)
	if !valid || op == "" {
		return "", false
	}
	if slices.Contains(scopes, ScopeAdmin) || (scope == ScopeRead && slices.Contains(scopes, ScopeRead)) {
		return op, true
	}
	return op, false
}

func writeError(w http.ResponseWriter, status int, code, desc string) {
	adminapi.WriteJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

// decode reads a strict JSON body into v.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("malformed JSON body")
	}
	if dec.More() {
		return badRequest("one JSON object expected")
	}
	return nil
}

// record writes the audit record of a change made by operator.
func (a *API) record(ctx context.Context, operator, typ string, fields map[string]any) error {
	err := a.c.Audit.Audit(ctx, audit.Event{Time: a.c.Now().UTC(), Type: typ, Actor: operator, Fields: fields})
	if err != nil {
		return internal(errors.Join(errors.New("console: the change was applied but its audit record failed"), err))
	}
	return nil
}
