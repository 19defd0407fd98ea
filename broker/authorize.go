package broker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/schema"

	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/internal/switches"
	"github.com/inps/sportello/providers"
)

// loginRecord is a pending authorisation (key "login:<id>"), from /authorize until a code is
// issued.
type loginRecord struct {
	ID                  string   `json:"id"`
	ClientID            string   `json:"client_id"`
	RedirectURI         string   `json:"redirect_uri"`
	State               string   `json:"state,omitempty"`
	Nonce               string   `json:"nonce,omitempty"`
	Scopes              []string `json:"scopes"`
	CodeChallenge       string   `json:"code_challenge,omitempty"`
	CodeChallengeMethod string   `json:"code_challenge_method,omitempty"`
	// DPoPJKT is the dpop_jkt of the request (RFC 9449 §10): the code goes to that key only.
	DPoPJKT        string              `json:"dpop_jkt,omitempty"`
	ACR            string              `json:"acr"`
	Comparison     string              `json:"comparison"`
	ForceAuthn     bool                `json:"force_authn,omitempty"`
	MaxAge         *uint               `json:"max_age,omitempty"`
	IDTokenClaims  []string            `json:"id_token_claims,omitempty"`
	UserinfoClaims []string            `json:"userinfo_claims,omitempty"`
	Lang           string              `json:"lang,omitempty"`
	BrowserID      string              `json:"bid"`
	Created        time.Time           `json:"created"`
	Identity       *providers.Identity `json:"identity,omitempty"`
	// SkipDelegation: the relying party asked delegation=skip.
	SkipDelegation bool `json:"skip_delegation,omitempty"`
	// Hints are the providers' own login hints the relying party gave (providers.Hinter).
	Hints map[string]string `json:"hints,omitempty"`
	// Choices are the delegations offered, once the identity is known.
	Choices []DelegationChoice `json:"choices,omitempty"`
	// SessionID is the SSO session created at done, kept while the question is asked.
	SessionID string `json:"sid,omitempty"`
	// stored: the record was read from the store, so completing the login must take it (an
	// SSO-session login that completes at /authorize never stored one).
	stored bool
}

var authDecoder = func() *schema.Decoder {
	d := schema.NewDecoder()
	d.IgnoreUnknownKeys(true)
	return d
}()

// claimScope is the scope that releases each personal-data claim.
var claimScope = map[string]string{
	"fiscal_number": "fiscal_number",
	"given_name":    "profile", "family_name": "profile", "birthdate": "profile",
	"email":        "email",
	"phone_number": "phone",
}

// allowedClaims keeps the requested claims whose scope the client is allowed (claims that
// release no personal data, such as acr, pass).
func allowedClaims(cl *Client, claims []string) []string {
	return slices.DeleteFunc(claims, func(c string) bool {
		scope, personal := claimScope[c]
		return personal && !cl.IsScopeAllowed(scope)
	})
}

// authorizeError is an error that may be sent back to the relying party's redirect URI.
type authorizeError struct{ err *oidc.Error }

func (e *authorizeError) Error() string { return e.err.Error() }

func redirectErr(err *oidc.Error) error { return &authorizeError{err: err} }

// authorizeHTTP serves /authorize. Until the client and the redirect URI are known to be
// valid, errors are pages (never a redirect to an unverified URI); after that they go back
// to the relying party as OAuth errors.
func (b *Broker) authorizeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		b.errorPage(w, r, http.StatusBadRequest, "oauth.bad_request", err)
		return
	}
	// RFC 6749 §3.1: no parameter more than once. A repeated client_id or redirect_uri leaves
	// no single client or address to trust, so it can never be answered with a redirect.
	for _, name := range []string{"client_id", "redirect_uri"} {
		if len(r.Form[name]) > 1 {
			b.errorPage(w, r, http.StatusBadRequest, "oauth.repeated_param", fmt.Errorf("%s repeated", name))
			return
		}
	}
	if !b.resolveRequest(w, r) {
		return
	}
	var req oidc.AuthRequest
	if err := authDecoder.Decode(&req, r.Form); err != nil {
		b.errorPage(w, r, http.StatusBadRequest, "oauth.bad_request", err)
		return
	}
	cl, ok := b.client(req.ClientID)
	if !ok {
		b.errorPage(w, r, http.StatusBadRequest, "oauth.unknown_client", errors.New("unknown client_id"))
		return
	}
	if b.switchedOff(switches.KindClient, cl.id) {
		b.errorPage(w, r, http.StatusForbidden, "oauth.client_switched_off", errors.New("client switched off"))
		return
	}
	if req.RedirectURI == "" || !slices.Contains(cl.redirects, req.RedirectURI) {
		b.errorPage(w, r, http.StatusBadRequest, "oauth.bad_redirect_uri", errors.New("redirect_uri not registered"))
		return
	}
	if err := b.checkArrival(r, cl); err != nil {
		b.authorizeFail(w, r, &req, err)
		return
	}
	rec, err := b.newLogin(r, cl, &req)
	if err != nil {
		b.authorizeFail(w, r, &req, err)
		return
	}
	// An SSO session that satisfies the request completes at once.
	if id, sid := b.sessionIdentity(r); id != nil && b.sessionSatisfies(rec, id) {
		rec.Identity = id
		b.askActFor(w, r, rec, sid)
		return
	}
	if slices.Contains(req.Prompt, oidc.PromptNone) {
		b.authorizeFail(w, r, &req, redirectErr(oidc.ErrLoginRequired().WithDescription("no session satisfies the request")))
		return
	}
	if err := b.putLogin(r.Context(), rec); err != nil {
		b.unavailablePage(w, r, err)
		return
	}
	hint := r.Form.Get("idp")
	if hint == "" {
		http.Redirect(w, r, b.issuer+"/login/"+rec.ID, http.StatusFound)
		return
	}
	p, option := b.providerForHint(hint)
	if p == nil {
		b.errorPage(w, r, http.StatusBadRequest, "login.unknown_idp", errors.New("unknown idp hint"))
		return
	}
	b.startProvider(w, r, rec, p, option)
}

// newLogin validates the request and builds the pending login.
func (b *Broker) newLogin(r *http.Request, cl *Client, req *oidc.AuthRequest) (*loginRecord, error) {
	if err := checkRequestForm(r, req); err != nil {
		return nil, err
	}
	if err := checkRequestClient(cl, req); err != nil {
		return nil, err
	}
	if err := checkPrompt(req.Prompt); err != nil {
		return nil, err
	}
	hints, err := b.loginHints(r)
	if err != nil {
		return nil, err
	}
	idClaims, uiClaims, claimsACR, err := parseClaimsParam(r.Form.Get("claims"))
	if err != nil {
		return nil, redirectErr(oidc.ErrInvalidRequest().WithDescription("malformed claims parameter"))
	}
	// The claims parameter may name claims one by one, but never beyond the scopes the client
	// is allowed: a client without fiscal_number cannot get the fiscal code by asking for it.
	idClaims, uiClaims = allowedClaims(cl, idClaims), allowedClaims(cl, uiClaims)
	acr := b.requiredACR(cl, req.ACRValues, claimsACR)
	jkt := r.Form.Get("dpop_jkt")
	if _, sent := r.Form["dpop_jkt"]; sent && !validJKT(jkt) {
		return nil, redirectErr(oidc.ErrInvalidRequest().WithDescription("malformed dpop_jkt: a base64url SHA-256 JWK thumbprint (RFC 9449 §10)"))
	}
	id, err := randomToken(b.rand, 18)
	if err != nil {
		return nil, err
	}
	rec := &loginRecord{
		ID:                  id,
		ClientID:            cl.id,
		RedirectURI:         req.RedirectURI,
		State:               req.State,
		Nonce:               req.Nonce,
		Scopes:              req.Scopes,
		CodeChallenge:       req.CodeChallenge,
		CodeChallengeMethod: string(req.CodeChallengeMethod),
		DPoPJKT:             jkt,
		ACR:                 acr,
		Comparison:          loa.Minimum,
		ForceAuthn:          slices.Contains(req.Prompt, oidc.PromptLogin) || (req.MaxAge != nil && *req.MaxAge == 0),
		MaxAge:              req.MaxAge,
		IDTokenClaims:       idClaims,
		UserinfoClaims:      uiClaims,
		Lang:                b.pickLang(r, req.UILocales.String()),
		BrowserID:           b.browserID(r),
		SkipDelegation:      r.Form.Get(skipDelegationParam) == "skip",
		Hints:               hints,
		Created:             b.now(),
	}
	return rec, nil
}

// checkRequestForm checks the form of an authorization request: no repeated parameter, no
// request object (OIDC Core §6: not supported, by value or by reference, until PAR), the
// code flow with query response mode.
func checkRequestForm(r *http.Request, req *oidc.AuthRequest) error {
	if name := repeatedParam(r.Form); name != "" {
		return redirectErr(oidc.ErrInvalidRequest().WithDescription("parameter %s is repeated", name))
	}
	// A pushed request_uri and a request object were resolved before (authorizeHTTP): their
	// parameters never hold another (OIDC Core §6, RFC 9101 §4).
	if _, ok := r.Form["request_uri"]; ok {
		return redirectErr(errRequestURINotSupported())
	}
	if _, ok := r.Form["request"]; ok {
		return redirectErr(oidc.ErrRequestNotSupported().WithDescription("a request object inside a request object"))
	}
	if req.ResponseType != oidc.ResponseTypeCode {
		return redirectErr(errUnsupportedResponseType())
	}
	if req.ResponseMode != "" && req.ResponseMode != oidc.ResponseModeQuery {
		return redirectErr(oidc.ErrInvalidRequest().WithDescription("only response_mode=query is supported"))
	}
	return nil
}

// checkRequestClient checks an authorization request against its client: openid and only
// allowed scopes, the code flow allowed, PKCE (required for public clients, S256 only).
func checkRequestClient(cl *Client, req *oidc.AuthRequest) error {
	if !slices.Contains(req.Scopes, oidc.ScopeOpenID) {
		return redirectErr(oidc.ErrInvalidScope().WithDescription("the openid scope is required"))
	}
	for _, s := range req.Scopes {
		if !cl.IsScopeAllowed(s) {
			return redirectErr(oidc.ErrInvalidScope().WithDescription("scope %q is not allowed for this client", s))
		}
	}
	if !cl.allowsGrant(oidc.GrantTypeCode) {
		return redirectErr(oidc.ErrUnauthorizedClient().WithDescription("client may not use the authorization code flow"))
	}
	switch {
	case req.CodeChallenge == "" && cl.public:
		return redirectErr(oidc.ErrInvalidRequest().WithDescription("PKCE (code_challenge with S256) is required for public clients"))
	case req.CodeChallenge == "" && cl.fapi2:
		return redirectErr(oidc.ErrInvalidRequest().WithDescription("PKCE (code_challenge with S256) is required for this client (FAPI 2.0)"))
	case req.CodeChallenge != "" && req.CodeChallengeMethod != oidc.CodeChallengeMethodS256:
		return redirectErr(oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256"))
	case req.CodeChallenge != "" && !validS256Challenge(req.CodeChallenge):
		return redirectErr(oidc.ErrInvalidRequest().WithDescription("malformed code_challenge: S256 is 43 base64url characters"))
	}
	return nil
}

// checkPrompt accepts the prompt values the broker knows, none only alone.
func checkPrompt(prompt []string) error {
	for _, p := range prompt {
		switch p {
		case oidc.PromptNone, oidc.PromptLogin, oidc.PromptConsent, oidc.PromptSelectAccount:
		default:
			return redirectErr(oidc.ErrInvalidRequest().WithDescription("unsupported prompt value"))
		}
		if p == oidc.PromptNone && len(prompt) > 1 {
			return redirectErr(oidc.ErrInvalidRequest().WithDescription("prompt=none must be alone"))
		}
	}
	return nil
}

// repeatedParam returns the name of a parameter given more than once (in the query, the
// body, or both), or "".
func repeatedParam(form url.Values) string {
	names := make([]string, 0, len(form))
	for name, values := range form {
		if len(values) > 1 {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return ""
	}
	slices.Sort(names) // the same request names the same parameter
	return names[0]
}

// requiredACR is the level a login must reach: the lowest level the relying party listed in
// acr_values (or asked essential in claims), else the configured default; never below the
// client's minimum.
func (b *Broker) requiredACR(cl *Client, acrValues []string, claimsACR []string) string {
	asked := 0
	for _, v := range append(slices.Clone(acrValues), claimsACR...) {
		if l := loa.LevelOf(v); l > 0 && (asked == 0 || l < asked) {
			asked = l
		}
	}
	if asked == 0 {
		asked = loa.LevelOf(b.clients.Load().defaultACR) // policy.default_acr, as last reloaded
	}
	if asked == 0 {
		asked = 2
	}
	if m := loa.LevelOf(cl.minACR); m > asked {
		asked = m
	}
	return loa.ACRForLevel(asked)
}

// parseClaimsParam reads the OIDC claims request parameter: claim names asked for the ID token
// and userinfo, and acr values asked.
func parseClaimsParam(s string) (idToken, userinfo, acr []string, err error) {
	if s == "" {
		return nil, nil, nil, nil
	}
	var req map[string]map[string]*struct {
		Essential bool     `json:"essential"`
		Value     string   `json:"value"`
		Values    []string `json:"values"`
	}
	if err := json.Unmarshal([]byte(s), &req); err != nil {
		return nil, nil, nil, err
	}
	for target, claims := range req {
		for name, spec := range claims {
			switch target {
			case "id_token":
				idToken = append(idToken, name)
			case "userinfo":
				userinfo = append(userinfo, name)
			}
			if name == "acr" && spec != nil {
				if spec.Value != "" {
					acr = append(acr, spec.Value)
				}
				acr = append(acr, spec.Values...)
			}
		}
	}
	slices.Sort(idToken)
	slices.Sort(userinfo)
	return idToken, userinfo, acr, nil
}

// authorizeFail sends an OAuth error back to the (already validated) redirect URI.
func (b *Broker) authorizeFail(w http.ResponseWriter, r *http.Request, req *oidc.AuthRequest, err error) {
	var ae *authorizeError
	if !errors.As(err, &ae) {
		b.log.ErrorContext(r.Context(), "authorize failed", "error", err)
		ae = &authorizeError{err: oidc.ErrServerError()}
	}
	http.Redirect(w, r, b.errorRedirectURL(req.RedirectURI, req.State, ae.err), http.StatusFound)
}

// errorRedirectURL builds the redirect carrying an OAuth error, with iss (RFC 9207).
func (b *Broker) errorRedirectURL(redirectURI, state string, e *oidc.Error) string {
	u, err := url.Parse(redirectURI)
	if err != nil {
		return redirectURI
	}
	q := u.Query()
	q.Set("error", string(e.ErrorType))
	if e.Description != "" {
		q.Set("error_description", e.Description)
	}
	if state != "" {
		q.Set("state", state)
	}
	q.Set("iss", b.issuer)
	u.RawQuery = q.Encode()
	return u.String()
}

func (b *Broker) putLogin(ctx context.Context, rec *loginRecord) error {
	return b.store.Put(ctx, loginKey(rec.ID), mustMarshal(rec), b.cfg.Tokens.LoginTTL)
}

func (b *Broker) getLogin(ctx context.Context, id string) (*loginRecord, error) {
	if id == "" {
		return nil, providers.ErrLoginExpired
	}
	raw, err := b.store.Get(ctx, loginKey(id))
	if err != nil {
		return nil, storeLoginErr(err)
	}
	rec := &loginRecord{}
	if err := unmarshal(raw, rec); err != nil {
		return nil, err
	}
	rec.stored = true
	return rec, nil
}

// providerForHint finds the provider an idp= hint names: a provider id or method (pin, cie,
// cns) or one of a provider's options (a SPID IdP entityID, or its short name).
func (b *Broker) providerForHint(hint string) (providers.Provider, string) {
	if p, ok := b.provByID[hint]; ok {
		return p, ""
	}
	for _, p := range b.provs {
		if p.Info().Method == hint {
			return p, ""
		}
	}
	for _, p := range b.provs {
		if ol, ok := p.(providers.OptionLister); ok {
			for _, o := range ol.Options() {
				if o.Hint == hint || (o.Alias != "" && o.Alias == hint) {
					return p, o.Hint
				}
			}
		}
	}
	return nil, ""
}

// loginHints reads the providers' own login hints (providers.Hinter) of the request, each
// checked by the provider that names it: a value it refuses is invalid_request with the
// provider's reason (RFC 6749 §4.1.2.1), an empty one is as if it were absent. checkRequestForm
// already refused a repeated one.
func (b *Broker) loginHints(r *http.Request) (map[string]string, error) {
	var hints map[string]string
	for _, p := range b.provs {
		h, ok := p.(providers.Hinter)
		if !ok {
			continue
		}
		for _, name := range h.HintParams() {
			v := r.Form.Get(name)
			if v == "" {
				continue
			}
			if err := h.CheckHint(name, v); err != nil {
				return nil, redirectErr(oidc.ErrInvalidRequest().WithDescription("%s: %s", name, err.Error()))
			}
			if hints == nil {
				hints = map[string]string{}
			}
			hints[name] = v
		}
	}
	return hints, nil
}

func (rec *loginRecord) providerRequest(hint string, force bool) *providers.LoginRequest {
	return &providers.LoginRequest{
		Hints:      rec.Hints,
		ID:         rec.ID,
		ACR:        rec.ACR,
		Comparison: rec.Comparison,
		ForceAuthn: rec.ForceAuthn || force || loa.LevelOf(rec.ACR) >= 2,
		Hint:       hint,
		Lang:       rec.Lang,
	}
}

func joinScopes(s []string) string { return strings.Join(s, " ") }
