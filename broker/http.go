package broker

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/internal/web" // ui: static files
	"github.com/inps/sportello/providers"
)

// Endpoint paths.
const (
	pathAuthorize  = "/authorize"
	pathToken      = "/oauth/token"
	pathIntrospect = "/oauth/introspect"
	pathRevoke     = "/oauth/revoke"
	pathUserinfo   = "/userinfo"
	pathEndSession = "/end_session"
	pathJWKS       = "/jwks"
	pathDiscovery  = "/.well-known/openid-configuration"
	// pathASMetadata is RFC 8414's authorization server metadata: the same document.
	pathASMetadata = "/.well-known/oauth-authorization-server"
)

func (b *Broker) routes() http.Handler {
	// zitadel's op router serves the token-side endpoints (request decoding, client
	// authentication parsing, OAuth error encoding); the broker implements op.Server. Its
	// CORS layer (any origin, with credentials) is off: corsPolicy replaces it.
	opHandler := op.RegisterServer(b, op.Endpoints{
		Token:         op.NewEndpoint(pathToken),
		Introspection: op.NewEndpoint(pathIntrospect),
		Userinfo:      op.NewEndpoint(pathUserinfo),
		Revocation:    op.NewEndpoint(pathRevoke),
	}, op.WithServerCORSOptions(nil))
	cors := &corsPolicy{live: func() *corsPolicy { return b.clients.Load().cors }}
	b.oauth = func(mux *http.ServeMux, mtls bool) {
		wrap := func(h http.Handler) http.Handler { return h }
		introspect := opHandler
		// base is the public URL of this listener: a DPoP proof's htu is the URL of the
		// endpoint actually called (RFC 9449 §4.3), the mTLS alias on the mutual-TLS listener.
		base := b.issuer
		if mtls {
			wrap, introspect = b.withClientCert, b.certIntrospection(opHandler)
			base = b.mtlsURL()
		}
		for name, path := range map[string]string{"token": pathToken, "revoke": pathRevoke} {
			h := http.Handler(opHandler)
			if path == pathToken {
				h = b.withDPoP(h, base+path) // RFC 9449 §5
			}
			mux.Handle(path, b.withCommon(cors.wrap(wrap(b.oauthEndpoint(h, path, base)), http.MethodPost), name))
		}
		mux.Handle(pathIntrospect, b.withCommon(cors.wrap(wrap(b.oauthEndpoint(introspect, pathIntrospect, base)), http.MethodPost), "introspect"))
		mux.Handle(pathPAR, b.withCommon(cors.wrap(wrap(b.oauthEndpoint(b.withDPoP(http.HandlerFunc(b.parHTTP), base+pathPAR), pathPAR, base)), http.MethodPost), "par"))
		mux.Handle(pathUserinfo, b.withCommon(cors.wrap(wrap(b.oauthEndpoint(opHandler, pathUserinfo, base)), http.MethodGet, http.MethodPost), "userinfo"))
	}
	mux := http.NewServeMux()
	b.oauth(mux, false)
	mux.Handle(pathDiscovery, b.withCommon(staticJSON(func() []byte { return b.discovery }), "discovery"))
	mux.Handle(pathASMetadata, b.withCommon(staticJSON(func() []byte { return b.discovery }), "discovery"))
	mux.Handle(pathJWKS, b.withCommon(staticJSON(func() []byte { return b.keys.JWKS() }), "jwks"))
	mux.Handle(pathAuthorize, b.withCommon(b.ensureBrowserID(http.HandlerFunc(b.authorizeHTTP)), "authorize"))
	mux.Handle(pathEndSession, b.withCommon(b.ensureBrowserID(http.HandlerFunc(b.endSessionHTTP)), "end_session"))
	mux.Handle("/logged-out", b.withCommon(http.HandlerFunc(b.loggedOutHTTP), "logged_out"))
	mux.Handle("/login/done", b.withCommon(http.HandlerFunc(b.doneHTTP), "login_done"))
	mux.Handle(pathLoginError, b.withCommon(http.HandlerFunc(b.loginErrorHTTP), "login_error"))
	mux.Handle(pathLoginUnavailable, b.withCommon(http.HandlerFunc(b.loginUnavailableHTTP), "login_unavailable"))
	mux.Handle(pathSignIn, b.withCommon(b.ensureBrowserID(http.HandlerFunc(b.signInHTTP)), "signin"))
	mux.Handle(pathSignInDone, b.withCommon(http.HandlerFunc(b.signInDoneHTTP), "signin_done"))
	mux.Handle("/", b.withCommon(http.HandlerFunc(b.notFoundHTTP), "not_found")) // ui: a page for unknown addresses
	mux.Handle("/login/act", b.withCommon(http.HandlerFunc(b.actForHTTP), "login_act"))
	mux.Handle("/login/", b.withCommon(b.ensureBrowserID(http.HandlerFunc(b.loginHTTP)), "login"))
	mux.Handle("/healthz", b.withCommon(http.HandlerFunc(b.healthHTTP), "healthz"))
	mux.Handle("/readyz", b.withCommon(http.HandlerFunc(b.readyHTTP), "readyz"))
	mux.Handle("/metrics", b.metrics.handler())
	mux.Handle(web.StaticPrefix, b.withCommon(web.Static(), "static")) // ui: Bootstrap Italia CSS, fonts, icons, scripts
	mux.Handle("/favicon.ico", b.withCommon(web.Favicon(), "static"))
	for _, p := range b.provs {
		rp, ok := p.(providers.RouteProvider)
		if !ok {
			continue
		}
		h := rp.Handler(b.Finisher())
		for _, route := range rp.Routes() {
			page := h
			if !strings.HasPrefix(route, "/admin/") {
				// Citizens reach provider pages directly too (request a PIN, lost PIN): their
				// forms' CSRF tokens are bound to the browser cookie, set when a page is shown
				// (GET). Never on a POST: the SAML POST back from the IdP is cross-site and
				// carries no cookie, and a new one would unbind the login in progress.
				page = b.ensureBrowserIDOnGet(h)
			}
			mux.Handle(route, b.withCommon(page, "provider_"+p.Info().ID))
		}
	}
	for path, h := range b.routesExtra {
		mux.Handle(path, b.withCommon(h, "extra"))
	}
	if b.cfg.Dev {
		for path, h := range b.devRoutes {
			mux.Handle(path, b.withCommon(h, "dev"))
		}
	}
	return mux
}

func staticJSON(body func() []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Header().Set("Access-Control-Allow-Origin", "*")
		_, _ = w.Write(body())
	})
}

func (b *Broker) healthHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"status":"ok"}`))
}

type ctxRequestID struct{}
type ctxNonce struct{}

func requestID(ctx context.Context) string {
	s, _ := ctx.Value(ctxRequestID{}).(string)
	return s
}

func cspNonce(r *http.Request) string {
	s, _ := r.Context().Value(ctxNonce{}).(string)
	return s
}

// statusWriter records the status code for metrics and logs.
type statusWriter struct {
	http.ResponseWriter
	status int
}

// WriteHeader records code. A 503 (the store or another dependency down) says when to try
// again, page or JSON alike, unless the handler named its own wait (RFC 9110 §10.2.3).
func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
		if h := s.Header(); code == http.StatusServiceUnavailable && h.Get("Retry-After") == "" {
			h.Set("Retry-After", retryAfterOutage)
		}
	}
	s.ResponseWriter.WriteHeader(code)
}

// retryAfterOutage is the Retry-After of a 503, in seconds.
var retryAfterOutage = strconv.Itoa(int(store.OutageRetryAfter / time.Second))

func (s *statusWriter) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(p)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// requestIDs are a per-process random prefix plus a counter: unique, cheap, and not a
// secret (they only correlate a page's reference code with the log).
var (
	ridPrefix = func() string {
		var b [6]byte
		_, _ = rand.Read(b[:])
		return base64.RawURLEncoding.EncodeToString(b[:])
	}()
	ridCounter atomic.Uint64
)

func newRequestID() string {
	return ridPrefix + "-" + strconv.FormatUint(ridCounter.Add(1), 36)
}

// maxBodyBytes bounds every request body.
const maxBodyBytes = 2 << 20

// apiEndpoints answer JSON only: no CSP nonce is needed for them.
var apiEndpoints = map[string]bool{"token": true, "par": true, "introspect": true, "userinfo": true, "revoke": true,
	"discovery": true, "jwks": true, "healthz": true, "readyz": true}

// withCommon wraps a handler with the request id, security headers, panic recovery, a log
// line and the request metric. endpoint is a fixed label (never the raw path).
func (b *Broker) withCommon(next http.Handler, endpoint string) http.Handler {
	requests := func(status int) prometheus.Counter {
		return b.metrics.requests.WithLabelValues(endpoint, strconv.Itoa(status))
	}
	ok := requests(http.StatusOK)
	took := b.metrics.duration.WithLabelValues(endpoint)
	api := apiEndpoints[endpoint]
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rid := r.Header.Get("X-Request-Id")
		if rid == "" || len(rid) > 64 {
			rid = newRequestID()
		}
		ctx := context.WithValue(r.Context(), ctxRequestID{}, rid)
		h := w.Header()
		h.Set("X-Request-Id", rid)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		if api {
			h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		} else {
			var nb [16]byte
			_, _ = rand.Read(nb[:])
			nonce := base64.RawStdEncoding.EncodeToString(nb[:])
			ctx = context.WithValue(ctx, ctxNonce{}, nonce)
			h.Set("X-Frame-Options", "DENY")
			b.rememberChosenLang(w, r) // a page: the language switch may have been used
			h.Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'nonce-"+nonce+"'; script-src 'self' 'nonce-"+nonce+
				"'; img-src 'self' data:; form-action *; frame-ancestors 'none'; base-uri 'none'")
		}
		if !b.cfg.Dev {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		r = r.WithContext(ctx)
		// Request bodies are small everywhere (the largest is a 1 MiB PIN conversion upload).
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
		}
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				b.log.ErrorContext(ctx, "panic in handler", "endpoint", endpoint, "panic", p)
				if sw.status == 0 {
					b.errorPage(sw, r, http.StatusInternalServerError, "broker.error", nil)
				}
			}
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			if status == http.StatusOK {
				ok.Inc()
			} else {
				requests(status).Inc()
			}
			took.Observe(time.Since(start).Seconds())
			if status >= 500 || b.log.Enabled(ctx, slog.LevelDebug) {
				b.log.LogAttrs(ctx, slog.LevelInfo, "request", slog.String("request_id", rid), slog.String("endpoint", endpoint),
					slog.String("method", r.Method), slog.Int("status", status), slog.Duration("duration", time.Since(start)))
			}
		}()
		next.ServeHTTP(sw, r)
	})
}
