package verify

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/inps/sportello/broker/verify/dpop"
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

// Middleware verifies the request's access token and puts it in the request context (see
// FromContext): a bearer token (Authorization: Bearer ...; a certificate-bound one only with
// the TLS connection's client certificate it names, RFC 8705 §3), or a DPoP-bound one
// (Authorization: DPoP ... with its proof in the DPoP header, RFC 9449 §7) when the Verifier
// has Options.DPoP. A missing or invalid token gets 401 with WWW-Authenticate: Bearer (or
// DPoP) error="invalid_token"; a bad proof gets 401 with DPoP error="invalid_dpop_proof", a
// proof without the server's nonce DPoP error="use_dpop_nonce" and the nonce in DPoP-Nonce;
// a failing replay cache 503. A person's login below requiredLevel (1..3; 0 accepts any
// token, services' own included) gets 403 with error="insufficient_user_authentication" and
// the acr_values to ask for (RFC 9470).
func Middleware(v *Verifier, requiredLevel int) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			scheme, raw, ok := credentials(r)
			if !ok {
				v.challenge(w, "", "")
				http.Error(w, "missing access token", http.StatusUnauthorized)
				return
			}
			var t *Token
			var err error
			if scheme == "DPoP" && v.o.DPoP != nil {
				proof, herr := dpop.FromHeader(r.Header)
				if herr != nil {
					err = fmt.Errorf("%w: %w", ErrProof, herr)
				} else {
					t, err = v.VerifyDPoP(r.Context(), raw, proof, r.Method, v.requestURI(r))
				}
			} else if scheme == "DPoP" {
				err = ErrProofRequired
			} else {
				t, err = v.VerifyWithCertificate(r.Context(), raw, peerCertificate(r))
			}
			if err != nil {
				var ne *dpop.NonceError
				switch {
				case !errors.Is(err, ErrInvalidToken):
					http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
				case errors.As(err, &ne):
					w.Header().Set("DPoP-Nonce", ne.Nonce)
					v.challenge(w, "DPoP", dpop.CodeUseNonce)
					http.Error(w, "a DPoP nonce is required", http.StatusUnauthorized)
				case errors.Is(err, ErrProof):
					v.challenge(w, "DPoP", dpop.CodeInvalidProof)
					http.Error(w, "invalid DPoP proof", http.StatusUnauthorized)
				default:
					desc := "invalid token"
					if errors.Is(err, ErrExpired) {
						desc = "token expired"
					}
					if scheme == "DPoP" {
						v.challenge(w, "DPoP", "invalid_token")
					} else {
						w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="`+desc+`"`)
					}
					http.Error(w, desc, http.StatusUnauthorized)
				}
				return
			}
			if t.Assurance.Level < requiredLevel {
				w.Header().Set("WWW-Authenticate", scheme+` error="insufficient_user_authentication", error_description="level `+
					strconv.Itoa(requiredLevel)+` required", acr_values="`+acrFor(requiredLevel)+`"`)
				http.Error(w, "insufficient user authentication", http.StatusForbidden)
				return
			}
			next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), t)))
		})
	}
}

// challenge writes WWW-Authenticate: for scheme "" both the Bearer and, when DPoP is
// configured, the DPoP challenge (RFC 9449 §7.1, with the accepted algs).
func (v *Verifier) challenge(w http.ResponseWriter, scheme, code string) {
	if scheme == "" {
		w.Header().Add("WWW-Authenticate", `Bearer realm="inps"`)
		if v.o.DPoP != nil {
			w.Header().Add("WWW-Authenticate", `DPoP realm="inps", algs="`+strings.Join(v.o.DPoP.Algorithms(), " ")+`"`)
		}
		return
	}
	h := `DPoP error="` + code + `"`
	if v.o.DPoP != nil {
		h += `, algs="` + strings.Join(v.o.DPoP.Algorithms(), " ") + `"`
	}
	w.Header().Set("WWW-Authenticate", h)
}

// requestURI is the URI the client addressed (htu): BaseURL, or the request's scheme and
// Host, with the path.
func (v *Verifier) requestURI(r *http.Request) string {
	base := strings.TrimSuffix(v.o.BaseURL, "/")
	if base == "" {
		base = "http://" + r.Host
		if r.TLS != nil {
			base = "https://" + r.Host
		}
	}
	return base + r.URL.EscapedPath()
}

// credentials returns the Authorization scheme (Bearer or DPoP, as written here) and token.
func credentials(r *http.Request) (string, string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	tok = strings.TrimSpace(tok)
	if !ok || tok == "" {
		return "", "", false
	}
	switch {
	case strings.EqualFold(scheme, "Bearer"):
		return "Bearer", tok, true
	case strings.EqualFold(scheme, "DPoP"):
		return "DPoP", tok, true
	}
	return "", "", false
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

// peerCertificate is the client certificate of r's TLS connection (RFC 8705 §3), nil without
// one. Behind a proxy that terminates TLS, call VerifyWithCertificate with the certificate it
// forwards instead.
func peerCertificate(r *http.Request) *x509.Certificate {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return nil
	}
	return r.TLS.PeerCertificates[0]
}
