package adminapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

type req struct {
	Name string `json:"name"`
}

var (
	errNotFound = errors.New("not found")
	errOutage   = errors.New("dial tcp 10.0.0.7:6379: connection refused")
)

func endpoint(ok bool) Endpoint[req] {
	return Endpoint[req]{
		Authorize: func(*http.Request) (string, bool) { return "op-1", ok },
		Scope:     "x:office", MaxBody: 64,
		Status: func(err error) (int, string) {
			if errors.Is(err, errNotFound) {
				return http.StatusNotFound, "not_found"
			}
			if errors.Is(err, errOutage) {
				return http.StatusServiceUnavailable, CodeUnavailable
			}
			return http.StatusInternalServerError, "server_error"
		},
		RetryAfter: 30 * time.Second,
		Name:       "test admin",
	}
}

func call(t *testing.T, e Endpoint[req], body string, h func(string, *http.Request, req) (any, error)) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	w := httptest.NewRecorder()
	e.Handle(h)(w, httptest.NewRequest(http.MethodPost, "/admin/x", strings.NewReader(body)))
	var out map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &out)
	return w, out
}

func TestOperatorsAPIRules(t *testing.T) {
	ok := func(op string, _ *http.Request, r req) (any, error) {
		return map[string]string{"op": op, "name": r.Name}, nil
	}
	t.Run("no operator token: 401 with the scope", func(t *testing.T) {
		w, out := call(t, endpoint(false), `{}`, ok)
		if w.Code != http.StatusUnauthorized || out["error"] != "unauthorized" || !strings.Contains(w.Header().Get("WWW-Authenticate"), `scope="x:office"`) {
			t.Fatalf("%d %v %q", w.Code, out, w.Header().Get("WWW-Authenticate"))
		}
	})
	t.Run("unknown JSON field refused", func(t *testing.T) {
		if w, out := call(t, endpoint(true), `{"name":"a","extra":1}`, ok); w.Code != http.StatusBadRequest || out["error"] != "invalid_request" {
			t.Fatalf("%d %v", w.Code, out)
		}
	})
	t.Run("oversized body refused", func(t *testing.T) {
		if w, _ := call(t, endpoint(true), `{"name":"`+strings.Repeat("a", 100)+`"}`, ok); w.Code != http.StatusBadRequest {
			t.Fatalf("%d", w.Code)
		}
	})
	t.Run("domain error mapped; internal error hides its text", func(t *testing.T) {
		if w, out := call(t, endpoint(true), `{}`, func(string, *http.Request, req) (any, error) { return nil, errNotFound }); w.Code != http.StatusNotFound || out["error_description"] != "not found" {
			t.Fatalf("%d %v", w.Code, out)
		}
		if w, out := call(t, endpoint(true), `{}`, func(string, *http.Request, req) (any, error) { return nil, errors.New("db password wrong") }); w.Code != 500 || out["error_description"] != "internal error" {
			t.Fatalf("%d %v", w.Code, out)
		}
	})
	t.Run("an outage: 503 temporarily_unavailable with Retry-After, its cause hidden", func(t *testing.T) {
		w, out := call(t, endpoint(true), `{}`, func(string, *http.Request, req) (any, error) { return nil, errOutage })
		if w.Code != http.StatusServiceUnavailable || out["error"] != "temporarily_unavailable" || w.Header().Get("Retry-After") != "30" ||
			strings.Contains(w.Body.String(), "6379") {
			t.Fatalf("%d %q %s", w.Code, w.Header().Get("Retry-After"), w.Body)
		}
	})
	t.Run("success names the operator, never cached", func(t *testing.T) {
		w, out := call(t, endpoint(true), `{"name":"a"}`, ok)
		if w.Code != http.StatusOK || out["op"] != "op-1" || w.Header().Get("Cache-Control") != "no-store" {
			t.Fatalf("%d %v", w.Code, out)
		}
	})
}
