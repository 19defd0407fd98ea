package broker

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/inps/sportello/broker/keys"
	"github.com/inps/sportello/config"
	"github.com/inps/sportello/internal/audit"
	"github.com/inps/sportello/internal/loa"
)

func jwks(t *testing.T, tb *testBroker) jose.JSONWebKeySet {
	t.Helper()
	resp, err := http.Get(tb.URL + pathJWKS)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	return set
}

func loginTokens(t *testing.T, tb *testBroker, scope string) map[string]any {
	t.Helper()
	code := codeFor(t, tb, "demo-rp", url.Values{"scope": {scope}})
	st, out := postForm(t, tb.URL+pathToken, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {"http://127.0.0.1:9000/callback"}}, "demo-rp", "demo-secret")
	if st != http.StatusOK {
		t.Fatalf("code exchange: %d %v", st, out)
	}
	return out
}

// JWKS publishes active, next and retired keys; a rotation promotes next to active without a
// restart, and tokens signed before it keep verifying until they expire.
func TestKeyRotation(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	before := jwks(t, tb)
	if len(before.Keys) != 4 {
		t.Fatalf("JWKS has %d keys, want active+next for ES256 and RS256", len(before.Keys))
	}
	old := loginTokens(t, tb, "openid fiscal_number")
	oldKid := jwtHeader(t, old["access_token"].(string))["kid"].(string)
	nextKid := nextES256Kid(t, tb)
	if _, err := tb.keys.Source.Rotate(context.Background(), time.Now(), time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := tb.ReloadKeys(context.Background()); err != nil {
		t.Fatal(err)
	}
	after := jwks(t, tb)
	if len(after.Keys) != 6 {
		t.Fatalf("after rotation JWKS has %d keys, want active+next+retired for both algorithms", len(after.Keys))
	}
	if after.Keys[0].KeyID == oldKid {
		t.Fatal("the retired key is still listed first")
	}
	fresh := loginTokens(t, tb, "openid fiscal_number")
	if kid := jwtHeader(t, fresh["access_token"].(string))["kid"]; kid != nextKid {
		t.Fatalf("new tokens signed by %v, want the former next key %s", kid, nextKid)
	}
	if _, st := userinfo(t, tb, old["access_token"].(string)); st != http.StatusOK {
		t.Fatalf("a token signed before the rotation no longer verifies: %d", st)
	}
	// Past the grace period the retired key leaves the JWKS and its tokens stop verifying.
	tb.keys.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	tb.keys.Grace = time.Hour
	if _, err := tb.keys.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(jwks(t, tb).Keys); n != 4 {
		t.Fatalf("retired keys kept past the grace period: %d keys", n)
	}
	if _, st := userinfo(t, tb, old["access_token"].(string)); st == http.StatusOK {
		t.Fatal("a token of a pruned key still verifies")
	}
}

func TestRS256PerClient(t *testing.T) {
	tb := newTestBroker(t, memStore(t), func(c *config.Config) {
		for i := range c.Clients {
			if c.Clients[i].ID == "demo-rp" {
				c.Clients[i].SigningAlg = "RS256"
			}
		}
	})
	out := loginTokens(t, tb, "openid")
	for _, k := range []string{"access_token", "id_token"} {
		if alg := jwtHeader(t, out[k].(string))["alg"]; alg != "RS256" {
			t.Errorf("%s signed with %v, want RS256", k, alg)
		}
	}
	if _, st := userinfo(t, tb, out["access_token"].(string)); st != http.StatusOK {
		t.Fatalf("RS256 access token refused at userinfo: %d", st)
	}
}

func TestPrivateKeyJWT(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	dir := t.TempDir()
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}}
	raw, _ := json.Marshal(set)
	jwksPath := filepath.Join(dir, "jwks.json")
	if err := os.WriteFile(jwksPath, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	tb := newTestBroker(t, memStore(t), func(c *config.Config) {
		c.Clients = append(c.Clients, config.Client{ID: "jwt-service", AuthMethod: "private_key_jwt", JWKSFile: jwksPath,
			GrantTypes: []string{"client_credentials"}, Scopes: []string{"inps:services"}})
	})
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}}, nil)
	assertion := func(jti, aud string, exp time.Time) string {
		s, err := jwt.Signed(signer).Claims(jwt.Claims{Issuer: "jwt-service", Subject: "jwt-service", Audience: jwt.Audience{aud},
			ID: jti, IssuedAt: jwt.NewNumericDate(time.Now()), Expiry: jwt.NewNumericDate(exp)}).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	call := func(a string) (int, map[string]any) {
		return postForm(t, tb.URL+pathToken, url.Values{"grant_type": {"client_credentials"},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {a}}, "", "")
	}
	good := assertion("jti-1", tb.URL, time.Now().Add(time.Minute))
	if st, out := call(good); st != http.StatusOK {
		t.Fatalf("valid assertion refused: %d %v", st, out)
	}
	cases := map[string]string{
		"replayed assertion (jti single use)": good,
		"wrong audience":                      assertion("jti-2", "https://other.example", time.Now().Add(time.Minute)),
		"expired assertion":                   assertion("jti-3", tb.URL, time.Now().Add(-time.Minute)),
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	forger, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: other, KeyID: "k1"}}, nil)
	forged, _ := jwt.Signed(forger).Claims(jwt.Claims{Issuer: "jwt-service", Subject: "jwt-service", Audience: jwt.Audience{tb.URL},
		ID: "jti-4", IssuedAt: jwt.NewNumericDate(time.Now()), Expiry: jwt.NewNumericDate(time.Now().Add(time.Minute))}).Serialize()
	cases["signed by another key"] = forged
	for name, a := range cases {
		t.Run(name+" is invalid_client", func(t *testing.T) {
			if st, out := call(a); st != http.StatusUnauthorized || out["error"] != "invalid_client" {
				t.Fatalf("got %d %v", st, out)
			}
		})
	}
	t.Run("a private_key_jwt client cannot use a secret", func(t *testing.T) {
		if st, _ := postForm(t, tb.URL+pathToken, url.Values{"grant_type": {"client_credentials"}}, "jwt-service", "anything"); st != http.StatusUnauthorized {
			t.Fatalf("got %d", st)
		}
	})
}

func TestTokenExchange(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	user := loginTokens(t, tb, "openid profile fiscal_number")
	at := user["access_token"].(string)
	exchange := func(form url.Values, id, secret string) (int, map[string]any) {
		form.Set("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange")
		return postForm(t, tb.URL+pathToken, form, id, secret)
	}
	base := func() url.Values {
		return url.Values{"subject_token": {at}, "subject_token_type": {"urn:ietf:params:oauth:token-type:access_token"},
			"audience": {"inps-pensioni"}, "scope": {"openid fiscal_number"}}
	}
	st, out := exchange(base(), "demo-service", "demo-service-secret")
	if st != http.StatusOK {
		t.Fatalf("exchange refused: %d %v", st, out)
	}
	claims := introspectClaims(t, tb, out["access_token"].(string))
	act, _ := claims["act"].(map[string]any)
	if claims["sub"] != jwtClaims(t, at)["sub"] || claims["acr"] != "https://www.spid.gov.it/SpidL2" || act["sub"] != "demo-service" ||
		claims["fiscal_number"] != "RSSMRA80A01H501U" || claims["given_name"] != nil {
		t.Fatalf("exchanged token claims = %v", claims)
	}
	// Exchanging the exchanged token nests the earlier actor.
	second := base()
	second.Set("subject_token", out["access_token"].(string))
	second.Set("audience", "inps-isee")
	if st, out2 := exchange(second, "demo-service", "demo-service-secret"); st != http.StatusOK {
		t.Fatalf("second exchange: %d %v", st, out2)
	} else if nested := jwtClaims(t, out2["access_token"].(string))["act"].(map[string]any); nested["act"] == nil {
		t.Fatalf("earlier act not nested: %v", nested)
	}
	// A service may exchange its own exchanged tokens, but the actor chain stops at 8.
	chained := out["access_token"].(string)
	for depth := 1; depth < maxActDepth; depth++ {
		f := base()
		f.Set("subject_token", chained)
		st, next := exchange(f, "demo-service", "demo-service-secret")
		if st != http.StatusOK {
			t.Fatalf("exchange at act depth %d: %d %v", depth, st, next)
		}
		chained = next["access_token"].(string)
	}
	f := base()
	f.Set("subject_token", chained)
	if _, over := exchange(f, "demo-service", "demo-service-secret"); over["error"] != "invalid_grant" {
		t.Fatalf("exchange of a token with %d nested actors: %v", maxActDepth, over)
	}
	refusals := []struct {
		name, want string
		form       url.Values
		id, secret string
	}{
		{"client without the grant", "unauthorized_client", base(), "demo-rp", "demo-secret"},
		{"audience not allowed", "invalid_target", func() url.Values { f := base(); f.Set("audience", "inps-other"); return f }(), "demo-service", "demo-service-secret"},
		{"widened scope", "invalid_scope", func() url.Values { f := base(); f.Set("scope", "openid email"); return f }(), "demo-service", "demo-service-secret"},
		{"foreign token", "invalid_grant", func() url.Values { f := base(); f.Set("subject_token", forgeToken(t)); return f }(), "demo-service", "demo-service-secret"},
	}
	for _, tt := range refusals {
		t.Run(tt.name+" is "+tt.want, func(t *testing.T) {
			if _, out := exchange(tt.form, tt.id, tt.secret); out["error"] != tt.want {
				t.Fatalf("got %v", out)
			}
		})
	}
	t.Run("expired subject token is invalid_grant", func(t *testing.T) {
		tb.now = func() time.Time { return time.Now().Add(time.Hour) }
		defer func() { tb.now = time.Now }()
		if _, out := exchange(base(), "demo-service", "demo-service-secret"); out["error"] != "invalid_grant" {
			t.Fatalf("got %v", out)
		}
	})
	t.Run("revoked subject token is invalid_grant", func(t *testing.T) {
		postForm(t, tb.URL+pathRevoke, url.Values{"token": {at}, "token_type_hint": {"access_token"}}, "demo-rp", "demo-secret")
		if _, out := exchange(base(), "demo-service", "demo-service-secret"); out["error"] != "invalid_grant" {
			t.Fatalf("got %v", out)
		}
	})
}

func introspectClaims(t *testing.T, tb *testBroker, tok string) map[string]any {
	t.Helper()
	_, out := postForm(t, tb.URL+pathIntrospect, url.Values{"token": {tok}}, "demo-service", "demo-service-secret")
	if out["active"] != true {
		t.Fatalf("token not active: %v", out)
	}
	return out
}

func jwtClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	raw, err := base64URLDecode(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return m
}

// forgeToken is an at+jwt with the right shape signed by a key the broker never published.
func forgeToken(t *testing.T) string {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	s, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithType("at+jwt"))
	tok, _ := jwt.Signed(s).Claims(map[string]any{"sub": "x", "exp": time.Now().Add(time.Hour).Unix()}).Serialize()
	return tok
}

func TestHealthReadinessMetrics(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	loginTokens(t, tb, "openid")
	for path, wants := range map[string][]string{"/healthz": {`"ok"`}, "/readyz": {`"ready"`},
		"/metrics": {`sportello_tokens_issued_total{grant="authorization_code"} 1`,
			`sportello_logins_total{level="L2",method="test",outcome="started"} 1`,
			`sportello_logins_total{level="L2",method="spid",outcome="success"} 1`,
			`sportello_http_request_duration_seconds_count{endpoint="token"} 1`}} {
		resp, err := http.Get(tb.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body := new(strings.Builder)
		_, _ = ioCopy(body, resp)
		for _, want := range wants {
			if resp.StatusCode != http.StatusOK || !strings.Contains(body.String(), want) {
				t.Errorf("%s: %d, body lacks %q\n%s", path, resp.StatusCode, want, grepLines(body.String(), "sportello_logins"))
			}
		}
	}
	_ = tb.store.Close()
	resp, err := http.Get(tb.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("/readyz with the store closed = %d, want 503", resp.StatusCode)
	}
}

// A service may exchange only users' tokens issued to the relying parties it acts for
// (clients[].exchange_subject_clients): a token of any other application is refused.
func TestTokenExchangeOnlyFromTrustedClients(t *testing.T) {
	tb := newTestBroker(t, memStore(t), func(c *config.Config) {
		for i := range c.Clients {
			if c.Clients[i].ID == "demo-service" {
				c.Clients[i].ExchangeSubjectClients = []string{"demo-spa"}
			}
		}
	})
	at := loginTokens(t, tb, "openid fiscal_number")["access_token"].(string) // issued to demo-rp
	_, out := postForm(t, tb.URL+pathToken, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"},
		"subject_token": {at}, "subject_token_type": {"urn:ietf:params:oauth:token-type:access_token"},
		"audience": {"inps-pensioni"}}, "demo-service", "demo-service-secret")
	if out["error"] != "invalid_grant" {
		t.Fatalf("a token of an untrusted relying party was exchanged: %v", out)
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// RFC 7009 for refresh tokens: revoking one ends its whole family (the rotated successors
// too); another client's revocation request is ignored.
func TestRevokeRefreshToken(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	first := loginTokens(t, tb, "openid offline_access")
	refresh := func(rt string) map[string]any {
		_, out := postForm(t, tb.URL+pathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, "demo-rp", "demo-secret")
		return out
	}
	second := refresh(first["refresh_token"].(string))
	rt, _ := second["refresh_token"].(string)
	if rt == "" {
		t.Fatalf("no rotated refresh token: %v", second)
	}
	if st, out := postForm(t, tb.URL+pathRevoke, url.Values{"token": {rt}, "token_type_hint": {"refresh_token"}}, "demo-service", "demo-service-secret"); st != http.StatusOK {
		t.Fatalf("revocation by another client: %d %v", st, out)
	}
	third := refresh(rt)
	rt, _ = third["refresh_token"].(string)
	if rt == "" {
		t.Fatalf("another client's revocation took effect: %v", third)
	}
	if st, _ := postForm(t, tb.URL+pathRevoke, url.Values{"token": {rt}}, "demo-rp", "demo-secret"); st != http.StatusOK {
		t.Fatalf("revocation: %d", st)
	}
	if out := refresh(rt); out["error"] != "invalid_grant" {
		t.Fatalf("revoked refresh token still works: %v", out)
	}
	if _, out := postForm(t, tb.URL+pathIntrospect, url.Values{"token": {rt}}, "demo-service", "demo-service-secret"); out["active"] != false {
		t.Fatalf("revoked refresh token introspects as %v", out)
	}
}

// A rotation made by one replica (sportello keys rotate writes the shared store) reaches a
// running replica by itself, through its reload loop: no restart, no SIGHUP.
func TestKeyRotationReachesARunningReplica(t *testing.T) {
	st := memStore(t)
	dir := t.TempDir()
	a := newTestBrokerFull(t, st, dir, nil)
	events := &audit.Recorder{}
	b := newTestBrokerFull(t, st, dir, func(o *Options) { o.KeyReloadInterval = 20 * time.Millisecond; o.Auditor = events })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go b.Run(ctx)
	nextKid := nextES256Kid(t, a)
	before := loginTokens(t, b, "openid")
	if kid := jwtHeader(t, before["access_token"].(string))["kid"]; kid == nextKid {
		t.Fatal("signing with the next key before the rotation")
	}
	if _, err := a.keys.Source.Rotate(ctx, time.Now(), time.Hour); err != nil {
		t.Fatal(err)
	}
	var kid any
	for i := 0; i < 250 && kid != nextKid; i++ {
		time.Sleep(20 * time.Millisecond)
		kid = jwtHeader(t, loginTokens(t, b, "openid")["access_token"].(string))["kid"]
	}
	if kid != nextKid {
		t.Fatalf("the running replica still signs with %v after the rotation, want %s", kid, nextKid)
	}
	if _, st := userinfo(t, b, before["access_token"].(string)); st != http.StatusOK {
		t.Fatalf("a token of the retired key no longer verifies on the replica: %d", st)
	}
	// The replica audits that it now signs with other keys.
	if e := events.Last("keys.reloaded"); e == nil || !slices.Contains(e.Fields["active"].([]string), nextKid) {
		t.Fatalf("keys.reloaded audit: %+v", e)
	}
}

// An official's authorisations go into the tokens whatever credential they use (here a SPID
// login), and never into the tokens of someone else.
func TestEntitlementsWithAnyCredential(t *testing.T) {
	tb := newTestBrokerWith(t, memStore(t), func(o *Options) {
		o.Entitlements = func(_ context.Context, cf string) ([]string, error) {
			if cf == "RSSMRA80A01H501U" {
				return []string{"isee:consultazione"}, nil
			}
			return nil, nil
		}
	})
	out := loginTokens(t, tb, "openid fiscal_number")
	for _, tok := range []string{out["id_token"].(string), out["access_token"].(string)} {
		c := jwtClaims(t, tok)
		if ents, _ := c["entitlements"].([]any); c["auth_method"] != "spid" || len(ents) != 1 || ents[0] != "isee:consultazione" {
			t.Fatalf("official's SPID login: %v", c)
		}
	}
	code := codeFor(t, tb, "demo-rp", url.Values{"scope": {"openid"}, "idp": {"BNCLRA85M41F205C:2"}, "prompt": {"login"}})
	_, other := postForm(t, tb.URL+pathToken, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {"http://127.0.0.1:9000/callback"}}, "demo-rp", "demo-secret")
	if c := jwtClaims(t, other["id_token"].(string)); c["entitlements"] != nil {
		t.Fatalf("a citizen got entitlements: %v", c)
	}
}

// With no acr_values and no claims the configured default level applies: an L1 login is
// refused under the default SpidL2 and accepted when policy.default_acr is SpidL1.
func TestDefaultACRWhenNothingIsAsked(t *testing.T) {
	login := func(tb *testBroker) (url.Values, string) {
		q := url.Values{"client_id": {"demo-rp"}, "response_type": {"code"}, "scope": {"openid"},
			"redirect_uri": {"http://127.0.0.1:9000/callback"}, "state": {"s"}, "idp": {"RSSMRA80A01H501U:1"}}
		cb, resp := newBrowser(t).authorize(t, tb.URL+pathAuthorize+"?"+q.Encode())
		body, _ := io.ReadAll(resp.Body)
		return cb, string(body)
	}
	// The failure page offers the way back with the OAuth error, and the failure is audited.
	events := &audit.Recorder{}
	if cb, body := login(newTestBrokerWith(t, memStore(t), func(o *Options) { o.Auditor = events })); cb != nil ||
		!strings.Contains(body, "error=unmet_authentication_requirements") {
		t.Fatalf("an L1 login under the default SpidL2: %v", cb)
	}
	if e := events.Last("login.failure"); e == nil || e.Fields["error"] != "unmet_authentication_requirements" ||
		e.Fields["client_id"] != "demo-rp" || e.Fields["acr_asked"] != loa.SpidL2 {
		t.Fatalf("login.failure audit: %+v", e)
	}
	l1 := newTestBroker(t, memStore(t), func(c *config.Config) { c.Policy.DefaultACR = loa.SpidL1 })
	if cb, _ := login(l1); cb == nil || cb.Get("code") == "" {
		t.Fatalf("an L1 login under default_acr SpidL1: %v", cb)
	}
}

// An IdP-initiated logout (the SPID provider calls EndUpstreamSession with the IdP, NameID and
// SessionIndex of the LogoutRequest) ends the broker session opened by that upstream session,
// and only that one.
func TestUpstreamLogoutEndsTheBrokerSession(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	login := func(cf string) *browser {
		br := newBrowser(t)
		q := url.Values{"client_id": {"demo-rp"}, "response_type": {"code"}, "scope": {"openid"},
			"redirect_uri": {"http://127.0.0.1:9000/callback"}, "state": {"s"}, "idp": {cf + ":2"}}
		if cb, _ := br.authorize(t, tb.URL+pathAuthorize+"?"+q.Encode()); cb == nil || cb.Get("code") == "" {
			t.Fatalf("login of %s failed", cf)
		}
		return br
	}
	silent := func(br *browser) string {
		q := url.Values{"client_id": {"demo-rp"}, "response_type": {"code"}, "scope": {"openid"},
			"redirect_uri": {"http://127.0.0.1:9000/callback"}, "state": {"s"}, "prompt": {"none"}}
		cb, _ := br.authorize(t, tb.URL+pathAuthorize+"?"+q.Encode())
		if cb == nil {
			return "no answer"
		}
		if cb.Get("code") != "" {
			return "code"
		}
		return cb.Get("error")
	}
	mario, laura := login("RSSMRA80A01H501U"), login("BNCLRA85M41F205C")
	if got := silent(mario); got != "code" {
		t.Fatalf("before the logout prompt=none answered %s", got)
	}
	if err := tb.EndUpstreamSession(t.Context(), map[string]string{"idp": "https://idp.example", "name_id": "_nameid-RSSMRA80A01H501U",
		"session_index": "_session-RSSMRA80A01H501U"}); err != nil {
		t.Fatal(err)
	}
	if got := silent(mario); got != "login_required" {
		t.Fatalf("after the IdP's logout prompt=none answered %s", got)
	}
	if got := silent(laura); got != "code" {
		t.Fatalf("another person's session ended too: %s", got)
	}
	if err := tb.EndUpstreamSession(t.Context(), map[string]string{"idp": "https://idp.example", "name_id": "_unknown", "session_index": "_x"}); err != nil {
		t.Fatalf("an unknown upstream session: %v", err)
	}
}

// nextES256Kid is the id of the ES256 key waiting to become active in tb's key set.
func nextES256Kid(t *testing.T, tb *testBroker) string {
	t.Helper()
	ks, err := tb.keys.Source.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range ks.Keys {
		if k.Alg == jose.ES256 && k.State == keys.Next {
			return k.ID
		}
	}
	t.Fatal("no next ES256 key")
	return ""
}
