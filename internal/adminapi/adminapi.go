// Package adminapi is the machinery shared by the operators' JSON APIs (PIN back office,
// delegation office): bearer authorisation, strict JSON bodies, domain errors mapped to HTTP
// statuses, and responses that are never cached.
package adminapi

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"time"
)

// CodeUnavailable is the error code of a 503: the OAuth code of an outage (RFC 6749
// §4.1.2.1), as the broker's own endpoints answer it.
const CodeUnavailable = "temporarily_unavailable"

// Endpoint describes how one API's endpoints behave.
type Endpoint[Req any] struct {
	// Authorize names the operator of a request (its bearer token carries the right scope),
	// or reports false.
	Authorize func(r *http.Request) (operator string, ok bool)
	// Scope is announced in WWW-Authenticate when authorisation fails ("" to omit).
	Scope string
	// MaxBody bounds a POST body.
	MaxBody int64
	// Status maps a domain error to an HTTP status and an error code. Domain errors hold no
	// secret, so their text goes to the operator; a 500 says only "internal error", a 503
	// (the store down: CodeUnavailable) only "temporarily unavailable", with Retry-After.
	Status func(error) (int, string)
	// RetryAfter is the wait a 503 announces (Retry-After, whole seconds; 0 to omit).
	RetryAfter time.Duration
	// Log receives the 500s and 503s with the operator and path.
	Log *slog.Logger
	// Name labels the log lines ("pin admin", "delegation admin").
	Name string
}

// Handle wraps h: authorisation, strict JSON decoding of POST bodies (unknown fields
// refused), error mapping, and a JSON answer ({"status":"ok"} when h returns nothing).
func (e Endpoint[Req]) Handle(h func(operator string, r *http.Request, req Req) (any, error)) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Cache-Control", "no-store")
		op, ok := e.Authorize(r)
		if !ok || op == "" {
			challenge := `Bearer error="insufficient_scope"`
			if e.Scope != "" {
				challenge += `, scope="` + e.Scope + `"`
			}
			rw.Header().Set("WWW-Authenticate", challenge)
			WriteJSON(rw, http.StatusUnauthorized, map[string]string{"error": "unauthorized"})
			return
		}
		var req Req
		if r.Method == http.MethodPost {
			dec := json.NewDecoder(http.MaxBytesReader(rw, r.Body, e.MaxBody))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&req); err != nil {
				WriteJSON(rw, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "malformed JSON body"})
				return
			}
		}
		out, err := h(op, r, req)
		if err != nil {
			status, code := e.Status(err)
			desc := err.Error()
			switch status {
			case http.StatusInternalServerError:
				if e.Log != nil {
					e.Log.ErrorContext(r.Context(), e.Name, "operator", op, "path", r.URL.Path, "err", err)
				}
				desc = "internal error"
			case http.StatusServiceUnavailable:
				// An outage is not the operator's doing, and its cause names the infrastructure.
				if e.Log != nil {
					e.Log.WarnContext(r.Context(), e.Name+": unavailable", "operator", op, "path", r.URL.Path, "err", err)
				}
				desc = "temporarily unavailable; try again later"
				if e.RetryAfter > 0 {
					rw.Header().Set("Retry-After", strconv.Itoa(int((e.RetryAfter+time.Second-1)/time.Second)))
				}
			}
			WriteJSON(rw, status, map[string]string{"error": code, "error_description": desc})
			return
		}
		if out == nil {
			out = map[string]string{"status": "ok"}
		}
		WriteJSON(rw, http.StatusOK, out)
	}
}

// WriteJSON answers v as JSON with status.
func WriteJSON(rw http.ResponseWriter, status int, v any) {
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(status)
	_ = json.NewEncoder(rw).Encode(v)
}
