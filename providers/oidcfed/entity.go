package oidcfed

import (
	"net/http"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Algorithms the broker states in its RP metadata: RS256 signatures (the profile's mandatory
// one) and the userinfo JWE with RSA-OAEP-256 and A256CBC-HS512.
const (
	rpSigningAlg = "RS256"
	rpKeyAlg     = "RSA-OAEP-256"
	rpContentEnc = "A256CBC-HS512"
)

// CallbackPath is the RP's redirect URI path under the issuer.
const CallbackPath = "/oidcfed/callback"

// entityConfiguration is the broker's own entity configuration claims at now.
func (p *Provider) entityConfiguration(now time.Time) map[string]any {
	ks := p.keySet()
	rpKeys := ks.Public(UseSigning)
	rpKeys.Keys = append(rpKeys.Keys, ks.Public(UseEncryption).Keys...)
	rp := map[string]any{
		"client_id":                       p.entityID,
		"client_registration_types":       []string{"automatic"},
		"redirect_uris":                   []string{p.redirectURI()},
		"jwks":                            rpKeys,
		"grant_types":                     []string{"authorization_code", "refresh_token"},
		"response_types":                  []string{"code"},
		"id_token_signed_response_alg":    rpSigningAlg,
		"userinfo_signed_response_alg":    rpSigningAlg,
		"userinfo_encrypted_response_alg": rpKeyAlg,
		"userinfo_encrypted_response_enc": rpContentEnc,
		"token_endpoint_auth_method":      "private_key_jwt",
		"application_type":                "web",
	}
	fed := map[string]any{}
	if c := p.cfg.Contacts; len(c) > 0 {
		rp["contacts"], fed["contacts"] = c, c
	}
	if n := p.cfg.OrganizationName; n != "" {
		rp["client_name"], rp["organization_name"], fed["organization_name"] = n, n, n
	}
	for k, v := range map[string]string{"homepage_uri": p.cfg.HomepageURI, "policy_uri": p.cfg.PolicyURI, "logo_uri": p.cfg.LogoURI} {
		if v != "" {
			fed[k] = v
		}
	}
	claims := map[string]any{
		"iss":      p.entityID,
		"sub":      p.entityID,
		"iat":      now.Unix(),
		"exp":      now.Add(p.cfg.StatementLifetime).Unix(),
		"jwks":     ks.Public(UseFederation),
		"metadata": map[string]any{EntityRP: rp, EntityFederated: fed},
	}
	if len(p.cfg.AuthorityHints) > 0 {
		claims["authority_hints"] = p.cfg.AuthorityHints
	}
	var marks []TrustMarkRef
	for _, tm := range p.cfg.TrustMarks {
		marks = append(marks, TrustMarkRef{ID: tm.Type, Type: tm.Type, TrustMark: strings.TrimSpace(tm.jwt)})
	}
	if len(marks) > 0 {
		claims["trust_marks"] = marks
	}
	return claims
}

// EntityConfiguration is the broker's signed entity configuration at now.
func (p *Provider) EntityConfiguration(now time.Time) (string, error) {
	s, err := p.keySet().StatementSigner()
	if err != nil {
		return "", err
	}
	return SignJWT(s, p.entityConfiguration(now))
}

// FederationJWKS is the broker's federation public keys (what a superior lists for it).
func (p *Provider) FederationJWKS() *jose.JSONWebKeySet { return p.keySet().Public(UseFederation) }

// EntityID is the broker's entity identifier (its client_id).
func (p *Provider) EntityID() string { return p.entityID }

func (p *Provider) redirectURI() string { return strings.TrimRight(p.h.Issuer, "/") + CallbackPath }

// serveEntityConfiguration answers GET /.well-known/openid-federation.
func (p *Provider) serveEntityConfiguration(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	jwt, err := p.EntityConfiguration(p.now())
	if err != nil {
		p.log.Error("federation: signing the entity configuration failed", "error", err)
		http.Error(w, "entity configuration unavailable", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", ContentTypeEntityStatement)
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write([]byte(jwt))
}
