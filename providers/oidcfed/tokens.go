package oidcfed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/inps/sportello/internal/fiscalcode"
	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/providers"
)

// IsNotFound reports whether err is the Store's not-found answer.
func IsNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

// The JWE algorithms the userinfo answer may use (the profile's list).
var (
	jweKeyAlgs = []jose.KeyAlgorithm{jose.RSA_OAEP, jose.RSA_OAEP_256}
	jweEncs    = []jose.ContentEncryption{jose.A128CBC_HS256, jose.A256CBC_HS512}
)

const maxResponse = 256 << 10

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	IDToken     string `json:"id_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Error       string `json:"error"`
}

// clientAssertion is the private_key_jwt assertion for aud (RFC 7523).
func (p *Provider) clientAssertion(aud string) (string, error) {
	jti, err := randomAlnum(16)
	if err != nil {
		return "", err
	}
	now := p.now()
	s, err := p.keySet().signer(UseSigning, "JWT")
	if err != nil {
		return "", err
	}
	return SignJWT(s, map[string]any{"iss": p.entityID, "sub": p.entityID, "aud": aud, "iat": now.Unix(),
		"exp": now.Add(5 * time.Minute).Unix(), "jti": jti})
}

// postForm POSTs form to endpoint with the client assertion and returns the body.
func (p *Provider) postForm(ctx context.Context, endpoint string, form url.Values) (int, []byte, error) {
	assertion, err := p.clientAssertion(endpoint)
	if err != nil {
		return 0, nil, err
	}
	form.Set("client_id", p.entityID)
	form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
	form.Set("client_assertion", assertion)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, nil, errors.Join(providers.ErrUnavailable, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	return resp.StatusCode, body, err
}

// exchange redeems code at the OP's token endpoint with private_key_jwt and the PKCE verifier.
func (p *Provider) exchange(ctx context.Context, c *Chain, code, verifier string) (*tokenResponse, error) {
	endpoint := c.String("token_endpoint")
	if endpoint == "" {
		return nil, fmt.Errorf("%w: %s has no token_endpoint", providers.ErrUnavailable, c.Subject)
	}
	status, body, err := p.postForm(ctx, endpoint, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {p.redirectURI()}, "code_verifier": {verifier}})
	if err != nil {
		return nil, err
	}
	tok := &tokenResponse{}
	if err := json.Unmarshal(body, tok); err != nil {
		return nil, fmt.Errorf("%w: token response (status %d) is not JSON", providers.ErrCredentialRejected, status)
	}
	if status != http.StatusOK || tok.Error != "" {
		return nil, fmt.Errorf("%w: token endpoint answered %d %s", providers.ErrCredentialRejected, status, tok.Error)
	}
	if tok.IDToken == "" || tok.AccessToken == "" || !strings.EqualFold(tok.TokenType, "bearer") {
		return nil, fmt.Errorf("%w: token response without id_token, access_token or Bearer type", providers.ErrCredentialRejected)
	}
	return tok, nil
}

// jwtClaims are the registered claims the broker checks on the OP's JWTs.
type jwtClaims struct {
	Issuer   string         `json:"iss"`
	Subject  string         `json:"sub"`
	Audience jwt.Audience   `json:"aud"`
	AZP      string         `json:"azp"`
	Expires  int64          `json:"exp"`
	IssuedAt int64          `json:"iat"`
	Nonce    string         `json:"nonce"`
	ACR      string         `json:"acr"`
	AMR      []string       `json:"amr"`
	AuthTime int64          `json:"auth_time"`
	Extra    map[string]any `json:"-"`
}

// verifyJWS checks raw as a JWS by one of the OP's keys (from its federation-verified
// metadata) and decodes its claims; then the issuer, the audience and the validity.
func (p *Provider) verifyJWS(c *Chain, raw, what string) (*jwtClaims, error) {
	keys, err := c.JWKS()
	if err != nil {
		return nil, err
	}
	jws, err := jose.ParseSignedCompact(raw, SignatureAlgs)
	if err != nil || len(jws.Signatures) != 1 {
		return nil, fmt.Errorf("%w: %s is not a compact JWS of an allowed algorithm", providers.ErrCredentialRejected, what)
	}
	kid := jws.Signatures[0].Protected.KeyID
	var payload []byte
	for _, k := range keys.Key(kid) {
		if payload, err = jws.Verify(k); err == nil {
			break
		}
	}
	if payload == nil {
		return nil, fmt.Errorf("%w: %s signed with key %q, not one of %s's keys", providers.ErrCredentialRejected, what, kid, c.Subject)
	}
	cl := &jwtClaims{}
	if err := json.Unmarshal(payload, cl); err != nil {
		return nil, fmt.Errorf("%w: %s claims: %w", providers.ErrCredentialRejected, what, err)
	}
	if err := json.Unmarshal(payload, &cl.Extra); err != nil {
		return nil, err
	}
	now, skew := p.now(), p.cfg.ClockSkew
	switch {
	case cl.Issuer != c.String("issuer"):
		return nil, fmt.Errorf("%w: %s issued by %q, not by the OP %q", providers.ErrCredentialRejected, what, cl.Issuer, c.String("issuer"))
	case !slices.Contains([]string(cl.Audience), p.entityID):
		return nil, fmt.Errorf("%w: %s is for %v, not for %s", providers.ErrCredentialRejected, what, []string(cl.Audience), p.entityID)
	case len(cl.Audience) > 1 && cl.AZP != p.entityID:
		return nil, fmt.Errorf("%w: %s has several audiences and azp %q", providers.ErrCredentialRejected, what, cl.AZP)
	case cl.Expires == 0 || !time.Unix(cl.Expires, 0).After(now.Add(-skew)):
		return nil, fmt.Errorf("%w: %s expired or without exp", providers.ErrCredentialRejected, what)
	case cl.IssuedAt == 0 || time.Unix(cl.IssuedAt, 0).After(now.Add(skew)):
		return nil, fmt.Errorf("%w: %s issued in the future or without iat", providers.ErrCredentialRejected, what)
	case cl.Subject == "":
		return nil, fmt.Errorf("%w: %s without sub", providers.ErrCredentialRejected, what)
	}
	return cl, nil
}

// verifyIDToken checks the ID token: signature by the OP, issuer, audience, validity, the
// nonce of the request and the level reached.
func (p *Provider) verifyIDToken(c *Chain, raw string, pd *pending) (*jwtClaims, error) {
	cl, err := p.verifyJWS(c, raw, "ID token")
	if err != nil {
		return nil, err
	}
	if cl.Nonce == "" || cl.Nonce != pd.Nonce {
		return nil, fmt.Errorf("%w: ID token nonce does not match the request's", providers.ErrCredentialRejected)
	}
	got, want := loa.LevelOf(cl.ACR), loa.LevelOf(pd.ACR)
	if got == 0 {
		return nil, fmt.Errorf("%w: ID token acr %q is not a SPID level", providers.ErrCredentialRejected, cl.ACR)
	}
	if got < want || (pd.Comparison == loa.Exact && got != want) {
		return nil, fmt.Errorf("%w: the OP reached %s, %s was asked", providers.ErrLevelNotReached, cl.ACR, pd.ACR)
	}
	return cl, nil
}

// userinfo fetches the userinfo answer (GET for SPID, POST for CIE), decrypts the JWE with
// the broker's encryption key its kid names, and verifies the inner JWS by the OP.
func (p *Provider) userinfo(ctx context.Context, c *Chain, accessToken string, pd *pending, sub string) (*jwtClaims, error) {
	endpoint := c.String("userinfo_endpoint")
	if endpoint == "" {
		return nil, fmt.Errorf("%w: %s has no userinfo_endpoint", providers.ErrUnavailable, c.Subject)
	}
	method := http.MethodGet
	if pd.Profile == ProfileCIE {
		method = http.MethodPost
	}
	req, err := http.NewRequestWithContext(ctx, method, endpoint, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, errors.Join(providers.ErrUnavailable, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, errors.Join(providers.ErrUnavailable, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: userinfo answered %d", providers.ErrCredentialRejected, resp.StatusCode)
	}
	inner, err := p.decrypt(strings.TrimSpace(string(body)))
	if err != nil {
		return nil, err
	}
	cl, err := p.verifyJWS(c, inner, "userinfo")
	if err != nil {
		return nil, err
	}
	if cl.Subject != sub {
		return nil, fmt.Errorf("%w: userinfo is about another subject than the ID token", providers.ErrCredentialRejected)
	}
	return cl, nil
}

// decrypt opens a userinfo JWE made for one of the broker's encryption keys.
func (p *Provider) decrypt(raw string) (string, error) {
	jwe, err := jose.ParseEncryptedCompact(raw, jweKeyAlgs, jweEncs)
	if err != nil {
		return "", fmt.Errorf("%w: userinfo is not a JWE of an allowed algorithm: %w", providers.ErrCredentialRejected, err)
	}
	if cty, _ := jwe.Header.ExtraHeaders[jose.HeaderContentType].(string); !strings.EqualFold(cty, "JWT") {
		return "", fmt.Errorf("%w: userinfo JWE cty %q, want JWT (signed, then encrypted)", providers.ErrCredentialRejected, cty)
	}
	key := p.keySet().decrypter(jwe.Header.KeyID)
	if key == nil {
		return "", fmt.Errorf("%w: userinfo encrypted for key %q, not one of the broker's", providers.ErrCredentialRejected, jwe.Header.KeyID)
	}
	plain, err := jwe.Decrypt(key)
	if err != nil {
		return "", fmt.Errorf("%w: userinfo does not decrypt: %w", providers.ErrCredentialRejected, err)
	}
	return string(plain), nil
}

// amrFor are the RFC 8176 values per level, as for SPID over SAML: L1 password, L2 a second
// factor, L3 a hardware-protected key.
func amrFor(level int) []string {
	switch level {
	case 1:
		return []string{"pwd"}
	case 2:
		return []string{"pwd", "mfa"}
	default:
		return []string{"pwd", "hwk", "mfa"}
	}
}

// identity maps the verified claims to the broker's Identity: the fiscal number (without
// TINIT-, check letter verified) gives the same sub as the person's SAML login.
func (p *Provider) identity(pd *pending, idt, info *jwtClaims, tok *tokenResponse) (*providers.Identity, error) {
	str := func(name string) string {
		if v, ok := info.Extra[name].(string); ok {
			return v
		}
		v, _ := idt.Extra[name].(string)
		return v
	}
	raw := str(ClaimFiscalNumber)
	cf, err := fiscalcode.Parse(strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(raw)), "TINIT-"))
	if err != nil {
		return nil, fmt.Errorf("%w: fiscal number: %w", providers.ErrCredentialRejected, err)
	}
	level := loa.LevelOf(idt.ACR)
	id := &providers.Identity{
		FiscalNumber: cf, GivenName: str("given_name"), FamilyName: str("family_name"), Birthdate: str("birthdate"),
		Email: str("email"), PhoneNumber: str("phone_number"), Method: methodOf(pd.Profile), ACR: idt.ACR,
		AMR: amrFor(level), AuthTime: p.now().UTC(),
		Session:    map[string]string{"oidcfed_op": pd.OP, "access_token": tok.AccessToken},
		Attributes: map[string]string{"oidcfed_op": pd.OP, "oidcfed_sub": idt.Subject},
	}
	if len(idt.AMR) > 0 {
		id.AMR = idt.AMR
	}
	if idt.AuthTime > 0 {
		id.AuthTime = time.Unix(idt.AuthTime, 0).UTC()
	}
	if pd.Profile == ProfileSPID {
		id.SPIDIdP, id.SPIDOP = pd.OP, pd.OP
	} else {
		id.CIEOP, id.CIEChannel = pd.OP, ChannelOIDCFed
	}
	if code := str(claimSPIDCode); code != "" {
		id.Attributes["spidCode"] = code
	}
	return id, nil
}
