package ratelimit

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestByPathLimitsOnlyTheMatchingRoutes(t *testing.T) {
	c := newClock()
	l := New(memStore(t, c.Now), Options{})
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })
	h := l.ByPath(ok,
		Route{Prefix: "/pin/", Methods: []string{http.MethodPost}, Options: HTTPOptions{Scope: "pin", PerAddress: Rule{1, time.Minute}}},
		Route{Prefix: "/pin/admin/", Options: HTTPOptions{Scope: "admin", PerAddress: Rule{2, time.Minute}}},
	)
	do := func(method, path string) int {
		r := httptest.NewRequest(method, path, nil)
		r.RemoteAddr = "192.0.2.1:1"
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	cases := []struct {
		name, method, path string
		want               int
	}{
		{"the first PIN form post passes", "POST", "/pin/login", 200},
		{"the second is limited", "POST", "/pin/login", 429},
		{"a GET of the PIN page is not counted", "GET", "/pin/login", 200},
		{"the longest prefix has its own counter", "POST", "/pin/admin/x", 200},
		{"and its own limit", "POST", "/pin/admin/x", 200},
		{"which it enforces", "POST", "/pin/admin/x", 429},
		{"other paths pass untouched", "POST", "/healthz", 200},
	}
	for _, tc := range cases {
		if got := do(tc.method, tc.path); got != tc.want {
			t.Fatalf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestDefaultRoutesAreValid(t *testing.T) {
	for _, r := range DefaultRoutes(nil, nil) {
		o := r.Options
		if r.Prefix == "" || o.Scope == "" || (o.PerClient.Limit == 0 && o.PerAddress.Limit == 0) || (o.PerAddress.Limit > 0 && o.PerAddress.Window <= 0) {
			t.Errorf("route %+v", r)
		}
	}
}
