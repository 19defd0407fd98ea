package broker

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/inps/sportello/broker/claims"
	"github.com/inps/sportello/broker/verify/dpop"
)

// DPoP (RFC 9449) at the broker's endpoints. The token endpoint and PAR check a proof sent in
// the DPoP header before anything else (client authentication included: a proof that fails
// consumes no client assertion), with server nonces required (§8); userinfo checks the proof
// that must come with a DPoP-bound token (§7), without nonces. Every replica accepts the
// proofs and nonces of the others: a proof's jti is recorded in the Store with put-if-absent
// until the proof is too old to be accepted anywhere, and the nonces are an HMAC of the time
// window under a key derived from the shared crypto key.

// dpopNonceKeyLabel derives the nonce key from the crypto key: the nonces are MACs under a key
// of their own, never the key that seals state.
const dpopNonceKeyLabel = "sportello/dpop-nonce-key/v1"

// dpopClockSkew is the replay record's margin beyond the proof's acceptance: replicas whose
// clocks differ by up to this much still see the jti.
const dpopClockSkew = dpop.DefaultSkew

// dpopCheckers builds the proof checkers: the authorization server's (token endpoint, PAR)
// with nonces, the resource's (userinfo) without.
func (b *Broker) dpopCheckers() error {
	m := hmac.New(sha256.New, b.cryptoKey)
	m.Write([]byte(dpopNonceKeyLabel))
	now := func() time.Time { return b.now() }
	nonces, err := dpop.NewNonces(m.Sum(nil), 0, now)
	if err != nil {
		return err
	}
	replay := dpop.ReplayFunc(func(ctx context.Context, key string, exp time.Time) (bool, error) {
		ttl := max(exp.Sub(b.now())+dpopClockSkew, time.Second)
		fresh, err := b.store.PutIfAbsent(ctx, dpopJTIKey(key), []byte("1"), ttl)
		return !fresh, err
	})
	if b.dpopAS, err = dpop.NewChecker(dpop.Options{Replay: replay, Nonces: nonces, Now: now}); err != nil {
		return err
	}
	b.dpopRS, err = dpop.NewChecker(dpop.Options{Replay: replay, Now: now})
	return err
}

// ctxDPoP carries the checked proof of a token or PAR request (*dpop.Proof).
type ctxDPoP struct{}

// dpopProof is the checked proof of the request, nil when it came without one.
func dpopProof(ctx context.Context) *dpop.Proof {
	p, _ := ctx.Value(ctxDPoP{}).(*dpop.Proof)
	return p
}

// withDPoP checks the DPoP proof of a request to the authorization server's endpoint at uri
// (htm the request's method, htu uri: the public URL of the endpoint called, the mTLS alias on
// the mutual-TLS listener, RFC 9449 §4.3) and hands it on in
// the context; a request without the header goes on without a proof. Every answer to a
// request with a proof carries the current nonce (§8.2: a client keeps it for its next
// proof); a proof without a valid one is answered use_dpop_nonce with it (§8), any other
// refusal 400 invalid_dpop_proof (§5, §7.1), a store failure 503.
func (b *Broker) withDPoP(next http.Handler, uri string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.Header.Values("DPoP")) == 0 {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("DPoP-Nonce", b.dpopAS.Nonce())
		raw, err := dpop.FromHeader(r.Header)
		var proof *dpop.Proof
		if err == nil {
			proof, err = b.dpopAS.Check(r.Context(), raw, dpop.Request{Method: r.Method, URI: uri})
		}
		if err != nil {
			b.log.InfoContext(r.Context(), "dpop proof refused", "endpoint", uri, "error", err)
			op.WriteError(w, r, dpopError(err), nil)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxDPoP{}, proof)))
	})
}

// dpopError maps a refused proof to its OAuth error: 400 use_dpop_nonce (the DPoP-Nonce
// header says which, set by the caller) or invalid_dpop_proof with the rule it broke; a store
// failure to 503.
func dpopError(err error) error {
	switch dpop.ErrorCode(err) {
	case dpop.CodeUseNonce:
		return op.NewStatusError(&oidc.Error{ErrorType: dpop.CodeUseNonce,
			Description: "a DPoP proof with the server nonce of the DPoP-Nonce header is required"}, http.StatusBadRequest)
	case dpop.CodeInvalidProof:
		return op.NewStatusError(&oidc.Error{ErrorType: dpop.CodeInvalidProof, Description: proofRule(err)}, http.StatusBadRequest)
	}
	return storeError(err)
}

// proofRules are the refusals of dpop.Check whose rule the client is told; their messages
// name the rule and nothing of the proof.
var proofRules = []error{dpop.ErrHeaderCount, dpop.ErrType, dpop.ErrAlgorithm, dpop.ErrKey, dpop.ErrSignature,
	dpop.ErrClaim, dpop.ErrMethod, dpop.ErrURI, dpop.ErrIssuedAt, dpop.ErrTokenHash, dpop.ErrKeyMismatch,
	dpop.ErrReplay, dpop.ErrMalformed}

// proofRule is the description of a refused proof: the rule it broke, without the detail of
// a wrapped parser error.
func proofRule(err error) string {
	for _, rule := range proofRules {
		if errors.Is(err, rule) {
			return "DPoP proof refused: " + strings.TrimPrefix(rule.Error(), dpop.ErrInvalidProof.Error()+": ")
		}
	}
	return "DPoP proof refused"
}

// errDPoPRequired answers a token request without a proof from a client registered with
// dpop_bound_access_tokens (RFC 9449 §5.2: the request is refused; a required header is
// missing, RFC 6749 §5.2 invalid_request).
func errDPoPRequired() error {
	return oidc.ErrInvalidRequest().WithDescription("this client must send a DPoP proof (dpop_bound_access_tokens)")
}

// tokenProof is the proof of a token request by cl: nil when none came, an error when the
// client must always send one.
func tokenProof(ctx context.Context, cl *Client) (*dpop.Proof, error) {
	p := dpopProof(ctx)
	if p == nil && cl.dpopBound {
		return nil, errDPoPRequired()
	}
	return p, nil
}

// checkBoundKey refuses a grant bound to the key of thumbprint jkt (a code of an authorization
// request with dpop_jkt, RFC 9449 §10; a public client's refresh token, §5) when the request's
// proof is not by that key: invalid_grant, the grant is not the presenter's.
func checkBoundKey(jkt string, p *dpop.Proof, what string) error {
	switch {
	case jkt == "":
		return nil
	case p == nil:
		return errInvalidGrant(what + " is bound to a DPoP key: a DPoP proof by that key is required")
	case !hmac.Equal([]byte(p.JKT), []byte(jkt)):
		return errInvalidGrant(what + " is bound to another DPoP key")
	}
	return nil
}

// proofJKT is the thumbprint a new access token is bound to: the proof's key, none without.
func proofJKT(p *dpop.Proof) string {
	if p == nil {
		return ""
	}
	return p.JKT
}

// confirmation is the cnf claim of a token bound to jkt, nil for a bearer token.
func confirmation(jkt string) *claims.Confirmation {
	if jkt == "" {
		return nil
	}
	return &claims.Confirmation{JKT: jkt}
}

// tokenType is the token_type of an access token (RFC 9449 §5: DPoP when bound).
func tokenType(jkt string) string {
	if jkt != "" {
		return tokenTypeDPoP
	}
	return oidc.BearerToken
}

// tokenTypeDPoP is the token_type and Authorization scheme of a DPoP-bound token (RFC 9449
// §5, §7.1).
const tokenTypeDPoP = "DPoP"

// validJKT reports whether s has the form of a base64url SHA-256 thumbprint (dpop_jkt, RFC
// 9449 §10): 43 characters of the URL-safe alphabet.
func validJKT(s string) bool {
	if len(s) != 43 {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// resourceAuth is how a userinfo request presented its token, and what the answer's challenge
// must be: set by oauthEndpoint, read by UserInfo and by the challenge.
type resourceAuth struct {
	// dpop: the token came in Authorization: DPoP (RFC 9449 §7.1), with the request's
	// headers (its proof), method and the public URL of the endpoint called (the mTLS alias
	// on the mutual-TLS listener) for htm and htu (§4.3).
	dpop   bool
	header http.Header
	method string
	uri    string
	// bound: the token presented is DPoP-bound, so a refusal challenges with DPoP.
	bound bool
}

// ctxResourceAuth carries the *resourceAuth of a userinfo request.
type ctxResourceAuth struct{}

// withResourceAuth reads the scheme of a userinfo request's Authorization header: a DPoP
// token is handed to the op router as a bearer one (it reads that scheme only), and the
// request remembers that it came with DPoP. uri is the endpoint's public URL on the listener
// that was called.
func withResourceAuth(r *http.Request, uri string) (*http.Request, *resourceAuth) {
	ra := &resourceAuth{header: r.Header, method: r.Method, uri: uri}
	if scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, tokenTypeDPoP) {
		ra.dpop = true
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", oidc.PrefixBearer+strings.TrimLeft(tok, " "))
	}
	return r.WithContext(context.WithValue(r.Context(), ctxResourceAuth{}, ra)), ra
}

// dpopBound reports whether c is DPoP-bound (cnf.jkt); a certificate binding is
// checkCertBound's.
func dpopBound(c *claims.Access) bool { return c.Confirmation != nil && c.Confirmation.JKT != "" }

// noteDPoPBound records that the verified token c of a userinfo request is DPoP-bound as soon
// as its claims are read, before anything may refuse it: a refusal for any reason (revoked, of
// no person, without its certificate) then challenges with DPoP (RFC 9449 §7.1), not Bearer.
func noteDPoPBound(ctx context.Context, c *claims.Access) {
	if ra, _ := ctx.Value(ctxResourceAuth{}).(*resourceAuth); ra != nil {
		ra.bound = dpopBound(c)
	}
}

// checkResourceProof applies RFC 9449 §7 to an accepted access token c presented as tok: a
// DPoP-bound token only with the DPoP scheme and a proof by its key for this request (htm,
// htu, ath); a bearer token only with the Bearer scheme. Refusals are 401 invalid_token or
// invalid_dpop_proof, a store failure 503.
func (b *Broker) checkResourceProof(ctx context.Context, c *claims.Access, tok string) error {
	ra, _ := ctx.Value(ctxResourceAuth{}).(*resourceAuth)
	if ra == nil {
		ra = &resourceAuth{} // not through oauthEndpoint: as if sent with the Bearer scheme
	}
	ra.bound = dpopBound(c)
	switch {
	case !ra.bound && ra.dpop:
		return op.NewStatusError(errInvalidTokenBearer("the access token is not DPoP-bound: send it with the Bearer scheme"), http.StatusUnauthorized)
	case !ra.bound:
		return nil
	case !ra.dpop:
		return op.NewStatusError(errInvalidTokenBearer("the access token is DPoP-bound: send it with the DPoP scheme and a DPoP proof"), http.StatusUnauthorized)
	}
	raw, err := dpop.FromHeader(ra.header)
	if err == nil {
		_, err = b.dpopRS.Check(ctx, raw, dpop.Request{Method: ra.method, URI: ra.uri, AccessToken: tok, JKT: c.Confirmation.JKT})
	}
	if dpop.ErrorCode(err) == dpop.CodeInvalidProof {
		b.log.InfoContext(ctx, "dpop proof refused", "endpoint", ra.uri, "error", err)
		return op.NewStatusError(&oidc.Error{ErrorType: dpop.CodeInvalidProof, Description: proofRule(err)}, http.StatusUnauthorized)
	} else if err != nil {
		return storeError(err)
	}
	return nil
}

// dpopChallenge is the WWW-Authenticate of a refused request whose token is DPoP-bound or came
// with the DPoP scheme (RFC 9449 §7.1): DPoP, the accepted algorithms, and the error of the
// body.
func (b *Broker) dpopChallenge(status int, body []byte) (int, string) {
	status, v := b.bearerChallenge(status, body)
	if v == "" {
		return status, ""
	}
	v = strings.TrimPrefix(v, "Bearer ")
	return status, tokenTypeDPoP + " algs=" + quoteAuthParam(strings.Join(b.dpopRS.Algorithms(), " ")) + ", " + v
}
