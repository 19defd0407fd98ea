package broker

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// corsPolicy is the cross-origin policy of the endpoints a browser-based client calls itself
// (token, userinfo, introspection, revocation). Only the origins of public clients — the
// scheme://host[:port] of their registered redirect URIs — may read the answers, and never
// with credentials: these endpoints authenticate by the request's own contents (a client
// assertion, a bearer token, PKCE), never by a cookie, so a page elsewhere gains nothing.
// zitadel's op router would reflect any Origin with credentials allowed; it is switched off
// (op.WithServerCORSOptions(nil)) and this policy wraps the routes instead. Discovery and
// JWKS are public documents and stay "*".
type corsPolicy struct {
	origins map[string]bool
	// live, when set, returns the policy in force instead (the clients' on a reload).
	live func() *corsPolicy
}

// allows reports whether origin may read the answers.
func (p *corsPolicy) allows(origin string) bool {
	if p.live != nil {
		return p.live().origins[origin]
	}
	return p.origins[origin]
}

// corsAllowedHeaders are the request headers a preflight may ask for (lower case, as
// browsers send them in Access-Control-Request-Headers).
var corsAllowedHeaders = []string{"authorization", "content-type", "dpop"}

// corsMaxAge is how long a browser may cache a preflight answer, in seconds.
const corsMaxAge = "600"

// newCORSPolicy derives the allowed origins from the public clients' redirect URIs.
// Confidential clients call from servers, where CORS does not apply; native apps' custom
// schemes are not web origins.
func newCORSPolicy(clients map[string]*Client) *corsPolicy {
	p := &corsPolicy{origins: map[string]bool{}}
	for _, cl := range clients {
		if !cl.public {
			continue
		}
		for _, ru := range cl.redirects {
			if o := webOrigin(ru); o != "" {
				p.origins[o] = true
			}
		}
	}
	return p
}

// webOrigin is the ASCII serialisation of an http(s) URL's origin, or "".
func webOrigin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return ""
	}
	host := strings.ToLower(u.Host)
	if p := u.Port(); (u.Scheme == "http" && p == "80") || (u.Scheme == "https" && p == "443") {
		host = strings.TrimSuffix(host, ":"+p)
	}
	return u.Scheme + "://" + host
}

// wrap applies the policy to next, an endpoint answering the given methods. A preflight for
// an allowed origin, method and headers is answered here (204); any other preflight gets 403
// without CORS headers, so the browser refuses the call. Other requests go on to next with
// Access-Control-Allow-Origin set only for an allowed Origin.
func (p *corsPolicy) wrap(next http.Handler, methods ...string) http.Handler {
	allowMethods := strings.Join(methods, ", ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Add("Vary", "Origin")
		origin := r.Header.Get("Origin")
		if r.Method == http.MethodOptions && origin != "" && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Add("Vary", "Access-Control-Request-Method")
			h.Add("Vary", "Access-Control-Request-Headers")
			if !p.allows(origin) || !slices.Contains(methods, r.Header.Get("Access-Control-Request-Method")) ||
				!corsHeadersAllowed(r.Header.Values("Access-Control-Request-Headers")) {
				w.WriteHeader(http.StatusForbidden)
				return
			}
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Methods", allowMethods)
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, DPoP")
			h.Set("Access-Control-Max-Age", corsMaxAge)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if origin != "" && p.allows(origin) {
			h.Set("Access-Control-Allow-Origin", origin)
			// A browser client reads the challenge and the server nonce (RFC 9449 §8).
			h.Set("Access-Control-Expose-Headers", "WWW-Authenticate, DPoP-Nonce")
		}
		next.ServeHTTP(w, r)
	})
}

// corsHeadersAllowed reports whether every header a preflight names is allowed.
func corsHeadersAllowed(lists []string) bool {
	for _, list := range lists {
		for _, name := range strings.Split(list, ",") {
			name = strings.ToLower(strings.TrimSpace(name))
			if name != "" && !slices.Contains(corsAllowedHeaders, name) {
				return false
			}
		}
	}
	return true
}
