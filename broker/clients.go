package broker

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/inps/sportello/broker/jar"
	"github.com/inps/sportello/config"
)

// Client is a registered relying party or service client. It implements op.Client.
type Client struct {
	id           string
	name         string
	displayName  config.Text
	secretHash   [32]byte
	hasSecret    bool
	public       bool
	authMethod   oidc.AuthMethod
	keys         *jose.JSONWebKeySet
	redirects    []string
	postLogout   []string
	scopes       []string
	grants       []oidc.GrantType
	alg          jose.SignatureAlgorithm
	minACR       string
	introspect   bool
	audiences    []string
	exchangeFrom []string
	idTokenTTL   time.Duration
	devMode      bool
	// requirePAR: /authorize takes this client's requests only through a pushed request_uri.
	requirePAR bool
	// jwksURI publishes the keys of the client's request objects (when keys is nil).
	jwksURI string
	// requireSigned: the client's authorization requests come in signed request objects only.
	requireSigned bool
	// tlsAuth is how a tls_client_auth or self_signed_tls_client_auth client's certificate
	// is recognised (RFC 8705 §2); nil for the other methods.
	tlsAuth *tlsClientAuth
	// dpopBound: the client's token requests must come with a DPoP proof.
	dpopBound bool
	// certBound: the client's access tokens are bound to its certificate (RFC 8705 §3).
	certBound bool
	// fapi2: the client follows the FAPI 2.0 Security Profile (clients[].profile): PKCE
	// required, ES256/PS256 request objects and client assertions only. Its configuration
	// already requires PAR and certificate-bound tokens.
	fapi2 bool

	// introspectFrom are the clients whose tokens this one may introspect, besides its own.
	introspectFrom []string
	// credentials are the provider ids its logins may use; empty: all.
	credentials []string
	// backchannelURI gets the client's logout tokens (OpenID Connect Back-Channel Logout);
	// backchannelSession is its backchannel_logout_session_required.
	backchannelURI     string
	backchannelSession bool
}

// offers says whether the client's logins may use provider id (clients[].credentials).
func (cl *Client) offers(id string) bool {
	return len(cl.credentials) == 0 || slices.Contains(cl.credentials, id)
}

var _ op.Client = (*Client)(nil)

func newClient(c config.Client, idTTL time.Duration, dev bool, defaultAlg string) (*Client, error) {
	cl := &Client{
		id:            c.ID,
		name:          c.Name,
		displayName:   c.DisplayName,
		public:        c.Public,
		authMethod:    oidc.AuthMethod(c.AuthMethod),
		redirects:     slices.Clone(c.RedirectURIs),
		postLogout:    slices.Clone(c.PostLogoutRedirectURIs),
		scopes:        slices.Clone(c.Scopes),
		credentials:   slices.Clone(c.Credentials),
		alg:           jose.SignatureAlgorithm(c.SigningAlg),
		minACR:        c.MinACR,
		introspect:    c.Introspect,
		audiences:     slices.Clone(c.ExchangeAudiences),
		exchangeFrom:  slices.Clone(c.ExchangeSubjectClients),
		idTokenTTL:    idTTL,
		devMode:       dev,
		requirePAR:    c.RequirePushedAuthorizationRequests,
		jwksURI:       c.JWKSURI,
		requireSigned: c.RequireSignedRequestObject,

		backchannelURI:     c.BackchannelLogoutURI,
		backchannelSession: c.BackchannelLogoutSessionRequired,
		dpopBound:          c.DPoPBoundAccessTokens,
		certBound:          c.CertBound(),
		fapi2:              c.Profile == config.ProfileFAPI2,
	}
	cl.introspectFrom = slices.Clone(c.IntrospectClients)
	if cl.alg == "" {
		cl.alg = jose.SignatureAlgorithm(defaultAlg)
	}
	if cl.alg == "" {
		cl.alg = jose.ES256
	}
	if cl.authMethod == "" {
		cl.authMethod = oidc.AuthMethodBasic
		if c.Public {
			cl.authMethod = oidc.AuthMethodNone
		}
	}
	for _, g := range c.GrantTypes {
		cl.grants = append(cl.grants, oidc.GrantType(g))
	}
	if len(cl.grants) == 0 {
		cl.grants = []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
	}
	if c.Secret.Value != "" {
		cl.secretHash = sha256.Sum256([]byte(c.Secret.Value))
		cl.hasSecret = true
	}
	if c.JWKSFile != "" {
		data, err := os.ReadFile(c.JWKSFile)
		if err != nil {
			return nil, fmt.Errorf("client %s: %w", c.ID, err)
		}
		var set jose.JSONWebKeySet
		if err := json.Unmarshal(data, &set); err != nil {
			return nil, fmt.Errorf("client %s: jwks_file: %w", c.ID, err)
		}
		cl.keys = &set
	}
	tlsAuth, err := newTLSClientAuth(c, cl.keys)
	if err != nil {
		return nil, fmt.Errorf("client %s: %w", c.ID, err)
	}
	cl.tlsAuth = tlsAuth
	return cl, nil
}

// checkSecret compares in constant time. Client secrets are high-entropy, so a SHA-256 digest
// (not a slow password hash) is the right tool: the token endpoint must stay fast.
func (c *Client) checkSecret(secret string) bool {
	if !c.hasSecret {
		return false
	}
	sum := sha256.Sum256([]byte(secret))
	return subtle.ConstantTimeCompare(sum[:], c.secretHash[:]) == 1
}

// jarClient is what package jar needs to verify the client's request objects.
func (c *Client) jarClient() jar.Client {
	jc := jar.Client{ID: c.id, JWKS: c.keys, JWKSURI: c.jwksURI}
	if c.fapi2 {
		jc.Algorithms = fapi2Algs
	}
	return jc
}

// fapi2Algs are the signature algorithms of a fapi2 client's request objects and client
// assertions (FAPI 2.0 Security Profile §5.4.1).
var fapi2Algs = []jose.SignatureAlgorithm{jose.ES256, jose.PS256}

// requiresPKCE: the client's authorization requests need an S256 code_challenge (RFC 7636;
// public clients, and FAPI 2.0 §5.3.2.2 for fapi2 clients).
func (c *Client) requiresPKCE() bool { return c.public || c.fapi2 }

func (c *Client) allowsGrant(g oidc.GrantType) bool { return slices.Contains(c.grants, g) }

// mayIntrospect reports whether this client may learn about a token issued to client with
// audience aud: its own tokens, those of its introspect_clients, and those naming it in aud
// (the resource server the token is for, RFC 7662 §4).
func (c *Client) mayIntrospect(client string, aud []string) bool {
	return client == c.id || slices.Contains(c.introspectFrom, client) || slices.Contains(aud, c.id)
}

// GetID implements op.Client.
func (c *Client) GetID() string { return c.id }

// RedirectURIs implements op.Client.
func (c *Client) RedirectURIs() []string { return c.redirects }

// PostLogoutRedirectURIs implements op.Client.
func (c *Client) PostLogoutRedirectURIs() []string { return c.postLogout }

// ApplicationType implements op.Client.
func (c *Client) ApplicationType() op.ApplicationType {
	if c.public {
		return op.ApplicationTypeUserAgent
	}
	return op.ApplicationTypeWeb
}

// AuthMethod implements op.Client.
func (c *Client) AuthMethod() oidc.AuthMethod { return c.authMethod }

// ResponseTypes implements op.Client.
func (c *Client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}

// GrantTypes implements op.Client.
func (c *Client) GrantTypes() []oidc.GrantType { return c.grants }

// LoginURL implements op.Client (unused: the broker serves its own login).
func (c *Client) LoginURL(id string) string { return "/login/" + id }

// AccessTokenType implements op.Client: access tokens are always JWTs (RFC 9068).
func (c *Client) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeJWT }

// IDTokenLifetime implements op.Client.
func (c *Client) IDTokenLifetime() time.Duration { return c.idTokenTTL }

// DevMode implements op.Client.
func (c *Client) DevMode() bool { return c.devMode }

// RestrictAdditionalIdTokenScopes implements op.Client.
func (c *Client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// RestrictAdditionalAccessTokenScopes implements op.Client.
func (c *Client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// IsScopeAllowed implements op.Client.
func (c *Client) IsScopeAllowed(scope string) bool { return slices.Contains(c.scopes, scope) }

// IDTokenUserinfoClaimsAssertion implements op.Client.
func (c *Client) IDTokenUserinfoClaimsAssertion() bool { return true }

// ClockSkew implements op.Client.
func (c *Client) ClockSkew() time.Duration { return 0 }
