package ratelimit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/inps/sportello/internal/store"
)

// Rule is a limit per window; a zero Limit turns the rule off.
type Rule struct {
	Limit  int
	Window time.Duration
}

// HTTPOptions configures Middleware.
type HTTPOptions struct {
	// Scope names the protected endpoints in keys and logs ("token", "login", "pin"), so
	// each scope has its own counters.
	Scope string
	// PerClient limits requests per OAuth client id (HTTP Basic user name, else the client_id
	// form field); requests without one are only limited per address.
	PerClient Rule
	// PerAddress limits requests per source address (IPv6 grouped by /64).
	PerAddress Rule
	// TrustedProxies are the load balancers whose X-Forwarded-For is believed; the client is
	// the right-most address in the chain that is not a trusted proxy.
	TrustedProxies []netip.Prefix
	// MaxFormBytes bounds how much of a form body is read to find client_id (default 64 KiB);
	// the body is handed on unchanged.
	MaxFormBytes int64
	// FailClosed answers 503 when the store fails, instead of letting the request through:
	// "temporarily unavailable" with Retry-After store.OutageRetryAfter, never "too many
	// requests" (the person sent none too many).
	FailClosed bool
	// Page writes the refusal for browsers (Accept: text/html); nil writes a short text.
	Page func(w http.ResponseWriter, r *http.Request, retryAfter time.Duration)
	// Unavailable writes the fail-closed answer for browsers (the broker's page saying the
	// service is temporarily unavailable); nil writes a short text that says so.
	Unavailable func(w http.ResponseWriter, r *http.Request, retryAfter time.Duration)
	// Logger receives refusals and store failures (default: discarded).
	Logger *slog.Logger
}

// Middleware limits requests to next by client and by address; a refused request gets 429
// with Retry-After, an OAuth-style JSON error for APIs and Page for browsers.
func (l *Limiter) Middleware(opts HTTPOptions) func(http.Handler) http.Handler {
	if opts.MaxFormBytes <= 0 {
		opts.MaxFormBytes = 64 << 10
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			type check struct {
				what, key string
				rule      Rule
			}
			var checks []check
			if opts.PerClient.Limit > 0 {
				if id := clientID(r, opts.MaxFormBytes); id != "" {
					checks = append(checks, check{"client", opts.Scope + "|client|" + id, opts.PerClient})
				}
			}
			if opts.PerAddress.Limit > 0 {
				checks = append(checks, check{"address", opts.Scope + "|addr|" + addressKey(ClientIP(r, opts.TrustedProxies)), opts.PerAddress})
			}
			for _, c := range checks {
				ok, retry, err := l.Allow(r.Context(), c.key, c.rule.Limit, c.rule.Window)
				if err != nil {
					opts.Logger.Warn("rate limit store failure", "scope", opts.Scope, "err", err, "fail_closed", opts.FailClosed)
					if opts.FailClosed {
						refuse(w, r, http.StatusServiceUnavailable, "temporarily_unavailable", "the service is temporarily unavailable; try again shortly",
							store.OutageRetryAfter, opts.Unavailable)
						return
					}
					break
				}
				if !ok {
					opts.Logger.Info("rate limited", "scope", opts.Scope, "by", c.what)
					refuse(w, r, http.StatusTooManyRequests, "temporarily_unavailable", "too many requests; retry later", retry, opts.Page)
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

func refuse(w http.ResponseWriter, r *http.Request, status int, code, desc string, retry time.Duration, page func(http.ResponseWriter, *http.Request, time.Duration)) {
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(retry.Seconds()))))
	w.Header().Set("Cache-Control", "no-store")
	if strings.Contains(r.Header.Get("Accept"), "text/html") {
		if page != nil {
			page(w, r, retry)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		if status == http.StatusServiceUnavailable {
			fmt.Fprintln(w, "Il servizio è temporaneamente non disponibile: riprova tra poco. / The service is temporarily unavailable: please try again shortly.")
			return
		}
		fmt.Fprintln(w, "Troppe richieste: riprova tra poco. / Too many requests: please try again shortly.")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

// clientID is the HTTP Basic user name (form-decoded, RFC 6749 §2.3.1), else the client_id
// of a url-encoded form body (read up to max bytes and put back for the next handler).
func clientID(r *http.Request, max int64) string {
	if u, _, ok := r.BasicAuth(); ok {
		if d, err := url.QueryUnescape(u); err == nil {
			return d
		}
		return u
	}
	if id := r.URL.Query().Get("client_id"); id != "" {
		return id
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if r.Body == nil || mt != "application/x-www-form-urlencoded" {
		return ""
	}
	head, err := io.ReadAll(io.LimitReader(r.Body, max))
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), r.Body), r.Body}
	if err != nil {
		return ""
	}
	form, err := url.ParseQuery(string(head))
	if err != nil {
		return ""
	}
	return form.Get("client_id")
}

// ClientIP returns the request's source address: the peer, or, when the peer is a trusted
// proxy, the right-most X-Forwarded-For entry that is not one.
func ClientIP(r *http.Request, trusted []netip.Prefix) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	peer = peer.Unmap()
	if !isTrusted(peer, trusted) {
		return peer
	}
	var hops []string
	for _, h := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(h, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return peer // a garbled chain: trust nothing beyond the proxy
		}
		a = a.Unmap()
		if !isTrusted(a, trusted) {
			return a
		}
		peer = a
	}
	return peer
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// addressKey groups IPv6 addresses by /64 (what one subscriber usually holds).
func addressKey(a netip.Addr) string {
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
