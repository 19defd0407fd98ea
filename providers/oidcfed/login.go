package oidcfed

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/providers"
)

// Claim names of the SPID/CIE OIDC attribute namespace.
const (
	ClaimFiscalNumber = "https://attributes.eid.gov.it/fiscal_number"
	claimSPIDCode     = "https://attributes.eid.gov.it/spid_code"
)

// requestedClaims are the attributes the broker asks for (the claims parameter).
var requestedClaims = map[string]any{
	ClaimFiscalNumber: map[string]bool{"essential": true},
	"given_name":      nil,
	"family_name":     nil,
	"birthdate":       nil,
	"email":           nil,
	"phone_number":    nil,
}

// pending is a login sent to an OP, kept under its state until the callback takes it.
type pending struct {
	Login      string `json:"login"`
	OP         string `json:"op"`
	Issuer     string `json:"iss"`
	Profile    string `json:"profile"`
	Nonce      string `json:"nonce"`
	Verifier   string `json:"verifier"`
	ACR        string `json:"acr"`
	Comparison string `json:"comparison"`
	Created    int64  `json:"created"`
}

func stateKey(state string) string { return "oidcfed:state:" + state }

// randomAlnum is n random bytes as hex: the profile wants state and nonce of at least 32
// alphanumeric characters.
func randomAlnum(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// pkce is a code verifier (RFC 7636: 43 characters of base64url) and its S256 challenge.
func pkce() (verifier, challenge string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	verifier = base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:]), nil
}

// Start sends the browser to the chosen OP's authorization endpoint with a signed request
// object (JAR), PKCE S256, state and nonce.
func (p *Provider) Start(w http.ResponseWriter, r *http.Request, req *providers.LoginRequest) error {
	ctx := r.Context()
	hint := req.Hint
	if hint == "" { // idp=<provider id>: the one OP offered, else the chooser's list of them
		switch opts := p.Options(); {
		case len(opts) == 1:
			hint = opts[0].Hint
		case p.h.Broker != nil:
			http.Redirect(w, r, p.h.Broker.ChooserURL(req.ID), http.StatusFound)
			return nil
		}
	}
	c, op, err := p.chainFor(ctx, hint)
	if err != nil {
		return &providers.UserError{Code: "oidcfed.no_op", Err: errors.Join(providers.ErrUnavailable, err)}
	}
	authz, issuer := c.String("authorization_endpoint"), c.String("issuer")
	if authz == "" || issuer == "" {
		return &providers.UserError{Code: "oidcfed.no_op", Err: errors.Join(providers.ErrUnavailable,
			fmt.Errorf("%w: %s: metadata without issuer or authorization_endpoint", ErrMalformed, op.EntityID))}
	}
	level := max(loa.LevelOf(req.ACR), p.cfg.MinLevel)
	acr := loa.ACRForLevel(level)
	state, err := randomAlnum(24)
	if err != nil {
		return err
	}
	nonce, err := randomAlnum(24)
	if err != nil {
		return err
	}
	verifier, challenge, err := pkce()
	if err != nil {
		return err
	}
	now := p.now()
	rec, err := json.Marshal(pending{Login: req.ID, OP: op.EntityID, Issuer: issuer, Profile: op.Profile, Nonce: nonce,
		Verifier: verifier, ACR: acr, Comparison: req.Comparison, Created: now.Unix()})
	if err != nil {
		return err
	}
	if err := p.h.Store.Put(ctx, stateKey(state), rec, p.cfg.RequestTTL); err != nil {
		return errors.Join(providers.ErrUnavailable, err)
	}
	prompt := "consent"
	if req.ForceAuthn {
		prompt = "consent login"
	}
	jti, err := randomAlnum(16)
	if err != nil {
		return err
	}
	claims := map[string]any{
		"iss": p.entityID, "aud": []string{issuer}, "client_id": p.entityID, "response_type": "code",
		"scope": "openid", "redirect_uri": p.redirectURI(), "state": state, "nonce": nonce,
		"code_challenge": challenge, "code_challenge_method": "S256", "acr_values": acr, "prompt": prompt,
		"claims": map[string]any{"userinfo": requestedClaims}, "iat": now.Unix(),
		"exp": now.Add(min(p.cfg.RequestTTL, 10*time.Minute)).Unix(), "jti": jti,
	}
	if req.Lang != "" {
		claims["ui_locales"] = req.Lang
	}
	signer, err := p.keySet().signer(UseSigning, "")
	if err != nil {
		return err
	}
	object, err := SignJWT(signer, claims)
	if err != nil {
		return err
	}
	u, err := url.Parse(authz)
	if err != nil {
		return fmt.Errorf("%w: authorization_endpoint %q", ErrMalformed, authz)
	}
	p.audit(ctx, auditRequest, "", map[string]any{"op": op.EntityID, "client_id": p.entityID, "login": req.ID,
		"trust_chain": c.Statements, "request": object, "jti": jti, "acr": acr, "iat": claims["iat"], "exp": claims["exp"]})
	q := u.Query()
	q.Set("client_id", p.entityID)
	q.Set("response_type", "code")
	q.Set("scope", "openid")
	q.Set("code_challenge", challenge)
	q.Set("code_challenge_method", "S256")
	q.Set("request", object)
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
	return nil
}

// callback ends the login: the authorization response, the token request, the ID token and
// the userinfo answer.
func (p *Provider) callback(w http.ResponseWriter, r *http.Request, f providers.Finisher) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	state := q.Get("state")
	if len(state) < 32 {
		f.Fail(w, r, "", providers.Attempt(Method, fmt.Errorf("%w: authorization response without a valid state", providers.ErrLoginExpired)))
		return
	}
	raw, err := p.h.Store.Take(r.Context(), stateKey(state))
	if err != nil {
		if IsNotFound(err) {
			f.Fail(w, r, "", providers.Attempt(Method, fmt.Errorf("%w: state unknown, expired or already used", providers.ErrLoginExpired)))
			return
		}
		f.Fail(w, r, "", errors.Join(providers.ErrUnavailable, err))
		return
	}
	var pd pending
	if err := json.Unmarshal(raw, &pd); err != nil {
		f.Fail(w, r, "", fmt.Errorf("%w: pending login record: %w", providers.ErrLoginExpired, err))
		return
	}
	method := methodOf(pd.Profile)
	tx := map[string]any{"op": pd.OP, "login": pd.Login, "iss": q.Get("iss"), "state_sha256": digest(state)}
	if code := q.Get("code"); code != "" {
		tx["code_sha256"] = digest(code)
	}
	if e := q.Get("error"); e != "" {
		tx["op_error"] = e
	}
	id, err := p.finish(r, &pd, q, tx)
	if err != nil {
		tx["outcome"], tx["error"] = "refused", err.Error()
		p.audit(r.Context(), auditResponse, "", tx)
		err = providers.Attempt(method, err)
		if ae := (*providers.AttemptError)(nil); errors.As(err, &ae) && ae.IdP == "" {
			ae.IdP = pd.OP // as the identity of a success names it (spid_op, cie_op)
		}
		f.Fail(w, r, pd.Login, err)
		return
	}
	tx["outcome"] = "success"
	p.audit(r.Context(), auditResponse, id.FiscalNumber, tx)
	f.Finish(w, r, pd.Login, id)
}

func methodOf(profile string) string {
	if profile == ProfileCIE {
		return providers.MethodCIE
	}
	return providers.MethodSPID
}

// finish checks the authorization response of pd and returns the identity.
func (p *Provider) finish(r *http.Request, pd *pending, q url.Values, tx map[string]any) (*providers.Identity, error) {
	if e := q.Get("error"); e != "" {
		if e == "access_denied" {
			return nil, &providers.UserError{Code: "oidcfed.denied", Err: fmt.Errorf("%w: the OP answered %s", providers.ErrDenied, e)}
		}
		return nil, fmt.Errorf("%w: the OP answered %s", providers.ErrCredentialRejected, e)
	}
	// The iss parameter (RFC 9207) guards against mix-up: CIE sends it always, SPID may.
	iss := q.Get("iss")
	if iss == "" && pd.Profile == ProfileCIE {
		return nil, fmt.Errorf("%w: CIE authorization response without iss", providers.ErrCredentialRejected)
	}
	if iss != "" && iss != pd.Issuer {
		return nil, fmt.Errorf("%w: authorization response from %q, the request went to %q", providers.ErrCredentialRejected, iss, pd.Issuer)
	}
	code := q.Get("code")
	if code == "" {
		return nil, fmt.Errorf("%w: authorization response without code", providers.ErrCredentialRejected)
	}
	c, _, err := p.chainFor(r.Context(), pd.OP)
	if err != nil {
		return nil, errors.Join(providers.ErrUnavailable, err)
	}
	tok, err := p.exchange(r.Context(), c, code, pd.Verifier)
	if err != nil {
		return nil, err
	}
	tx["trust_chain"] = c.Statements
	idt, err := p.verifyIDToken(c, tok.IDToken, pd)
	if err != nil {
		return nil, err
	}
	tx["id_token"] = idt.Extra
	info, err := p.userinfo(r.Context(), c, tok.AccessToken, pd, idt.Subject)
	if err != nil {
		return nil, err
	}
	tx["userinfo"] = info.Extra
	return p.identity(pd, idt, info, tok)
}
