package devfed

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/providers/oidcfed"
	"github.com/inps/sportello/providers/spid/devidp"
)

// Hooks make an OP misbehave, for the relying party's hostile tests.
type Hooks struct {
	// IDToken and Userinfo change the claims before they are signed.
	IDToken  func(claims map[string]any)
	Userinfo func(claims map[string]any)
	// SignWith signs the ID token and userinfo with another key (an OP's key it does not
	// publish).
	SignWith *jose.JSONWebKey
	// EncryptTo encrypts the userinfo answer for another key than the RP's.
	EncryptTo *jose.JSONWebKey
	// IDTokenJWT replaces the signed ID token (an unsigned one, say).
	IDTokenJWT func(signed string, claims map[string]any) string
}

// OP is a dev OpenID Provider of the federation: the SPID or the CIE profile.
type OP struct {
	// Entity is its federation entity (its configuration carries the openid_provider metadata).
	Entity *Entity
	// Name is its display name; Profile is spid or cie.
	Name, Profile string
	// Core signs its ID tokens and userinfo answers.
	Core  jose.JSONWebKey
	Hooks Hooks

	users    map[string]devidp.User
	resolver *oidcfed.Resolver
	now      func() time.Time

	mu      sync.Mutex
	pending map[string]*authRequest
	codes   map[string]*grant
	tokens  map[string]*grant
}

// authRequest is a verified authorization request waiting for the login form.
type authRequest struct {
	ClientID, RedirectURI, State, Nonce, Challenge string
	Level                                          int
	Claims                                         map[string]any
	RPJWKS                                         *jose.JSONWebKeySet
}

// grant is an authorization code, then an access token.
type grant struct {
	req     *authRequest
	user    devidp.User
	level   int
	expires time.Time
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// endpoint is the OP's URL of an endpoint name.
func (o *OP) endpoint(name string) string { return o.Entity.ID + "/" + name }

// metadata is the OP's openid_provider metadata, the profile's parameters.
func (o *OP) metadata() map[string]any {
	md := map[string]any{
		"issuer":                                           o.Entity.ID,
		"authorization_endpoint":                           o.endpoint("authorize"),
		"token_endpoint":                                   o.endpoint("token"),
		"userinfo_endpoint":                                o.endpoint("userinfo"),
		"revocation_endpoint":                              o.endpoint("revoke"),
		"jwks":                                             Public(o.Core),
		"organization_name":                                o.Name,
		"scopes_supported":                                 []string{"openid", "offline_access"},
		"response_types_supported":                         []string{"code"},
		"response_modes_supported":                         []string{"query", "form_post"},
		"grant_types_supported":                            []string{"authorization_code", "refresh_token"},
		"acr_values_supported":                             loa.All(),
		"subject_types_supported":                          []string{"pairwise"},
		"id_token_signing_alg_values_supported":            []string{"RS256", "RS512"},
		"userinfo_signing_alg_values_supported":            []string{"RS256", "RS512"},
		"userinfo_encryption_alg_values_supported":         []string{"RSA-OAEP", "RSA-OAEP-256"},
		"userinfo_encryption_enc_values_supported":         []string{"A128CBC-HS256", "A256CBC-HS512"},
		"token_endpoint_auth_methods_supported":            []string{"private_key_jwt"},
		"token_endpoint_auth_signing_alg_values_supported": []string{"RS256", "RS512"},
		"request_object_signing_alg_values_supported":      []string{"RS256", "RS512"},
		"code_challenge_methods_supported":                 []string{"S256"},
		"claims_parameter_supported":                       true,
		"request_parameter_supported":                      true,
		"authorization_response_iss_parameter_supported":   true,
		"client_registration_types_supported":              []string{"automatic"},
		"request_authentication_methods_supported":         map[string]any{"authorization_endpoint": []string{"request_object"}},
	}
	if o.Profile == oidcfed.ProfileCIE {
		md["revocation_endpoint_auth_methods_supported"] = []string{"private_key_jwt"}
	}
	return md
}

// ServeHTTP serves the OP's federation entity and its OIDC endpoints.
func (o *OP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if o.Entity.ServeFederation(w, r) {
		return
	}
	switch strings.TrimPrefix(r.URL.Path, o.Entity.path()+"/") {
	case "authorize":
		if r.Method == http.MethodPost {
			o.login(w, r)
			return
		}
		o.authorize(w, r)
	case "token":
		o.token(w, r)
	case "userinfo":
		o.userinfo(w, r)
	case "revoke":
		o.revoke(w, r)
	default:
		http.NotFound(w, r)
	}
}

func badRequest(w http.ResponseWriter, code, format string, args ...any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": fmt.Sprintf(format, args...)})
}

// rpChain resolves the relying party's trust chain (automatic registration): its metadata,
// policies applied, is what the OP trusts.
func (o *OP) rpChain(r *http.Request, clientID string) (*oidcfed.Chain, error) {
	return o.resolver.Resolve(r.Context(), oidcfed.EntityRP, clientID, nil)
}

// verifyJWT checks raw as a JWS by one of keys and returns its claims.
func verifyJWT(raw string, keys *jose.JSONWebKeySet) (map[string]any, error) {
	jws, err := jose.ParseSignedCompact(raw, oidcfed.SignatureAlgs)
	if err != nil || len(jws.Signatures) != 1 {
		return nil, errors.New("not a compact JWS of an allowed algorithm")
	}
	for _, k := range keys.Key(jws.Signatures[0].Protected.KeyID) {
		if payload, err := jws.Verify(k); err == nil {
			var c map[string]any
			if err := json.Unmarshal(payload, &c); err != nil {
				return nil, err
			}
			return c, nil
		}
	}
	return nil, errors.New("signature does not verify with the relying party's keys")
}

func audienceHas(v any, want string) bool {
	switch a := v.(type) {
	case string:
		return a == want
	case []any:
		return slices.Contains(a, any(want))
	}
	return false
}

// authorize checks the signed request object against the RP's federation metadata and shows
// the login form.
func (o *OP) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	clientID := q.Get("client_id")
	if clientID == "" || q.Get("request") == "" {
		badRequest(w, "invalid_request", "client_id and request are required")
		return
	}
	chain, err := o.rpChain(r, clientID)
	if err != nil {
		badRequest(w, "invalid_client", "no trust chain for %s: %v", clientID, err)
		return
	}
	keys, err := chain.JWKS()
	if err != nil {
		badRequest(w, "invalid_client", "%v", err)
		return
	}
	c, err := verifyJWT(q.Get("request"), keys)
	if err != nil {
		badRequest(w, "invalid_request_object", "%v", err)
		return
	}
	str := func(k string) string { s, _ := c[k].(string); return s }
	redirect := str("redirect_uri")
	uris, _ := chain.Metadata["redirect_uris"].([]any)
	exp, _ := c["exp"].(float64)
	switch {
	case str("iss") != clientID || str("client_id") != clientID:
		badRequest(w, "invalid_request_object", "iss and client_id must be the client_id")
	case !audienceHas(c["aud"], o.Entity.ID):
		badRequest(w, "invalid_request_object", "aud must be the OP")
	case !slices.Contains(uris, any(redirect)):
		badRequest(w, "invalid_request", "redirect_uri %q is not registered in the relying party's metadata", redirect)
	case str("response_type") != "code" || q.Get("response_type") != "code":
		badRequest(w, "unsupported_response_type", "response_type must be code")
	case !slices.Contains(strings.Fields(str("scope")), "openid") || str("scope") != q.Get("scope"):
		badRequest(w, "invalid_scope", "scope must contain openid and match the request object's")
	case str("code_challenge_method") != "S256" || len(str("code_challenge")) < 43:
		badRequest(w, "invalid_request", "PKCE S256 is required")
	case len(str("state")) < 32 || len(str("nonce")) < 32:
		badRequest(w, "invalid_request", "state and nonce must have at least 32 characters")
	case exp == 0 || !time.Unix(int64(exp), 0).After(o.now()):
		badRequest(w, "invalid_request_object", "the request object expired")
	default:
		level := 0
		for _, acr := range strings.Fields(str("acr_values")) {
			if l := loa.LevelOf(acr); l > 0 && (level == 0 || l < level) {
				level = l
			}
		}
		if level == 0 {
			badRequest(w, "invalid_request", "acr_values must name a SPID level")
			return
		}
		claims, _ := c["claims"].(map[string]any)
		id := randomHex(16)
		o.mu.Lock()
		o.pending[id] = &authRequest{ClientID: clientID, RedirectURI: redirect, State: str("state"), Nonce: str("nonce"),
			Challenge: str("code_challenge"), Level: level, Claims: claims, RPJWKS: keys}
		o.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = loginForm.Execute(w, map[string]any{"Name": o.Name, "Action": o.endpoint("authorize"), "Req": id, "Level": level, "Levels": []int{1, 2, 3}})
	}
}

var loginForm = template.Must(template.New("login").Parse(`<!doctype html><html lang="it"><meta charset="utf-8"><title>{{.Name}}</title>
<h1>{{.Name}}</h1>
<form method="post" action="{{.Action}}">
<input type="hidden" name="req" value="{{.Req}}">
<label>Codice fiscale <input name="username" autocomplete="username"></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<label>Livello <select name="level">{{range .Levels}}<option value="{{.}}"{{if eq . $.Level}} selected{{end}}>SpidL{{.}}</option>{{end}}</select></label>
<button type="submit" name="action" value="login">Entra</button>
<button type="submit" name="action" value="cancel">Annulla</button>
</form>`))

// respond redirects to the RP with params, state, and iss where the profile sends it.
func (o *OP) respond(w http.ResponseWriter, r *http.Request, req *authRequest, params url.Values) {
	params.Set("state", req.State)
	if o.Profile == oidcfed.ProfileCIE {
		params.Set("iss", o.Entity.ID)
	}
	http.Redirect(w, r, req.RedirectURI+"?"+params.Encode(), http.StatusFound)
}

// login checks the form: a known person, test-password, the level chosen.
func (o *OP) login(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		badRequest(w, "invalid_request", "form: %v", err)
		return
	}
	o.mu.Lock()
	req := o.pending[r.PostForm.Get("req")]
	delete(o.pending, r.PostForm.Get("req"))
	o.mu.Unlock()
	if req == nil {
		badRequest(w, "invalid_request", "unknown or used login request")
		return
	}
	user, known := o.users[strings.ToUpper(strings.TrimSpace(r.PostForm.Get("username")))]
	if r.PostForm.Get("action") == "cancel" || !known || r.PostForm.Get("password") != devidp.Password {
		o.respond(w, r, req, url.Values{"error": {"access_denied"}, "error_description": {"authentication failed or cancelled"}})
		return
	}
	level := req.Level
	if l, err := strconv.Atoi(r.PostForm.Get("level")); err == nil && l >= 1 && l <= 3 {
		level = l
	}
	code := randomHex(32)
	o.mu.Lock()
	o.codes[code] = &grant{req: req, user: user, level: level, expires: o.now().Add(time.Minute)}
	o.mu.Unlock()
	o.respond(w, r, req, url.Values{"code": {code}})
}

// clientAuth verifies the private_key_jwt assertion of r for endpoint and returns the RP's
// chain.
func (o *OP) clientAuth(r *http.Request, endpoint string) (*oidcfed.Chain, error) {
	clientID := r.PostForm.Get("client_id")
	if r.PostForm.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
		return nil, errors.New("private_key_jwt is required")
	}
	chain, err := o.rpChain(r, clientID)
	if err != nil {
		return nil, err
	}
	keys, err := chain.JWKS()
	if err != nil {
		return nil, err
	}
	c, err := verifyJWT(r.PostForm.Get("client_assertion"), keys)
	if err != nil {
		return nil, err
	}
	exp, _ := c["exp"].(float64)
	if c["iss"] != clientID || c["sub"] != clientID || !audienceHas(c["aud"], endpoint) || !time.Unix(int64(exp), 0).After(o.now()) {
		return nil, errors.New("client assertion: iss, sub, aud or exp wrong")
	}
	return chain, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// subject is the pairwise sub of user for client.
func (o *OP) subject(user devidp.User, client string) string {
	sum := sha256.Sum256([]byte(o.Entity.ID + "|" + client + "|" + user.FiscalCode))
	return hex.EncodeToString(sum[:16])
}

func (o *OP) signer() (jose.Signer, error) {
	k := o.Core
	if o.Hooks.SignWith != nil {
		k = *o.Hooks.SignWith
	}
	return jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: k}, (&jose.SignerOptions{}).WithType("JWT"))
}

// token redeems a code: private_key_jwt, PKCE S256, the redirect URI of the request.
func (o *OP) token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	if _, err := o.clientAuth(r, o.endpoint("token")); err != nil {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client", "error_description": err.Error()})
		return
	}
	o.mu.Lock()
	g := o.codes[r.PostForm.Get("code")]
	delete(o.codes, r.PostForm.Get("code"))
	o.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	switch {
	case r.PostForm.Get("grant_type") != "authorization_code":
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
		return
	case g == nil || !g.expires.After(o.now()) || g.req.ClientID != r.PostForm.Get("client_id") || g.req.RedirectURI != r.PostForm.Get("redirect_uri"):
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
		return
	case base64.RawURLEncoding.EncodeToString(sum[:]) != g.req.Challenge:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "PKCE verifier"})
		return
	}
	at := randomHex(32)
	now := o.now()
	atHash := sha256.Sum256([]byte(at))
	claims := map[string]any{"iss": o.Entity.ID, "sub": o.subject(g.user, g.req.ClientID), "aud": g.req.ClientID,
		"acr": loa.ACRForLevel(g.level), "at_hash": base64.RawURLEncoding.EncodeToString(atHash[:16]),
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(3 * time.Minute).Unix(), "jti": randomHex(16), "nonce": g.req.Nonce}
	if o.Hooks.IDToken != nil {
		o.Hooks.IDToken(claims)
	}
	s, err := o.signer()
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "server_error"})
		return
	}
	idt, err := oidcfed.SignJWT(s, claims)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "server_error"})
		return
	}
	if o.Hooks.IDTokenJWT != nil {
		idt = o.Hooks.IDTokenJWT(idt, claims)
	}
	g.expires = now.Add(10 * time.Minute)
	o.mu.Lock()
	o.tokens[at] = g
	o.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": at, "id_token": idt, "token_type": "Bearer", "expires_in": 600})
}

// attributes are the person's claims in the OIDC namespace of the profile.
func attributes(u devidp.User) map[string]any {
	a := u.Attributes
	return map[string]any{
		oidcfed.ClaimFiscalNumber: "TINIT-" + u.FiscalCode, "given_name": a["name"], "family_name": a["familyName"],
		"birthdate": a["dateOfBirth"], "email": a["email"], "phone_number": a["mobilePhone"],
		"https://attributes.eid.gov.it/spid_code": a["spidCode"],
	}
}

// userinfo answers a signed, then encrypted JWT for the RP's encryption key: GET only for
// SPID, GET or POST for CIE.
func (o *OP) userinfo(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && !(r.Method == http.MethodPost && o.Profile == oidcfed.ProfileCIE) {
		w.Header().Set("Allow", "GET")
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "invalid_request"})
		return
	}
	at, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	o.mu.Lock()
	g := o.tokens[at]
	o.mu.Unlock()
	if !ok || g == nil || !g.expires.After(o.now()) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token"})
		return
	}
	now := o.now()
	claims := map[string]any{"iss": o.Entity.ID, "aud": g.req.ClientID, "sub": o.subject(g.user, g.req.ClientID),
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(3 * time.Minute).Unix()}
	asked, _ := g.req.Claims["userinfo"].(map[string]any)
	for k, v := range attributes(g.user) {
		if _, want := asked[k]; want && v != "" {
			claims[k] = v
		}
	}
	if o.Hooks.Userinfo != nil {
		o.Hooks.Userinfo(claims)
	}
	jwe, err := o.sealUserinfo(claims, g.req.RPJWKS)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "server_error", "error_description": err.Error()})
		return
	}
	w.Header().Set("Content-Type", "application/jose")
	_, _ = w.Write([]byte(jwe))
}

// sealUserinfo signs claims with the OP's key and encrypts the JWS for the RP's encryption key
// (RSA-OAEP-256, A256CBC-HS512, cty JWT).
func (o *OP) sealUserinfo(claims map[string]any, rp *jose.JSONWebKeySet) (string, error) {
	s, err := o.signer()
	if err != nil {
		return "", err
	}
	inner, err := oidcfed.SignJWT(s, claims)
	if err != nil {
		return "", err
	}
	var to *jose.JSONWebKey
	for i, k := range rp.Keys {
		if k.Use == "enc" {
			to = &rp.Keys[i]
			break
		}
	}
	if o.Hooks.EncryptTo != nil {
		pub := o.Hooks.EncryptTo.Public()
		to = &pub
	}
	if to == nil {
		return "", errors.New("the relying party publishes no encryption key")
	}
	enc, err := jose.NewEncrypter(jose.A256CBC_HS512, jose.Recipient{Algorithm: jose.RSA_OAEP_256, Key: to.Key, KeyID: to.KeyID},
		(&jose.EncrypterOptions{}).WithContentType("JWT"))
	if err != nil {
		return "", err
	}
	obj, err := enc.Encrypt([]byte(inner))
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}

// revoke ends an access token (the RP's logout).
func (o *OP) revoke(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	if _, err := o.clientAuth(r, o.endpoint("revoke")); err != nil {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	o.mu.Lock()
	delete(o.tokens, r.PostForm.Get("token"))
	o.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// Revoked reports whether the access token at is unknown (revoked or never issued).
func (o *OP) Revoked(at string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.tokens[at] == nil
}
