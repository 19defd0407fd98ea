package console

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/inps/sportello/internal/audit"
	"github.com/inps/sportello/internal/fiscalcode"
	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/internal/store"
)

// LoginACR is the level an operator signs in at: SPID level 3, or a CIE or CNS certificate.
const LoginACR = "https://www.spid.gov.it/SpidL3"

// loginState is a login in progress, kept in the Store under its state.
type loginState struct {
	Verifier string `json:"verifier"`
	Nonce    string `json:"nonce"`
	Next     string `json:"next"`
}

func loginKey(state string) string { return "console:login:" + state }

// login starts the authorization code flow with PKCE (RFC 7636, S256) at this issuer, asking
// for SpidL3 (acr_values, OIDC Core §3.1.2.1).
func (u *UI) login(w http.ResponseWriter, r *http.Request) {
	state, err1 := u.random(32)
	verifier, err2 := u.random(32)
	nonce, err3 := u.random(32)
	if err := errors.Join(err1, err2, err3); err != nil {
		u.c.Log.Error("console: login not started", "err", err)
		u.message(w, r, http.StatusInternalServerError, "error", nil)
		return
	}
	raw, _ := json.Marshal(loginState{Verifier: verifier, Nonce: nonce, Next: safeNext(r.URL.Query().Get("next"))})
	if err := u.c.Store.Put(r.Context(), loginKey(state), raw, loginTTL); err != nil {
		u.c.Log.Warn("console: login not started", "err", err)
		u.message(w, r, http.StatusServiceUnavailable, "store_down", nil)
		return
	}
	// Lax: the way back from the issuer may follow a cross-site SAML POST, and this cookie
	// only binds the state to the browser; the session cookie set at the callback is Strict.
	http.SetCookie(w, u.cookie(loginCookie, state, http.SameSiteLaxMode, loginTTL))
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {u.c.ClientID},
		"redirect_uri":          {u.redirectURI()},
		"scope":                 {"openid profile fiscal_number"},
		"state":                 {state},
		"nonce":                 {nonce},
		"acr_values":            {LoginACR},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
		"ui_locales":            {u.c.Lang(r)},
		// The broker's extension: an operator signs in for themselves, never offered the
		// delegations they may hold (an act claim is refused at the callback anyway).
		"delegation": {"skip"},
		// A fresh authentication for the console (OIDC Core §3.1.2.1): a citizen's SSO session
		// in the same browser is never taken for the operator's.
		"prompt": {"login"},
	}
	http.Redirect(w, r, u.c.Issuer+"/authorize?"+q.Encode(), http.StatusSeeOther)
}

func (u *UI) redirectURI() string { return u.c.Issuer + "/console/callback" }

// callback redeems the code, checks the ID token and the person's entitlement, and opens the
// console session.
func (u *UI) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	state := q.Get("state")
	c, err := r.Cookie(loginCookie)
	if state == "" || err != nil || subtle.ConstantTimeCompare([]byte(c.Value), []byte(state)) != 1 {
		// RFC 6749 §10.12: a callback this browser did not start (login CSRF).
		u.message(w, r, http.StatusBadRequest, "login_expired", nil)
		return
	}
	http.SetCookie(w, u.cookie(loginCookie, "", http.SameSiteLaxMode, -1))
	raw, err := u.c.Store.Take(r.Context(), loginKey(state))
	if errors.Is(err, store.ErrNotFound) {
		u.message(w, r, http.StatusBadRequest, "login_expired", nil)
		return
	}
	if err != nil {
		u.c.Log.Warn("console: login state lookup failed", "err", err)
		u.message(w, r, http.StatusServiceUnavailable, "store_down", nil)
		return
	}
	var ls loginState
	if err := json.Unmarshal(raw, &ls); err != nil {
		u.message(w, r, http.StatusBadRequest, "login_expired", nil)
		return
	}
	if e := q.Get("error"); e != "" {
		u.c.Log.Info("console: login not completed", "error", e)
		u.message(w, r, http.StatusForbidden, "login_failed", nil)
		return
	}
	code := q.Get("code")
	if code == "" {
		u.message(w, r, http.StatusBadRequest, "login_failed", nil)
		return
	}
	id, err := u.redeem(r.Context(), code, ls)
	if err != nil {
		u.c.Log.Warn("console: login refused", "err", err)
		if errors.Is(err, errLevel) {
			u.refused(w, r, "", "level")
			return
		}
		u.message(w, r, http.StatusForbidden, "login_failed", nil)
		return
	}
	ents, err := u.c.Operators.Entitlements(r.Context(), id.FiscalNumber)
	if err != nil {
		u.c.Log.Warn("console: entitlements lookup failed", "err", err)
		u.message(w, r, http.StatusServiceUnavailable, "store_down", nil)
		return
	}
	role := roleOf(ents)
	if role == "" {
		u.refused(w, r, id.FiscalNumber, "not_operator")
		return
	}
	s := session{FiscalCode: id.FiscalNumber, Subject: id.Subject, Name: strings.TrimSpace(id.GivenName + " " + id.FamilyName), Role: role}
	if err := u.openSession(r.Context(), w, s); err != nil {
		u.c.Log.Warn("console: session not opened", "err", err)
		u.message(w, r, http.StatusServiceUnavailable, "store_down", nil)
		return
	}
	_ = u.c.API.c.Audit.Audit(r.Context(), audit.Event{Time: u.c.Now().UTC(), Type: "console.login", Actor: id.FiscalNumber,
		Fields: map[string]any{"role": role, "acr": id.ACR, "amr": id.AMR}})
	// A page, not a redirect: when the way here crossed sites (a SAML POST), a browser keeps
	// the Strict session cookie off every redirect of that navigation; the next one, started
	// from this page, carries it.
	u.signedIn(w, r, ls.Next)
}

// refused answers 403 with the bilingual "not authorised" page, and records the attempt.
func (u *UI) refused(w http.ResponseWriter, r *http.Request, cf, why string) {
	fields := map[string]any{"reason": why}
	if cf != "" {
		fields["fiscal_number"] = cf
	}
	_ = u.c.API.c.Audit.Audit(r.Context(), audit.Event{Time: u.c.Now().UTC(), Type: "console.login_refused", Actor: cf, Fields: fields})
	key := "not_operator"
	if why == "level" {
		key = "level"
	}
	u.message(w, r, http.StatusForbidden, key, nil)
}

// logout ends the session (a POST with the session's CSRF token: no page of another site
// signs an operator out).
func (u *UI) logout(w http.ResponseWriter, r *http.Request) {
	s, err := u.currentSession(r)
	if err == nil {
		if !checkCSRF(r, s) {
			u.message(w, r, http.StatusForbidden, "csrf", s)
			return
		}
		c, _ := r.Cookie(sessionCookie)
		if err := u.c.Store.Delete(r.Context(), sessionKey(c.Value)); err != nil {
			u.message(w, r, http.StatusServiceUnavailable, "store_down", nil)
			return
		}
	}
	http.SetCookie(w, u.cookie(sessionCookie, "", http.SameSiteStrictMode, -1))
	u.message(w, r, http.StatusOK, "logged_out", nil)
}

// errLevel: the login did not reach SpidL3 with a hardware-protected second factor.
var errLevel = errors.New("console: the login is below SpidL3")

// idClaims are the ID token claims the console reads.
type idClaims struct {
	Issuer       string          `json:"iss"`
	Subject      string          `json:"sub"`
	Audience     json.RawMessage `json:"aud"`
	AZP          string          `json:"azp"`
	Expiry       int64           `json:"exp"`
	Nonce        string          `json:"nonce"`
	ACR          string          `json:"acr"`
	AMR          []string        `json:"amr"`
	FiscalNumber string          `json:"fiscal_number"`
	GivenName    string          `json:"given_name"`
	FamilyName   string          `json:"family_name"`
	Act          json.RawMessage `json:"act"`
}

// redeem exchanges the code (RFC 6749 §4.1.3 with the PKCE verifier, RFC 7636 §4.5) and
// checks the ID token (OIDC Core §3.1.3.7).
func (u *UI) redeem(ctx context.Context, code string, ls loginState) (*idClaims, error) {
	status, body, err := u.c.Token(ctx, url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {u.redirectURI()},
		"client_id": {u.c.ClientID}, "code_verifier": {ls.Verifier},
	})
	if err != nil {
		return nil, fmt.Errorf("console: token request: %w", err)
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("console: token endpoint answered %d", status)
	}
	var tr struct {
		IDToken string `json:"id_token"`
	}
	if err := json.Unmarshal(body, &tr); err != nil || tr.IDToken == "" {
		return nil, errors.New("console: no ID token in the token response")
	}
	return u.checkIDToken(tr.IDToken, ls.Nonce)
}

// checkIDToken decodes and checks the ID token of this issuer's token response. Its
// signature is not checked: the response came from this issuer's own token endpoint in
// process, a channel no one else can write to (OIDC Core §3.1.3.7 step 6 lets the direct
// token-endpoint channel stand for the signature).
func (u *UI) checkIDToken(tok, nonce string) (*idClaims, error) {
	c, err := parseIDToken(tok)
	if err != nil {
		return nil, err
	}
	switch {
	case c.Issuer != u.c.Issuer:
		return nil, errors.New("console: ID token of another issuer")
	case !audienceHas(c.Audience, u.c.ClientID) || (c.AZP != "" && c.AZP != u.c.ClientID):
		return nil, errors.New("console: ID token for another client")
	case !u.c.Now().Before(time.Unix(c.Expiry, 0)):
		return nil, errors.New("console: ID token expired")
	case nonce == "" || subtle.ConstantTimeCompare([]byte(c.Nonce), []byte(nonce)) != 1:
		return nil, errors.New("console: ID token nonce mismatch")
	case len(c.Act) > 0 && string(c.Act) != "null":
		return nil, errors.New("console: a delegate's login (act): an operator signs in for themselves")
	}
	if _, err := fiscalcode.Parse(c.FiscalNumber); err != nil || c.Subject == "" {
		return nil, errors.New("console: ID token without a valid fiscal_number or sub")
	}
	// SpidL3 and, as RFC 8176 names them, a second factor on a hardware-protected key:
	// SPID level 3 ["pwd","hwk","mfa"], CIE/CNS ["sc","pin","hwk","mfa"].
	if loa.LevelOf(c.ACR) < loa.LevelOf(LoginACR) || !slices.Contains(c.AMR, "mfa") || !slices.Contains(c.AMR, "hwk") {
		return nil, fmt.Errorf("%w: acr %q amr %v", errLevel, c.ACR, c.AMR)
	}
	return c, nil
}

// maxIDToken bounds the ID token the console decodes.
const maxIDToken = 16 << 10

// parseIDToken decodes the claims of a compact JWS (RFC 7515 §7.1) without checking its
// signature (see checkIDToken).
func parseIDToken(tok string) (*idClaims, error) {
	if len(tok) > maxIDToken {
		return nil, errors.New("console: ID token too large")
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, errors.New("console: ID token is not a compact JWS")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, errors.New("console: ID token payload is not base64url")
	}
	var c idClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, errors.New("console: ID token payload is not a JSON object")
	}
	return &c, nil
}

// audienceHas reads aud as one string or an array (RFC 7519 §4.1.3).
func audienceHas(raw json.RawMessage, id string) bool {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return one == id
	}
	var many []string
	return json.Unmarshal(raw, &many) == nil && slices.Contains(many, id)
}
