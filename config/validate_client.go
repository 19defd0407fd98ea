package config

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/inps/sportello/internal/loa"
)

// KnownScopes are the standard scopes and the operators' scopes of the broker's own APIs
// (PIN back office and Contact Center, delegation office, the security team's console);
// custom scopes start with one of CustomScopePrefixes.
var KnownScopes = []string{"openid", "profile", "email", "phone", "fiscal_number", "offline_access",
	"pin:office", "pin:contact_center", "delegation:office", "console:read", "console:admin"}

// CustomScopePrefixes mark deployment-specific scopes such as "inps:services".
var CustomScopePrefixes = []string{"x-", "inps:"}

var knownGrants = []string{GrantAuthorizationCode, GrantRefreshToken, GrantClientCredentials, GrantTokenExchange}

// minSecretLen is the shortest client secret accepted outside dev mode.
const minSecretLen = 16

// maxJWKSFile bounds a client's JWKS file.
const maxJWKSFile = 1 << 20

// credentialIDRe is a provider id as clients[].credentials names it (the keys of providers:).
var credentialIDRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

func (c *Config) validateClients(v *validator) {
	if len(c.Clients) == 0 {
		v.add("clients", "at least one client is required")
	}
	ids := map[string]int{}
	for i := range c.Clients {
		c.validateClient(v, i, ids)
	}
	c.validateAudiences(v, ids)
	for i, cl := range c.Clients {
		p := fmt.Sprintf("clients[%d].introspect_clients", i)
		if len(cl.IntrospectClients) > 0 && !cl.Introspect {
			v.add(p, "set without introspect: true")
		}
		seen := map[string]bool{}
		for j, id := range cl.IntrospectClients {
			jp := fmt.Sprintf("%s[%d]", p, j)
			switch _, known := ids[id]; {
			case !known:
				v.add(jp, "unknown client %q", id)
			case seen[id]:
				v.add(jp, "client %q listed twice", id)
			}
			seen[id] = true
		}
	}
}

// validateAudiences keeps relying parties' client ids out of access tokens' aud: an RP library
// that does not check typ would take such an access token for an ID token (RFC 9068 §5).
func (c *Config) validateAudiences(v *validator, ids map[string]int) {
	relyingParty := func(id string) bool {
		i, ok := ids[id]
		return id == ReservedClientID || ok && slices.Contains(c.Clients[i].GrantTypes, GrantAuthorizationCode)
	}
	if a := c.Tokens.AccessAudience; a != "" && strings.TrimSpace(a) != a {
		v.add("tokens.access_audience", "must not start or end with spaces")
	} else if relyingParty(c.AccessAudience()) {
		v.add("tokens.access_audience", "%q is a relying party's client id: its access tokens would pass for ID tokens", c.AccessAudience())
	}
	for i, cl := range c.Clients {
		for j, a := range cl.ExchangeAudiences {
			if relyingParty(a) {
				v.add(fmt.Sprintf("clients[%d].exchange_audiences[%d]", i, j), "%q is a relying party's client id: exchanged tokens would pass for its ID tokens", a)
			}
		}
	}
}

func (c *Config) validateClient(v *validator, i int, ids map[string]int) {
	cl := &c.Clients[i]
	p := fmt.Sprintf("clients[%d]", i)
	if cl.ID == "" {
		v.add(p+".id", "required")
	} else if cl.ID == ReservedClientID {
		v.add(p+".id", "%q is reserved for the broker's own sign-in", cl.ID)
	} else if j, dup := ids[cl.ID]; dup {
		v.add(p+".id", "client id %q already used by clients[%d]", cl.ID, j)
	} else {
		ids[cl.ID] = i
		if strings.ContainsFunc(cl.ID, func(r rune) bool { return r <= ' ' || r == ':' || r == 0x7f }) {
			v.add(p+".id", "must not contain spaces, control characters or ':'")
		}
	}
	validateText(v, p+".display_name", cl.DisplayName, []string{"it", "en"})
	if cl.Public {
		c.validatePublic(v, p, cl)
	} else {
		c.validateConfidential(v, p, cl)
	}
	c.validateGrants(v, p, cl)
	c.validateScopes(v, p, cl)
	for j, u := range cl.RedirectURIs {
		if msg := c.checkRedirect(u); msg != "" {
			v.add(fmt.Sprintf("%s.redirect_uris[%d]", p, j), "%s", msg)
		}
	}
	for j, u := range cl.PostLogoutRedirectURIs {
		if msg := c.checkRedirect(u); msg != "" {
			v.add(fmt.Sprintf("%s.post_logout_redirect_uris[%d]", p, j), "%s", msg)
		}
	}
	c.validateBackchannel(v, p, cl)
	// A value inherited from keys.algorithm is reported there.
	if !slices.Contains(signingAlgs, cl.SigningAlg) && cl.SigningAlg != c.Keys.Algorithm {
		v.add(p+".signing_alg", "want ES256 or RS256")
	}
	if cl.MinACR != "" && loa.LevelOf(cl.MinACR) == 0 {
		v.add(p+".min_acr", "want one of %s", strings.Join(acrs, ", "))
	}
	c.validateClientKeys(v, p, cl)
	c.validateTLSClient(v, p, cl)
	c.validateProfile(v, p, cl)
	if cl.RequirePushedAuthorizationRequests && !slices.Contains(cl.GrantTypes, GrantAuthorizationCode) {
		v.add(p+".require_pushed_authorization_requests", "set without the authorization_code grant")
	}
	if len(cl.ExchangeAudiences) > 0 && !slices.Contains(cl.GrantTypes, GrantTokenExchange) {
		v.add(p+".exchange_audiences", "set without the token-exchange grant")
	}
	if len(cl.ExchangeSubjectClients) > 0 && !slices.Contains(cl.GrantTypes, GrantTokenExchange) {
		v.add(p+".exchange_subject_clients", "set without the token-exchange grant")
	}
	creds := map[string]bool{}
	for j, id := range cl.Credentials {
		cp := fmt.Sprintf("%s.credentials[%d]", p, j)
		switch {
		case !credentialIDRe.MatchString(id):
			v.add(cp, "%q is not a provider id", id)
		case creds[id]:
			v.add(cp, "provider %q listed twice", id)
		}
		creds[id] = true
	}
	seen := map[string]bool{}
	for j, a := range cl.ExchangeAudiences {
		ap := fmt.Sprintf("%s.exchange_audiences[%d]", p, j)
		switch {
		case strings.TrimSpace(a) == "":
			v.add(ap, "must not be empty")
		case seen[a]:
			v.add(ap, "audience %q listed twice", a)
		}
		seen[a] = true
	}
}

func (c *Config) validatePublic(v *validator, p string, cl *Client) {
	if cl.Secret.IsSet() || cl.Secret.written {
		// Even an empty one: whoever wrote it meant a confidential client.
		v.add(p+".secret", "a public client has no secret (it proves itself with PKCE): remove the key, or drop public: true")
	}
	if cl.AuthMethod != AuthNone {
		v.add(p+".auth_method", "a public client uses none")
	}
	if cl.Introspect {
		v.add(p+".introspect", "a public client cannot authenticate to the introspection endpoint")
	}
	for j, g := range cl.GrantTypes {
		if g == GrantClientCredentials || g == GrantTokenExchange {
			v.add(fmt.Sprintf("%s.grant_types[%d]", p, j), "a public client may not use %s", g)
		}
	}
}

func (c *Config) validateConfidential(v *validator, p string, cl *Client) {
	switch cl.AuthMethod {
	case AuthSecretBasic, AuthSecretPost:
		switch {
		case !cl.Secret.IsSet():
			v.add(p+".secret", "required for a confidential client: a secret reference (file:/path or env:NAME)")
		case !c.Dev && len(cl.Secret.Value) < minSecretLen && cl.Secret.Value != "":
			v.add(p+".secret", "shorter than %d characters", minSecretLen)
		}
	case AuthPrivateKeyJWT:
		if cl.Secret.IsSet() {
			v.add(p+".secret", "not used with private_key_jwt: remove it")
		}
		if cl.JWKSFile == "" {
			v.add(p+".jwks_file", "required with private_key_jwt: the client's public keys (JWKS JSON)")
		}
	case AuthTLSClient, AuthSelfSignedTLSClient:
		if cl.Secret.IsSet() {
			v.add(p+".secret", "not used with %s: remove it", cl.AuthMethod)
		}
	case AuthNone:
		v.add(p+".auth_method", "none is for public clients (set public: true)")
	default:
		v.add(p+".auth_method", "want client_secret_basic, client_secret_post, private_key_jwt, tls_client_auth or self_signed_tls_client_auth")
	}
}

// validateClientKeys checks the client's public keys: a readable JWKS file, or a jwks_uri
// (https outside dev mode), not both; a client that must sign its request objects has keys.
func (c *Config) validateClientKeys(v *validator, p string, cl *Client) {
	if cl.JWKSFile != "" {
		if msg := checkJWKS(cl.JWKSFile); msg != "" {
			v.add(p+".jwks_file", "%s", msg)
		}
	}
	if cl.JWKSURI != "" {
		u, err := url.Parse(cl.JWKSURI)
		switch {
		case cl.JWKSFile != "":
			v.add(p+".jwks_uri", "give jwks_file or jwks_uri, not both")
		case cl.AuthMethod == AuthPrivateKeyJWT:
			v.add(p+".jwks_uri", "a private_key_jwt client's keys are its jwks_file")
		case err != nil || u.Host == "" || (u.Scheme != "https" && !(c.Dev && u.Scheme == "http")):
			v.add(p+".jwks_uri", "want an absolute https URL")
		}
	}
	if cl.RequireSignedRequestObject {
		if cl.JWKSFile == "" && cl.JWKSURI == "" {
			v.add(p+".require_signed_request_object", "set without the client's keys (jwks_file or jwks_uri)")
		}
		if !slices.Contains(cl.GrantTypes, GrantAuthorizationCode) {
			v.add(p+".require_signed_request_object", "set without the authorization_code grant")
		}
	}
}

// checkJWKS reads a client's JWKS file: valid JSON, at least one key, public keys only.
func checkJWKS(name string) string {
	data, err := readSmallFile(name, maxJWKSFile)
	if err != nil {
		return err.Error()
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(data, &set); err != nil {
		return fmt.Sprintf("%s is not a valid JWKS: %v", name, err)
	}
	if len(set.Keys) == 0 {
		return fmt.Sprintf("%s holds no key", name)
	}
	for _, k := range set.Keys {
		if !k.IsPublic() {
			return fmt.Sprintf("%s holds a private key: give only the client's public keys", name)
		}
	}
	return ""
}

func (c *Config) validateGrants(v *validator, p string, cl *Client) {
	seen := map[string]bool{}
	for j, g := range cl.GrantTypes {
		gp := fmt.Sprintf("%s.grant_types[%d]", p, j)
		switch {
		case !slices.Contains(knownGrants, g):
			v.add(gp, "unknown grant type %q: want one of %s", g, strings.Join(knownGrants, ", "))
		case seen[g]:
			v.add(gp, "grant type %q listed twice", g)
		}
		seen[g] = true
	}
	if seen[GrantAuthorizationCode] && len(cl.RedirectURIs) == 0 {
		v.add(p+".redirect_uris", "required with the authorization_code grant")
	}
	if seen[GrantRefreshToken] && !seen[GrantAuthorizationCode] {
		v.add(p+".grant_types", "refresh_token needs authorization_code")
	}
}

func (c *Config) validateScopes(v *validator, p string, cl *Client) {
	if len(cl.Scopes) == 0 {
		v.add(p+".scopes", "required: the scopes the client may ask for")
	}
	seen := map[string]bool{}
	for j, s := range cl.Scopes {
		sp := fmt.Sprintf("%s.scopes[%d]", p, j)
		switch {
		case !knownScope(s):
			v.add(sp, "unknown scope %q: want one of %s, or a custom scope starting with %s",
				s, strings.Join(KnownScopes, " "), strings.Join(CustomScopePrefixes, " or "))
		case seen[s]:
			v.add(sp, "scope %q listed twice", s)
		}
		seen[s] = true
	}
	if seen["offline_access"] && !slices.Contains(cl.GrantTypes, GrantRefreshToken) {
		v.add(p+".scopes", "offline_access needs the refresh_token grant")
	}
}

func knownScope(s string) bool {
	if slices.Contains(KnownScopes, s) {
		return true
	}
	for _, prefix := range CustomScopePrefixes {
		if rest, ok := strings.CutPrefix(s, prefix); ok && rest != "" &&
			!strings.ContainsFunc(rest, func(r rune) bool { return r <= ' ' || r == '"' || r == '\\' || r == 0x7f }) {
			return true
		}
	}
	return false
}

// checkRedirect returns why a redirect URI is refused, or "". Redirect URIs match exactly, so
// they must be complete: absolute, no fragment, https unless dev mode or a loopback address
// (RFC 8252 native apps).
func (c *Config) checkRedirect(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil || !u.IsAbs() || u.Host == "":
		return "want an absolute URL such as https://rp.example.it/callback"
	case strings.Contains(raw, "#"):
		return "must not have a fragment"
	case u.User != nil:
		return "must not carry user information"
	case strings.Contains(raw, "*"):
		return "wildcards are not allowed: redirect URIs match exactly"
	case u.Scheme == "https":
		return ""
	case u.Scheme == "http" && (c.Dev || isLoopback(u.Hostname())):
		return ""
	case u.Scheme == "http":
		return "want https (http only in dev mode or for 127.0.0.1, [::1] and localhost)"
	}
	return "want an https URL"
}

// validateBackchannel checks the back-channel logout registration (OpenID Connect
// Back-Channel Logout 1.0 §2.2): an absolute URL without fragment, https — http only in dev
// mode and on a loopback host, for a receiver on the developer's machine —, and only on a
// client that logs people in.
func (c *Config) validateBackchannel(v *validator, p string, cl *Client) {
	if cl.BackchannelLogoutURI == "" {
		if cl.BackchannelLogoutSessionRequired {
			v.add(p+".backchannel_logout_session_required", "set without backchannel_logout_uri")
		}
		return
	}
	raw := cl.BackchannelLogoutURI
	u, err := url.Parse(raw)
	msg := ""
	switch {
	case err != nil || !u.IsAbs() || u.Host == "":
		msg = "want an absolute URL such as https://rp.example.it/backchannel-logout"
	case strings.Contains(raw, "#"):
		msg = "must not have a fragment (Back-Channel Logout §2.2)"
	case u.User != nil:
		msg = "must not carry user information"
	case u.Scheme == "https":
	case u.Scheme == "http" && c.Dev && isLoopback(u.Hostname()):
	case u.Scheme == "http":
		msg = "want https (http only in dev mode, for 127.0.0.1, [::1] and localhost)"
	default:
		msg = "want an https URL"
	}
	if msg != "" {
		v.add(p+".backchannel_logout_uri", "%s", msg)
	}
	if !slices.Contains(cl.GrantTypes, GrantAuthorizationCode) {
		v.add(p+".backchannel_logout_uri", "set without the authorization_code grant: the client never has a session to end")
	}
}

func isLoopback(host string) bool {
	return host == "127.0.0.1" || host == "localhost" || host == "::1"
}
