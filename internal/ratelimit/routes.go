package ratelimit

import (
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Route limits the requests whose path starts with Prefix (and whose method is in Methods,
// when set) with Options.
type Route struct {
	Prefix  string
	Methods []string
	Options HTTPOptions
}

// ByPath wraps next: a request is limited by the route with the longest matching prefix;
// requests no route matches pass untouched (health checks, static files, discovery).
func (l *Limiter) ByPath(next http.Handler, routes ...Route) http.Handler {
	type compiled struct {
		Route
		h http.Handler
	}
	var cs []compiled
	for _, r := range routes {
		cs = append(cs, compiled{r, l.Middleware(r.Options)(next)})
	}
	slices.SortStableFunc(cs, func(a, b compiled) int { return len(b.Prefix) - len(a.Prefix) })
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, c := range cs {
			if strings.HasPrefix(r.URL.Path, c.Prefix) && (len(c.Methods) == 0 || slices.Contains(c.Methods, r.Method)) {
				c.h.ServeHTTP(w, r)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// DefaultRoutes are suggested limits for sportello's endpoints, generous enough for a deadline
// day and tight where guessing is the threat. The per-account PIN lockout is separate (pin);
// these bound what one client or address may try across accounts.
func DefaultRoutes(trusted []netip.Prefix, logger *slog.Logger) []Route {
	opts := func(scope string, perClient, perAddress int) HTTPOptions {
		return HTTPOptions{Scope: scope, PerClient: Rule{perClient, time.Minute}, PerAddress: Rule{perAddress, time.Minute},
			TrustedProxies: trusted, Logger: logger}
	}
	return []Route{
		{Prefix: "/oauth/token", Options: opts("token", 3000, 600)},
		{Prefix: "/oauth/par", Options: opts("par", 600, 120)},
		{Prefix: "/oauth/introspect", Options: opts("introspect", 6000, 3000)},
		{Prefix: "/oauth/revoke", Options: opts("revoke", 600, 300)},
		{Prefix: "/authorize", Options: opts("authorize", 0, 120)},
		{Prefix: "/login/", Options: opts("login", 0, 120)},
		{Prefix: "/spid/", Methods: []string{http.MethodPost}, Options: opts("spid", 0, 60)},
		{Prefix: "/pin/", Methods: []string{http.MethodPost}, Options: opts("pin", 0, 30)},
	}
}
