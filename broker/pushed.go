package broker

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/inps/sportello/broker/jar"
	"github.com/inps/sportello/broker/par"
	"github.com/inps/sportello/broker/verify/dpop"
)

// pathPAR is the pushed authorization request endpoint (RFC 9126).
const pathPAR = "/oauth/par"

// clientAuthParams are the parameters of client authentication: they authenticate the push
// and are no part of the authorization request.
var clientAuthParams = []string{"client_secret", "client_assertion", "client_assertion_type"}

// parHTTP serves POST /oauth/par (RFC 9126 §2): the client authenticates as at the token
// endpoint (VerifyClient, the same methods), its authorization request is validated as
// /authorize would (so that a bad request fails at the push, where the client reads the error,
// RFC 9126 §2.1), then kept for par.Requests' TTL under a single-use request_uri: 201 with
// request_uri and expires_in, never cached (oauthEndpoint).
func (b *Broker) parHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writePushError(w, r, oidc.ErrInvalidRequest().WithDescription("malformed request body"))
		return
	}
	cc, err := pushCredentials(r)
	if err != nil {
		writePushError(w, r, err)
		return
	}
	client, err := b.VerifyClient(r.Context(), &op.Request[op.ClientCredentials]{Method: r.Method, URL: r.URL,
		Header: r.Header, Form: r.Form, PostForm: r.PostForm, Data: cc})
	if err != nil {
		writePushError(w, r, err)
		return
	}
	cl := b.clientFor(client)
	params := url.Values{}
	for k, vs := range r.PostForm {
		if !slices.Contains(clientAuthParams, k) {
			params[k] = vs
		}
	}
	if _, signed := params["request"]; signed {
		// RFC 9126 §3: a request object is verified at the push; its claims are the request.
		if _, ok := params["client_id"]; !ok {
			params.Set("client_id", cl.id) // authenticated in HTTP Basic or by the assertion
		}
		merged, err := b.jar.Resolve(r.Context(), cl.jarClient(), params)
		if err != nil {
			writePushError(w, r, err)
			return
		}
		params = merged
	} else if cl.requireSigned {
		writePushError(w, r, oidc.ErrInvalidRequest().WithDescription("this client must send a signed request object"))
		return
	}
	if err := bindPushed(r.Context(), params); err != nil {
		writePushError(w, r, err)
		return
	}
	if err := par.CheckPush(cl.id, params); err != nil {
		writePushError(w, r, err)
		return
	}
	if err := b.checkPushed(r, cl, params); err != nil {
		var ae *authorizeError
		if !errors.As(err, &ae) {
			b.log.ErrorContext(r.Context(), "pushed request check failed", "error", err)
			err = op.NewStatusError(errServer(err), http.StatusInternalServerError)
		}
		writePushError(w, r, err)
		return
	}
	pushed, err := b.par.Push(r.Context(), cl.id, params)
	if err != nil {
		writePushError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(pushed)
}

// bindPushed binds a pushed request to the key of its DPoP proof (RFC 9449 §10.1): the proof's
// thumbprint becomes the request's dpop_jkt, so that only that key redeems the code. A
// dpop_jkt sent beside a proof must name the proof's key.
func bindPushed(ctx context.Context, params url.Values) error {
	proof := dpopProof(ctx)
	if proof == nil {
		return nil
	}
	if v, sent := params["dpop_jkt"]; sent && (len(v) != 1 || v[0] != proof.JKT) {
		return op.NewStatusError(&oidc.Error{ErrorType: dpop.CodeInvalidProof,
			Description: "dpop_jkt does not name the key of the DPoP proof"}, http.StatusBadRequest)
	}
	params.Set("dpop_jkt", proof.JKT)
	return nil
}

// pushCredentials reads the client authentication of a push as the op router reads it at the
// token endpoint: one method only, Basic credentials form-urlencoded (RFC 6749 §2.3.1).
func pushCredentials(r *http.Request) (*op.ClientCredentials, error) {
	for _, k := range append([]string{"client_id"}, clientAuthParams...) {
		if len(r.PostForm[k]) > 1 {
			return nil, op.NewStatusError(oidc.ErrInvalidRequest().WithDescription("parameter %s is repeated", k), http.StatusBadRequest)
		}
	}
	f := r.PostForm
	cc := &op.ClientCredentials{ClientID: f.Get("client_id"), ClientSecret: f.Get("client_secret"),
		ClientAssertion: f.Get("client_assertion"), ClientAssertionType: f.Get("client_assertion_type")}
	bad := func(desc string) error {
		return op.NewStatusError(oidc.ErrInvalidRequest().WithDescription("%s", desc), http.StatusBadRequest)
	}
	if cc.ClientAssertion != "" && cc.ClientSecret != "" {
		return nil, bad("client authentication must not use more than one method")
	}
	if id, secret, ok := r.BasicAuth(); ok {
		if cc.ClientAssertion != "" || cc.ClientSecret != "" {
			return nil, bad("client authentication must not use more than one method")
		}
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return nil, op.NewStatusError(oidc.ErrInvalidClient().WithDescription("invalid basic auth header"), http.StatusUnauthorized)
		}
		if cc.ClientID != "" && cc.ClientID != id {
			return nil, bad("client_id differs from the authenticated client")
		}
		cc.ClientID, cc.ClientSecret = id, secret
	}
	if cc.ClientID == "" && cc.ClientAssertion == "" {
		return nil, bad("client_id or client_assertion must be provided")
	}
	if cc.ClientAssertion != "" && cc.ClientAssertionType != oidc.ClientAssertionTypeJWTAssertion {
		return nil, bad("client_assertion_type must be " + oidc.ClientAssertionTypeJWTAssertion)
	}
	return cc, nil
}

// checkPushed validates a pushed authorization request as /authorize validates a request:
// a registered redirect URI, then every rule of newLogin.
func (b *Broker) checkPushed(r *http.Request, cl *Client, params url.Values) error {
	if _, ok := params["request"]; ok {
		return redirectErr(oidc.ErrRequestNotSupported().WithDescription("a request object inside a request object"))
	}
	if !cl.allowsGrant(oidc.GrantTypeCode) {
		return redirectErr(oidc.ErrUnauthorizedClient().WithDescription("client may not use the authorization code flow"))
	}
	var req oidc.AuthRequest
	if err := authDecoder.Decode(&req, params); err != nil {
		return redirectErr(oidc.ErrInvalidRequest().WithDescription("malformed authorization request"))
	}
	if req.RedirectURI == "" || !slices.Contains(cl.redirects, req.RedirectURI) {
		return redirectErr(oidc.ErrInvalidRequest().WithDescription("redirect_uri is not registered for the client"))
	}
	check := r.Clone(r.Context())
	check.Form = params
	_, err := b.newLogin(check, cl, &req)
	return err
}

// resolveRequest puts the parameters of a pushed request (request_uri, RFC 9126 §4: client_id
// and request_uri alone, the rest from the push) or of a request object (request, RFC 9101:
// its verified claims) in r.Form, or answers with a page and returns false: until they are
// resolved there is no redirect URI to answer to.
func (b *Broker) resolveRequest(w http.ResponseWriter, r *http.Request) bool {
	if _, pushed := r.Form["request_uri"]; pushed {
		return b.redeemPushed(w, r)
	}
	if _, signed := r.Form["request"]; signed {
		return b.resolveSigned(w, r)
	}
	return true
}

// checkArrival applies the client's rules on how its requests arrive: pushed (par.required,
// require_pushed_authorization_requests), in a signed request object
// (require_signed_request_object; a pushed request of such a client was one at the push).
func (b *Broker) checkArrival(r *http.Request, cl *Client) error {
	switch {
	case (b.cfg.PAR.Required || cl.requirePAR) && !pushedRequest(r):
		return redirectErr(oidc.ErrInvalidRequest().WithDescription("this client must push its authorization requests (PAR)"))
	case cl.requireSigned && !signedRequest(r) && !pushedRequest(r):
		return redirectErr(oidc.ErrInvalidRequest().WithDescription("this client must send a signed request object"))
	}
	return nil
}

// ctxPushed marks a request whose parameters came from a redeemed pushed request.
type ctxPushed struct{}

func pushedRequest(r *http.Request) bool { return r.Context().Value(ctxPushed{}) != nil }

// redeemPushed replaces the parameters of an /authorize request naming a request_uri with the
// pushed request's (single use, bound to the client that pushed it), or answers with a page
// and returns false.
func (b *Broker) redeemPushed(w http.ResponseWriter, r *http.Request) bool {
	uri, clientID, _, err := par.FromAuthorize(r.Form)
	if err != nil {
		b.errorPage(w, r, http.StatusBadRequest, "oauth.request_uri", err)
		return false
	}
	if _, ok := b.client(clientID); !ok {
		b.errorPage(w, r, http.StatusBadRequest, "oauth.unknown_client", errors.New("unknown client_id"))
		return false
	}
	params, err := b.par.Redeem(r.Context(), clientID, uri)
	var pe *par.Error
	switch {
	case errors.As(err, &pe):
		b.errorPage(w, r, http.StatusBadRequest, "oauth.request_uri", err)
		return false
	case err != nil:
		b.unavailablePage(w, r, err)
		return false
	}
	*r = *r.WithContext(context.WithValue(r.Context(), ctxPushed{}, true))
	r.Form, r.PostForm = params, nil
	return true
}

// ctxSigned marks a request whose parameters came from a verified request object.
type ctxSigned struct{}

func signedRequest(r *http.Request) bool { return r.Context().Value(ctxSigned{}) != nil }

// resolveSigned replaces the parameters of an /authorize request carrying a request object
// with the object's verified claims (RFC 9101 §6.3), or answers with a page and returns
// false: until the object is verified its redirect_uri is not to be trusted.
func (b *Broker) resolveSigned(w http.ResponseWriter, r *http.Request) bool {
	cl, ok := b.client(r.Form.Get("client_id"))
	if !ok {
		b.errorPage(w, r, http.StatusBadRequest, "oauth.unknown_client", errors.New("unknown client_id"))
		return false
	}
	params, err := b.jar.Resolve(r.Context(), cl.jarClient(), r.Form)
	var je *jar.Error
	switch {
	case errors.As(err, &je):
		b.errorPage(w, r, http.StatusBadRequest, "oauth.request_object", err)
		return false
	case err != nil:
		b.unavailablePage(w, r, err)
		return false
	}
	*r = *r.WithContext(context.WithValue(r.Context(), ctxSigned{}, true))
	r.Form, r.PostForm = params, nil
	return true
}

// writePushError is the one writer of the push's refusals, in the shape of the token
// endpoint's errors (RFC 9126 §2.3 refers to RFC 6749 §5.2): a JSON body of error and
// error_description through the op router's writer; oauthEndpoint adds Cache-Control:
// no-store and, to a 401, WWW-Authenticate (RFC 6749 §5.2). The status is pushError's.
func writePushError(w http.ResponseWriter, r *http.Request, err error) {
	op.WriteError(w, r, pushError(err), nil)
}

// pushError maps a refusal of the push to its OAuth error and status: a refusal of package par
// or jar 400 with its code (invalid_request, invalid_request_uri, invalid_request_object), a
// rule of the authorization request 400 with its code, invalid_client 401 (RFC 6749 §5.2), an
// error that carries its status that status; anything else is a failure of the Store (or the
// random source): 503 temporarily_unavailable, its cause hidden.
func pushError(err error) error {
	var (
		pe *par.Error
		je *jar.Error
		ae *authorizeError
		se op.StatusError
		oe *oidc.Error
	)
	switch {
	case errors.As(err, &pe):
		e := oidc.ErrInvalidRequest()
		if pe.Code == par.CodeInvalidRequestURI {
			e = errInvalidRequestURI()
		}
		return op.NewStatusError(e.WithDescription("%s", pe.Description), http.StatusBadRequest)
	case errors.As(err, &je):
		e := oidc.ErrInvalidRequest()
		if je.Code == jar.CodeInvalidRequestObject {
			e = errInvalidRequestObject()
		}
		return op.NewStatusError(e.WithDescription("%s", je.Description), http.StatusBadRequest)
	case errors.As(err, &ae):
		return op.NewStatusError(ae.err, oauthStatus(ae.err))
	case errors.As(err, &se):
		return se
	case errors.As(err, &oe):
		return op.NewStatusError(oe, oauthStatus(oe))
	}
	return storeError(err)
}

// oauthStatus is the status of an OAuth error without one of its own (RFC 6749 §5.2): 401 for
// invalid_client, 400 otherwise.
func oauthStatus(e *oidc.Error) int {
	if e.ErrorType == oidc.InvalidClient {
		return http.StatusUnauthorized
	}
	return http.StatusBadRequest
}
