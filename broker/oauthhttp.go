package broker

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// The HTTP rules of the token-side endpoints (token, introspection, revocation, userinfo) that
// zitadel's op router leaves to the server: it routes every method and reads parameters from
// the query string and the body alike.
//
//   - Responses carry tokens or say whether a token is live: never cached (RFC 6749 §5.1,
//     OIDC Core §5.3.2), errors included.
//   - Token, introspection and revocation take POST only (RFC 6749 §3.2, RFC 7662 §2.1,
//     RFC 7009 §2.1); userinfo GET or POST (OIDC Core §5.3.1). Other methods: 405 with Allow.
//     (CORS preflights are answered before, by corsPolicy.)
//   - Their parameters come from the body only: a URL ends up in access logs and browser
//     history, so a credential or token in it is refused (invalid_request) and the rest of the
//     query string is ignored. Userinfo refuses ?access_token= (RFC 9700 §4.3.2 advises against
//     RFC 6750 §2.3), and a token sent in two ways (RFC 6750 §2).
//   - invalid_client is always 401, and a 401 names the authentication scheme (RFC 9110
//     §11.6.1): Basic at the token-side endpoints (RFC 6749 §5.2; the op router answers some
//     client-authentication failures with 400), Bearer with the error at userinfo (RFC 6750 §3).

// urlCredentials are the parameters never accepted in a URL.
var urlCredentials = []string{"client_secret", "client_assertion", "code", "code_verifier", "refresh_token", "token",
	"subject_token", "actor_token", "assertion", "access_token", "password"}

// oauthEndpoint wraps the op router for the endpoint at path of the listener whose public URL
// is base (the issuer, or the mTLS alias base on the mutual-TLS listener).
func (b *Broker) oauthEndpoint(next http.Handler, path, base string) http.Handler {
	userinfo := path == pathUserinfo
	allow := http.MethodPost
	if userinfo {
		allow = http.MethodGet + ", " + http.MethodPost
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("Pragma", "no-cache")
		if r.Method != http.MethodPost && (!userinfo || r.Method != http.MethodGet) {
			h.Set("Allow", allow)
			writeOAuthError(w, r, oidc.ErrInvalidRequest().WithDescription("use %s", strings.ReplaceAll(allow, ", ", " or ")), http.StatusMethodNotAllowed)
			return
		}
		query, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			writeOAuthError(w, r, oidc.ErrInvalidRequest().WithDescription("malformed query string"), http.StatusBadRequest)
			return
		}
		for _, k := range urlCredentials {
			if hasParam(query, k) {
				writeOAuthError(w, r, oidc.ErrInvalidRequest().WithDescription("%s must not be sent in the URL", k), http.StatusBadRequest)
				return
			}
		}
		if r.URL.RawQuery != "" {
			// The op router reads r.Form, the query included: leave it the body only.
			u := *r.URL
			u.RawQuery = ""
			r = r.WithContext(r.Context())
			r.URL = &u
		}
		if userinfo {
			if err := r.ParseForm(); err != nil {
				writeOAuthError(w, r, oidc.ErrInvalidRequest().WithDescription("malformed request body"), http.StatusBadRequest)
				return
			}
			if hasParam(r.PostForm, "access_token") && r.Header.Get("Authorization") != "" {
				writeOAuthError(w, r, oidc.ErrInvalidRequest().WithDescription("send the access token in one way only"), http.StatusBadRequest)
				return
			}
		}
		cw := &challengeWriter{ResponseWriter: w, challenge: b.basicChallenge}
		if userinfo {
			var ra *resourceAuth
			r, ra = withResourceAuth(r, base+path)
			cw.challenge = func(status int, body []byte) (int, string) {
				if ra.dpop || ra.bound {
					return b.dpopChallenge(status, body)
				}
				return b.bearerChallenge(status, body)
			}
		}
		next.ServeHTTP(cw, r)
		cw.finish()
	})
}

// hasParam reports whether v names parameter k in any letter case: the op router's form
// decoder matches names case-insensitively.
func hasParam(v url.Values, k string) bool {
	for name := range v {
		if strings.EqualFold(name, k) {
			return true
		}
	}
	return false
}

// writeOAuthError answers with an OAuth error body and status.
func writeOAuthError(w http.ResponseWriter, r *http.Request, e *oidc.Error, status int) {
	op.WriteError(w, r, op.NewStatusError(e, status), nil)
}

// basicChallenge makes a failed client authentication at a token-side endpoint a 401 with
// WWW-Authenticate: Basic.
func (b *Broker) basicChallenge(status int, body []byte) (int, string) {
	if status == http.StatusBadRequest && oauthErrorCode(body) == string(oidc.InvalidClient) {
		status = http.StatusUnauthorized
	}
	if status != http.StatusUnauthorized {
		return status, ""
	}
	return status, `Basic realm=` + quoteAuthParam(b.issuer)
}

// oauthErrorCode is the error member of an OAuth error body.
func oauthErrorCode(body []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(body, &e)
	return e.Error
}

// bearerChallenge is the WWW-Authenticate of a refused userinfo request: the error code and
// description of the body, except for a request that carried no token at all (RFC 6750 §3.1).
func (b *Broker) bearerChallenge(status int, body []byte) (int, string) {
	if status != http.StatusUnauthorized && status != http.StatusForbidden && status != http.StatusBadRequest {
		return status, ""
	}
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	_ = json.Unmarshal(body, &e)
	v := `Bearer realm=` + quoteAuthParam(b.issuer)
	if e.Error == "" || (status == http.StatusUnauthorized && e.Error == string(oidc.InvalidRequest)) {
		return status, v // no token presented
	}
	v += `, error=` + quoteAuthParam(e.Error)
	if e.Description != "" {
		v += `, error_description=` + quoteAuthParam(e.Description)
	}
	return status, v
}

// quoteAuthParam quotes s as an auth-param value, keeping only the characters RFC 6750 §3
// allows in error and error_description (printable ASCII without '"' and '\').
func quoteAuthParam(s string) string {
	var sb strings.Builder
	sb.WriteByte('"')
	for _, c := range []byte(s) {
		if c >= 0x20 && c <= 0x7e && c != '"' && c != '\\' {
			sb.WriteByte(c)
		}
	}
	sb.WriteByte('"')
	return sb.String()
}

// challengeWriter holds back a refusal (400, 401, 403) until the handler has written it, so
// that its status and WWW-Authenticate header can be made from the error in its body.
type challengeWriter struct {
	http.ResponseWriter
	challenge func(status int, body []byte) (int, string)
	status    int
	held      bool
	buf       bytes.Buffer
}

func (c *challengeWriter) WriteHeader(code int) {
	if c.status != 0 {
		return
	}
	c.status = code
	if code == http.StatusBadRequest || code == http.StatusUnauthorized || code == http.StatusForbidden {
		c.held = true
		return
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *challengeWriter) Write(p []byte) (int, error) {
	if c.status == 0 {
		c.WriteHeader(http.StatusOK)
	}
	if c.held {
		return c.buf.Write(p)
	}
	return c.ResponseWriter.Write(p)
}

// finish sends a held refusal with its challenge.
func (c *challengeWriter) finish() {
	if !c.held {
		return
	}
	status, v := c.challenge(c.status, c.buf.Bytes())
	if v != "" {
		c.Header().Set("WWW-Authenticate", v)
	}
	c.ResponseWriter.WriteHeader(status)
	_, _ = c.ResponseWriter.Write(c.buf.Bytes())
}

func (c *challengeWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }
