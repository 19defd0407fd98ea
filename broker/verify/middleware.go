package verify

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
)

type ctxKey struct{}

// NewContext returns ctx carrying t.
func NewContext(ctx context.Context, t *Token) context.Context {
	return context.WithValue(ctx, ctxKey{}, t)
}

// FromContext returns the token Middleware verified for this request.
func FromContext(ctx context.Context) (*Token, bool) {
	t, ok := ctx.Value(ctxKey{}).(*Token)
	return t, ok && t != nil
}

// Middleware verifies the request's bearer token (Authorization: Bearer ...) and puts it in
// the request context (see FromContext). A missing or invalid token gets 401 with
// WWW-Authenticate: Bearer error="invalid_token"; a person's login below requiredLevel (1..3;
// 0 accepts any token, services' own included) gets 403 with
// error="insufficient_user_authentication" and the acr_values to ask for (RFC 9470).
func Middleware(v *Verifier, requiredLevel int) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			raw, ok := bearer(r)
			if !ok {
				w.Header().Set("WWW-Authenticate", `Bearer realm="inps"`)
				http.Error(w, "missing bearer token", http.StatusUnauthorized)
				return
			}
			t, err := v.Verify(r.Context(), raw)
			if err != nil {
				desc := "invalid token"
				if errors.Is(err, ErrExpired) {
					desc = "token expired"
				}
				w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="`+desc+`"`)
				http.Error(w, desc, http.StatusUnauthorized)
				return
			}
			if t.Assurance.Level < requiredLevel {
				w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_user_authentication", error_description="level `+
					strconv.Itoa(requiredLevel)+` required", acr_values="`+acrFor(requiredLevel)+`"`)
				http.Error(w, "insufficient user authentication", http.StatusForbidden)
				return
			}
			next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), t)))
		})
	}
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if len(h) < 7 || !strings.EqualFold(h[:7], "bearer ") {
		return "", false
	}
	tok := strings.TrimSpace(h[7:])
	return tok, tok != ""
}

func acrFor(level int) string {
	switch {
	case level <= 1:
		return SpidL1
	case level == 2:
		return SpidL2
	}
	return SpidL3
}
