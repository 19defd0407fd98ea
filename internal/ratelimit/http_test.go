package ratelimit

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/inps/sportello/internal/store"
)

func TestClientIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	cases := []struct {
		name, remote string
		xff          []string
		want         string
	}{
		{"an untrusted peer is the client, whatever it forwards", "198.51.100.7:5555", []string{"203.0.113.9"}, "198.51.100.7"},
		{"behind a trusted proxy the right-most untrusted hop is the client", "10.0.0.2:443", []string{"203.0.113.9, 198.51.100.1"}, "198.51.100.1"},
		{"trusted hops are skipped from the right", "10.0.0.2:443", []string{"203.0.113.9", "10.1.1.1"}, "203.0.113.9"},
		{"a spoofed left-most entry does not win", "10.0.0.2:443", []string{"1.2.3.4, 203.0.113.9"}, "203.0.113.9"},
		{"a garbled chain stops at the proxy", "10.0.0.2:443", []string{"203.0.113.9, junk"}, "10.0.0.2"},
		{"all hops trusted: the left-most trusted one", "10.0.0.2:443", []string{"10.9.9.9"}, "10.9.9.9"},
		{"an IPv4-mapped IPv6 peer is IPv4", "[::ffff:198.51.100.7]:1", nil, "198.51.100.7"},
		{"IPv6 loopback proxy", "[::1]:8080", []string{"2001:db8::1"}, "2001:db8::1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/token", nil)
			r.RemoteAddr = tc.remote
			for _, h := range tc.xff {
				r.Header.Add("X-Forwarded-For", h)
			}
			if got := ClientIP(r, trusted).String(); got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestIPv6AddressesShareTheirSlash64(t *testing.T) {
	a, b := addressKey(netip.MustParseAddr("2001:db8:1:2::1")), addressKey(netip.MustParseAddr("2001:db8:1:2:ffff::9"))
	if a != b || a != "2001:db8:1:2::/64" {
		t.Fatalf("%s %s", a, b)
	}
}

type echo struct{ body string }

func (e *echo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	e.body = string(b)
	w.WriteHeader(http.StatusOK)
}

func TestMiddleware(t *testing.T) {
	backends(t, func(t *testing.T, st store.Store, _ waiter) {
		l := New(st, Options{})
		next := &echo{}
		h := l.Middleware(HTTPOptions{Scope: "token", PerClient: Rule{2, time.Minute}, PerAddress: Rule{4, time.Minute}})(next)
		do := func(remote string, mod func(*http.Request)) *httptest.ResponseRecorder {
			form := url.Values{"grant_type": {"client_credentials"}, "client_id": {"demo-service"}}.Encode()
			r := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader(form))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.RemoteAddr = remote
			if mod != nil {
				mod(r)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			return w
		}
		t.Run("the form body reaches the handler unchanged", func(t *testing.T) {
			if w := do("192.0.2.1:1", nil); w.Code != 200 || !strings.Contains(next.body, "client_id=demo-service") {
				t.Fatalf("%d %q", w.Code, next.body)
			}
		})
		t.Run("the per-client limit answers 429 with Retry-After and an OAuth JSON error", func(t *testing.T) {
			do("192.0.2.2:1", nil)
			w := do("192.0.2.3:1", nil) // third request of demo-service, other addresses
			var body map[string]string
			_ = json.Unmarshal(w.Body.Bytes(), &body)
			if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "30" || body["error"] != "temporarily_unavailable" {
				t.Fatalf("%d %q %s", w.Code, w.Header().Get("Retry-After"), w.Body)
			}
		})
		t.Run("Basic auth names the client", func(t *testing.T) {
			w := do("192.0.2.4:1", func(r *http.Request) { r.SetBasicAuth("demo-service", "x") })
			if w.Code != http.StatusTooManyRequests {
				t.Fatalf("%d", w.Code)
			}
		})
		t.Run("the per-address limit holds without a client id", func(t *testing.T) {
			for i := 0; i < 4; i++ {
				if w := do("198.51.100.9:1", func(r *http.Request) { r.Body = io.NopCloser(strings.NewReader("")) }); w.Code != 200 {
					t.Fatalf("request %d: %d", i, w.Code)
				}
			}
			w := do("198.51.100.9:2", func(r *http.Request) {
				r.Body = io.NopCloser(strings.NewReader(""))
				r.Header.Set("Accept", "text/html")
			})
			if w.Code != http.StatusTooManyRequests || !strings.Contains(w.Body.String(), "Too many requests") {
				t.Fatalf("%d %s", w.Code, w.Body)
			}
		})
	})
}

type failing struct{ store.Store }

func (failing) Throttle(context.Context, string, store.Rate) (bool, time.Duration, error) {
	return false, 0, errors.New("connection refused")
}

// Failing closed is an outage, not a limit: 503 with the outage's Retry-After and a text that
// says the service is temporarily unavailable, never "too many requests"; a browser gets the
// Unavailable page when one is set.
func TestFailClosedSaysTemporarilyUnavailable(t *testing.T) {
	l := New(failing{}, Options{})
	page := func(w http.ResponseWriter, _ *http.Request, retry time.Duration) {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, "unavailable page, retry "+retry.String())
	}
	for _, tc := range []struct {
		name, accept string
		page         func(http.ResponseWriter, *http.Request, time.Duration)
		want         string
	}{
		{"a client gets the OAuth JSON error", "application/json", nil, `"temporarily_unavailable"`},
		{"a browser without a page gets the text", "text/html", nil, "The service is temporarily unavailable"},
		{"a browser gets the Unavailable page", "text/html", page, "unavailable page, retry 30s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := l.Middleware(HTTPOptions{PerAddress: Rule{1, time.Minute}, FailClosed: true, Unavailable: tc.page,
				Page: func(http.ResponseWriter, *http.Request, time.Duration) { t.Error("the 429 page drew an outage") }})(&echo{})
			w := httptest.NewRecorder()
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header.Set("Accept", tc.accept)
			h.ServeHTTP(w, r)
			body := w.Body.String()
			if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "30" || !strings.Contains(body, tc.want) {
				t.Fatalf("%d Retry-After %q: %s", w.Code, w.Header().Get("Retry-After"), body)
			}
			if strings.Contains(body, "Too many") || strings.Contains(body, "Troppe") {
				t.Fatalf("an outage answered as a limit: %s", body)
			}
		})
	}
}

func TestAStoreFailureFailsOpenUnlessFailClosed(t *testing.T) {
	l := New(failing{}, Options{})
	for _, closed := range []bool{false, true} {
		h := l.Middleware(HTTPOptions{PerAddress: Rule{1, time.Minute}, FailClosed: closed})(&echo{})
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
		want := 200
		if closed {
			want = 503
		}
		if w.Code != want {
			t.Fatalf("FailClosed=%v: %d, want %d", closed, w.Code, want)
		}
	}
}
