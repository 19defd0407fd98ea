package broker

import (
	"encoding/json"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/inps/sportello/config"
	"github.com/inps/sportello/internal/loa"
)

// buildDiscovery pre-serialises the discovery document.
// The same document answers at /.well-known/oauth-authorization-server (RFC 8414): its
// members are those of RFC 8414 §2 plus OpenID Connect's. The signing algorithms of client
// assertions are exactly those verifyClientAssertion accepts; userinfo answers plain JSON, so
// no userinfo_signing_alg_values_supported (its "none" would mean an unsigned JWT). The DPoP
// algorithms (RFC 9449 §5.1) are exactly those the proof checker accepts.
func (b *Broker) buildDiscovery() ([]byte, error) {
	authAlgs := make([]string, len(assertionAlgs))
	for i, a := range assertionAlgs {
		authAlgs[i] = string(a)
	}
	authMethods := []string{"client_secret_basic", "client_secret_post", "private_key_jwt"}
	if b.mtlsEnabled() {
		authMethods = append(authMethods, config.AuthTLSClient, config.AuthSelfSignedTLSClient)
	}
	authMethods = slices.Clip(authMethods)
	d := map[string]any{
		"issuer":                                                   b.issuer,
		"authorization_endpoint":                                   b.issuer + pathAuthorize,
		"token_endpoint":                                           b.issuer + pathToken,
		"userinfo_endpoint":                                        b.issuer + pathUserinfo,
		"jwks_uri":                                                 b.issuer + pathJWKS,
		"introspection_endpoint":                                   b.issuer + pathIntrospect,
		"revocation_endpoint":                                      b.issuer + pathRevoke,
		"end_session_endpoint":                                     b.issuer + pathEndSession,
		"scopes_supported":                                         []string{"openid", "profile", "email", "phone", "fiscal_number", "offline_access"},
		"response_types_supported":                                 []string{"code"},
		"response_modes_supported":                                 []string{"query"},
		"grant_types_supported":                                    []string{string(oidc.GrantTypeCode), string(oidc.GrantTypeRefreshToken), string(oidc.GrantTypeClientCredentials), string(oidc.GrantTypeTokenExchange)},
		"subject_types_supported":                                  []string{"public"},
		"id_token_signing_alg_values_supported":                    []string{"ES256", "RS256"},
		"token_endpoint_auth_methods_supported":                    append(authMethods, "none"),
		"token_endpoint_auth_signing_alg_values_supported":         authAlgs,
		"introspection_endpoint_auth_methods_supported":            authMethods,
		"revocation_endpoint_auth_methods_supported":               append(authMethods, "none"),
		"introspection_endpoint_auth_signing_alg_values_supported": authAlgs,
		"revocation_endpoint_auth_signing_alg_values_supported":    authAlgs,
		"code_challenge_methods_supported":                         []string{"S256"},
		"acr_values_supported":                                     loa.All(),
		"claims_parameter_supported":                               true,
		"request_parameter_supported":                              true,
		"request_object_signing_alg_values_supported":              b.jar.Algorithms(),
		"request_uri_parameter_supported":                          false,
		"pushed_authorization_request_endpoint":                    b.issuer + pathPAR,
		"dpop_signing_alg_values_supported":                        b.dpopAS.Algorithms(),
		"require_pushed_authorization_requests":                    b.cfg.PAR.Required,
		"authorization_response_iss_parameter_supported":           true,
		// OpenID Connect Back-Channel Logout 1.0 §2.1: logout tokens always carry sid.
		"backchannel_logout_supported":         true,
		"backchannel_logout_session_supported": true,
		"ui_locales_supported":                 []string{"it", "en"},
		"claims_supported": []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "sid",
			"fiscal_number", "given_name", "family_name", "birthdate", "email", "phone_number",
			"auth_method", "spid_idp", "spid_op", "cie_channel", "cie_op", "eidas_country", "pin_type", "entitlements", "act"},
	}
	if b.mtlsEnabled() {
		// RFC 8705 §5: the endpoints a client reaches with its certificate; §3.3: this server
		// binds access tokens to it.
		m := b.mtlsURL()
		d["mtls_endpoint_aliases"] = map[string]string{"token_endpoint": m + pathToken,
			"pushed_authorization_request_endpoint": m + pathPAR, "introspection_endpoint": m + pathIntrospect,
			"revocation_endpoint": m + pathRevoke, "userinfo_endpoint": m + pathUserinfo}
		d["tls_client_certificate_bound_access_tokens"] = true
	}
	return json.Marshal(d)
}
