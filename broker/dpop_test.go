package broker

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/inps/sportello/broker/verify/dpop"
	"github.com/inps/sportello/config"
)

// A proof at the token endpoint binds the access token: token_type DPoP, cnf.jkt the key's
// thumbprint in the token and in introspection; the first proof, without a nonce, is
// answered use_dpop_nonce with the nonce to use (RFC 9449 §8), and every answer to a
// request with a proof carries the current one.
func TestDPoPBindsTheAccessToken(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	c := newDPoPClient(t)
	h := basic("demo-service", "demo-service-secret")
	h.Set("DPoP", c.proof(t, http.MethodPost, tb.issuer+pathToken, nil))
	first := send(t, http.MethodPost, tb.URL+pathToken, ccForm, h)
	if first.status != http.StatusBadRequest || first.err() != "use_dpop_nonce" || first.header.Get("DPoP-Nonce") == "" {
		t.Fatalf("proof without a nonce: %d %v nonce %q", first.status, first.body, first.header.Get("DPoP-Nonce"))
	}
	a := c.post(t, tb, pathToken, ccForm, "demo-service", "demo-service-secret", nil)
	if a.status != http.StatusOK || str(a.body, "token_type") != "DPoP" || a.header.Get("DPoP-Nonce") == "" {
		t.Fatalf("token: %d %v", a.status, a.body)
	}
	tok := str(a.body, "access_token")
	if got := cnfJKT(jwtClaims(t, tok)); got != c.jkt(t) {
		t.Fatalf("cnf.jkt = %q, want %q", got, c.jkt(t))
	}
	in := introspectClaims(t, tb, tok)
	if cnfJKT(in) != c.jkt(t) || in["token_type"] != "DPoP" {
		t.Fatalf("introspection: %v", in)
	}
	// Without a proof the token stays a bearer token.
	st, out := postForm(t, tb.URL+pathToken, ccForm, "demo-service", "demo-service-secret")
	if st != http.StatusOK || out["token_type"] != "Bearer" || jwtClaims(t, str(out, "access_token"))["cnf"] != nil {
		t.Fatalf("bearer token: %d %v", st, out)
	}
}

// Every rule of a proof holds at the token endpoint: each refusal is 400 invalid_dpop_proof
// (use_dpop_nonce for the nonce), and issues no token.
func TestDPoPProofRulesAtTheTokenEndpoint(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	c := newDPoPClient(t)
	if a := c.post(t, tb, pathToken, ccForm, "demo-service", "demo-service-secret", nil); a.status != http.StatusOK {
		t.Fatalf("good proof: %d %v", a.status, a.body)
	}
	now := time.Now()
	for _, tt := range []struct {
		name string
		edit func(map[string]any)
		want string
	}{
		{"a proof for another URL (htu) is refused", func(m map[string]any) { m["htu"] = tb.issuer + pathPAR }, "invalid_dpop_proof"},
		{"a proof for another issuer's token endpoint is refused", func(m map[string]any) { m["htu"] = "https://other.example/oauth/token" }, "invalid_dpop_proof"},
		{"a proof for another method (htm) is refused", func(m map[string]any) { m["htm"] = http.MethodGet }, "invalid_dpop_proof"},
		{"a stale proof (iat 5 minutes ago) is refused", func(m map[string]any) { m["iat"] = now.Add(-5 * time.Minute).Unix() }, "invalid_dpop_proof"},
		{"a proof from the future (iat in 5 minutes) is refused", func(m map[string]any) { m["iat"] = now.Add(5 * time.Minute).Unix() }, "invalid_dpop_proof"},
		{"a proof without jti is refused", func(m map[string]any) { delete(m, "jti") }, "invalid_dpop_proof"},
		{"a proof without the server nonce is use_dpop_nonce", func(m map[string]any) { delete(m, "nonce") }, "use_dpop_nonce"},
		{"a proof with a made-up nonce is use_dpop_nonce", func(m map[string]any) { m["nonce"] = "made-up" }, "use_dpop_nonce"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := basic("demo-service", "demo-service-secret")
			h.Set("DPoP", c.proof(t, http.MethodPost, tb.issuer+pathToken, tt.edit))
			a := send(t, http.MethodPost, tb.URL+pathToken, ccForm, h)
			if a.status != http.StatusBadRequest || a.err() != tt.want || a.body["access_token"] != nil {
				t.Fatalf("got %d %v, want 400 %s", a.status, a.body, tt.want)
			}
			if tt.want == "use_dpop_nonce" && a.header.Get("DPoP-Nonce") != c.nonce {
				t.Fatalf("DPoP-Nonce %q, want the current %q", a.header.Get("DPoP-Nonce"), c.nonce)
			}
		})
	}
	t.Run("a replayed proof (same jti) is refused", func(t *testing.T) {
		h := basic("demo-service", "demo-service-secret")
		h.Set("DPoP", c.proof(t, http.MethodPost, tb.issuer+pathToken, nil))
		if a := send(t, http.MethodPost, tb.URL+pathToken, ccForm, h); a.status != http.StatusOK {
			t.Fatalf("first use: %d %v", a.status, a.body)
		}
		if a := send(t, http.MethodPost, tb.URL+pathToken, ccForm, h); a.status != http.StatusBadRequest || a.err() != "invalid_dpop_proof" {
			t.Fatalf("replay: %d %v", a.status, a.body)
		}
	})
	for name, proofs := range map[string][]string{
		"two DPoP headers are refused":      {c.proof(t, http.MethodPost, tb.issuer+pathToken, nil), c.proof(t, http.MethodPost, tb.issuer+pathToken, nil)},
		"a proof that is no JWS is refused": {"not.a.proof"},
		"an empty DPoP header is refused":   {""},
	} {
		t.Run(name, func(t *testing.T) {
			h := basic("demo-service", "demo-service-secret")
			h["Dpop"] = proofs
			if a := send(t, http.MethodPost, tb.URL+pathToken, ccForm, h); a.status != http.StatusBadRequest || a.err() != "invalid_dpop_proof" {
				t.Fatalf("got %d %v", a.status, a.body)
			}
		})
	}
}

// A proof is single use across the cluster: replicas sharing one Store (and the crypto key
// the nonces come from) accept each other's nonces and refuse each other's replays.
func TestDPoPReplayIsRefusedByAnotherInstance(t *testing.T) {
	st := memStore(t)
	dir := t.TempDir()
	const iss = "https://login.example"
	a := newTestBrokerIn(t, st, dir, withIssuer(iss))
	b := newTestBrokerIn(t, st, dir, withIssuer(iss))
	c := newDPoPClient(t)
	if got := c.post(t, a, pathToken, ccForm, "demo-service", "demo-service-secret", nil); got.status != http.StatusOK {
		t.Fatalf("instance a: %d %v", got.status, got.body)
	}
	h := basic("demo-service", "demo-service-secret")
	h.Set("DPoP", c.proof(t, http.MethodPost, iss+pathToken, nil)) // a's nonce, sent to b
	if got := send(t, http.MethodPost, b.URL+pathToken, ccForm, h); got.status != http.StatusOK {
		t.Fatalf("instance b with a's nonce: %d %v", got.status, got.body)
	}
	if got := send(t, http.MethodPost, a.URL+pathToken, ccForm, h); got.status != http.StatusBadRequest || got.err() != "invalid_dpop_proof" {
		t.Fatalf("replay at instance a of b's proof: %d %v", got.status, got.body)
	}
}

// A client registered with dpop_bound_access_tokens gets no token without a proof (RFC 9449
// §5.2), whatever the grant.
func TestDPoPBoundClientWithoutAProofIsRefused(t *testing.T) {
	tb := newTestBroker(t, memStore(t), withClient("demo-service", func(c *config.Client) { c.DPoPBoundAccessTokens = true }),
		withClient("demo-spa", func(c *config.Client) { c.DPoPBoundAccessTokens = true }))
	st, out := postForm(t, tb.URL+pathToken, ccForm, "demo-service", "demo-service-secret")
	if st != http.StatusBadRequest || out["error"] != "invalid_request" || out["access_token"] != nil {
		t.Fatalf("client_credentials without a proof: %d %v", st, out)
	}
	code, verifier := spaCode(t, tb)
	if st, out := postForm(t, tb.URL+pathToken, spaCodeForm(code, verifier), "", ""); st != http.StatusBadRequest || out["error"] != "invalid_request" {
		t.Fatalf("code without a proof: %d %v", st, out)
	}
	c := newDPoPClient(t)
	if a := c.post(t, tb, pathToken, spaCodeForm(code, verifier), "", "", nil); a.status != http.StatusOK || str(a.body, "token_type") != "DPoP" {
		t.Fatalf("the same code with a proof: %d %v", a.status, a.body)
	}
	if a := c.post(t, tb, pathToken, ccForm, "demo-service", "demo-service-secret", nil); a.status != http.StatusOK {
		t.Fatalf("client_credentials with a proof: %d %v", a.status, a.body)
	}
}

// A public client's refresh tokens are bound to the key of the code's proof (RFC 9449 §5): a
// refresh needs a proof by that key, and a refused one rotates nothing.
func TestDPoPPublicClientRefreshIsBoundToItsKey(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	c := newDPoPClient(t)
	code, verifier := spaCode(t, tb)
	a := c.post(t, tb, pathToken, spaCodeForm(code, verifier), "", "", nil)
	rt := str(a.body, "refresh_token")
	if a.status != http.StatusOK || rt == "" || cnfJKT(jwtClaims(t, str(a.body, "access_token"))) != c.jkt(t) {
		t.Fatalf("code: %d %v", a.status, a.body)
	}
	if in := introspectClaims(t, tb, rt); cnfJKT(in) != c.jkt(t) {
		t.Fatalf("introspection of the bound refresh token: %v", in)
	}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {"demo-spa"}}
	other := newDPoPClient(t)
	if got := other.post(t, tb, pathToken, form, "", "", nil); got.status != http.StatusBadRequest || got.err() != "invalid_grant" {
		t.Fatalf("refresh with another key: %d %v", got.status, got.body)
	}
	if st, out := postForm(t, tb.URL+pathToken, form, "", ""); st != http.StatusBadRequest || out["error"] != "invalid_grant" {
		t.Fatalf("refresh without a proof: %d %v", st, out)
	}
	got := c.post(t, tb, pathToken, form, "", "", nil)
	if got.status != http.StatusOK || cnfJKT(jwtClaims(t, str(got.body, "access_token"))) != c.jkt(t) || str(got.body, "refresh_token") == "" {
		t.Fatalf("refresh with the key (nothing rotated before): %d %v", got.status, got.body)
	}
}

// A confidential client's refresh token is not bound: the new access token is bound to the
// proof of the refresh, or is a bearer token without one.
func TestDPoPConfidentialClientRefreshBindsTheNewToken(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	c := newDPoPClient(t)
	code := codeFor(t, tb, "demo-rp", nil)
	a := c.post(t, tb, pathToken, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {spaRedirect}}, "demo-rp", "demo-secret", nil)
	if a.status != http.StatusOK || str(a.body, "token_type") != "DPoP" {
		t.Fatalf("code: %d %v", a.status, a.body)
	}
	other := newDPoPClient(t)
	got := other.post(t, tb, pathToken, refreshForm(str(a.body, "refresh_token")), "demo-rp", "demo-secret", nil)
	if got.status != http.StatusOK || cnfJKT(jwtClaims(t, str(got.body, "access_token"))) != other.jkt(t) {
		t.Fatalf("refresh with another key: %d %v", got.status, got.body)
	}
	st, out := postForm(t, tb.URL+pathToken, refreshForm(str(got.body, "refresh_token")), "demo-rp", "demo-secret")
	if st != http.StatusOK || out["token_type"] != "Bearer" {
		t.Fatalf("refresh without a proof: %d %v", st, out)
	}
}

// dpop_jkt at /authorize binds the code to that key (RFC 9449 §10): redeemed with another key
// or none it is refused and left to its owner; a malformed dpop_jkt is invalid_request.
func TestDPoPJKTBindsTheCode(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	c := newDPoPClient(t)
	verifier, challenge := pkce()
	code := codeFor(t, tb, "demo-spa", url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "dpop_jkt": {c.jkt(t)}})
	if got := newDPoPClient(t).post(t, tb, pathToken, spaCodeForm(code, verifier), "", "", nil); got.status != http.StatusBadRequest || got.err() != "invalid_grant" {
		t.Fatalf("code redeemed with another key: %d %v", got.status, got.body)
	}
	if st, out := postForm(t, tb.URL+pathToken, spaCodeForm(code, verifier), "", ""); st != http.StatusBadRequest || out["error"] != "invalid_grant" {
		t.Fatalf("code redeemed without a proof: %d %v", st, out)
	}
	if got := c.post(t, tb, pathToken, spaCodeForm(code, verifier), "", "", nil); got.status != http.StatusOK {
		t.Fatalf("code redeemed with its key: %d %v", got.status, got.body)
	}
	q := url.Values{"client_id": {"demo-spa"}, "response_type": {"code"}, "scope": {"openid"}, "redirect_uri": {spaRedirect},
		"state": {"s"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}, "dpop_jkt": {"short"}}
	cb, resp := newBrowser(t).authorize(t, tb.URL+pathAuthorize+"?"+q.Encode())
	if cb == nil || cb.Get("error") != "invalid_request" {
		t.Fatalf("malformed dpop_jkt: %v %d", cb, resp.StatusCode)
	}
}

// A proof at PAR binds the pushed request (RFC 9449 §10.1): the code goes to the proof's key
// only; a dpop_jkt beside the proof must name the same key.
func TestDPoPAtPARBindsTheRequest(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	c := newDPoPClient(t)
	verifier, challenge := pkce()
	push := url.Values{"client_id": {"demo-spa"}, "response_type": {"code"}, "scope": {"openid offline_access"}, "redirect_uri": {spaRedirect},
		"state": {"s"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}, "idp": {"RSSMRA80A01H501U:2"}}
	bad := url.Values{"dpop_jkt": {newDPoPClient(t).jkt(t)}}
	for k, v := range push {
		bad[k] = v
	}
	if a := c.post(t, tb, pathPAR, bad, "", "", nil); a.status != http.StatusBadRequest || a.err() != "invalid_dpop_proof" {
		t.Fatalf("dpop_jkt of another key: %d %v", a.status, a.body)
	}
	h := http.Header{}
	h.Set("DPoP", c.proof(t, http.MethodPost, tb.issuer+pathToken, nil))
	if a := send(t, http.MethodPost, tb.URL+pathPAR, push, h); a.status != http.StatusBadRequest || a.err() != "invalid_dpop_proof" {
		t.Fatalf("a proof for the token endpoint at PAR: %d %v", a.status, a.body)
	}
	a := c.post(t, tb, pathPAR, push, "", "", nil)
	if a.status != http.StatusCreated {
		t.Fatalf("push: %d %v", a.status, a.body)
	}
	q := url.Values{"client_id": {"demo-spa"}, "request_uri": {str(a.body, "request_uri")}}
	cb, resp := newBrowser(t).authorize(t, tb.URL+pathAuthorize+"?"+q.Encode())
	if cb == nil || cb.Get("code") == "" {
		t.Fatalf("authorize: %v %d", cb, resp.StatusCode)
	}
	code := cb.Get("code")
	if got := newDPoPClient(t).post(t, tb, pathToken, spaCodeForm(code, verifier), "", "", nil); got.status != http.StatusBadRequest || got.err() != "invalid_grant" {
		t.Fatalf("pushed code redeemed with another key: %d %v", got.status, got.body)
	}
	if got := c.post(t, tb, pathToken, spaCodeForm(code, verifier), "", "", nil); got.status != http.StatusOK || cnfJKT(jwtClaims(t, str(got.body, "access_token"))) != c.jkt(t) {
		t.Fatalf("pushed code redeemed with its key: %d %v", got.status, got.body)
	}
}

// Userinfo honours the binding (RFC 9449 §7): a DPoP-bound token only in the DPoP scheme with
// a proof by its key for this request and token; every refusal is 401 with a DPoP challenge.
func TestDPoPAtUserinfo(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	c := newDPoPClient(t)
	code, verifier := spaCode(t, tb)
	a := c.post(t, tb, pathToken, spaCodeForm(code, verifier), "", "", nil)
	tok := str(a.body, "access_token")
	if a.status != http.StatusOK || tok == "" {
		t.Fatalf("token: %d %v", a.status, a.body)
	}
	if got := c.userinfo(t, tb, tok, nil); got.status != http.StatusOK || str(got.body, "sub") == "" {
		t.Fatalf("bound token with its proof: %d %v", got.status, got.body)
	}
	refused := func(t *testing.T, got dpopAnswer, code string) {
		t.Helper()
		ch := got.header.Get("WWW-Authenticate")
		if got.status != http.StatusUnauthorized || got.err() != code || !strings.HasPrefix(ch, "DPoP ") ||
			!strings.Contains(ch, `error="`+code+`"`) || !strings.Contains(ch, `algs="ES256 PS256 EdDSA"`) {
			t.Fatalf("got %d %v %q, want 401 %s with a DPoP challenge", got.status, got.body, ch, code)
		}
	}
	t.Run("a bound token sent as Bearer is refused", func(t *testing.T) {
		h := http.Header{}
		h.Set("Authorization", "Bearer "+tok)
		h.Set("DPoP", c.proof(t, http.MethodGet, tb.issuer+pathUserinfo, func(m map[string]any) { m["ath"] = dpop.TokenHash(tok) }))
		refused(t, send(t, http.MethodGet, tb.URL+pathUserinfo, nil, h), "invalid_token")
	})
	t.Run("a bound token without a proof is refused", func(t *testing.T) {
		h := http.Header{}
		h.Set("Authorization", "DPoP "+tok)
		refused(t, send(t, http.MethodGet, tb.URL+pathUserinfo, nil, h), "invalid_dpop_proof")
	})
	t.Run("a proof with the wrong ath is refused", func(t *testing.T) {
		refused(t, c.userinfo(t, tb, tok, func(m map[string]any) { m["ath"] = dpop.TokenHash(tok + "x") }), "invalid_dpop_proof")
	})
	t.Run("a proof by another key is refused", func(t *testing.T) {
		refused(t, newDPoPClient(t).userinfo(t, tb, tok, nil), "invalid_dpop_proof")
	})
	t.Run("a proof for the token endpoint is refused", func(t *testing.T) {
		refused(t, c.userinfo(t, tb, tok, func(m map[string]any) { m["htu"] = tb.issuer + pathToken }), "invalid_dpop_proof")
	})
	t.Run("a replayed proof is refused", func(t *testing.T) {
		h := http.Header{}
		h.Set("Authorization", "DPoP "+tok)
		h.Set("DPoP", c.proof(t, http.MethodGet, tb.issuer+pathUserinfo, func(m map[string]any) { delete(m, "nonce"); m["ath"] = dpop.TokenHash(tok) }))
		if got := send(t, http.MethodGet, tb.URL+pathUserinfo, nil, h); got.status != http.StatusOK {
			t.Fatalf("first use: %d %v", got.status, got.body)
		}
		refused(t, send(t, http.MethodGet, tb.URL+pathUserinfo, nil, h), "invalid_dpop_proof")
	})
	t.Run("a bearer token sent with the DPoP scheme is refused", func(t *testing.T) {
		code, verifier := spaCode(t, tb)
		_, out := postForm(t, tb.URL+pathToken, spaCodeForm(code, verifier), "", "")
		refused(t, c.userinfo(t, tb, str(out, "access_token"), nil), "invalid_token")
	})
}

// A DPoP-bound token refused at userinfo before its proof is looked at — revoked, or a
// service's own token that names no person — is challenged with DPoP whatever scheme it came
// with (RFC 9449 §7.1): the client learns it must send the token with a proof.
func TestDPoPChallengeForABoundTokenRefusedEarly(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	c := newDPoPClient(t)
	bearer := func(tok string) dpopAnswer {
		h := http.Header{}
		h.Set("Authorization", "Bearer "+tok)
		return send(t, http.MethodGet, tb.URL+pathUserinfo, nil, h)
	}
	challenged := func(t *testing.T, got dpopAnswer) {
		t.Helper()
		ch := got.header.Get("WWW-Authenticate")
		if got.status != http.StatusUnauthorized || got.err() != "invalid_token" || !strings.HasPrefix(ch, "DPoP ") ||
			!strings.Contains(ch, `error="invalid_token"`) {
			t.Fatalf("got %d %v %q, want 401 invalid_token with a DPoP challenge", got.status, got.body, ch)
		}
	}
	t.Run("a service's own bound token", func(t *testing.T) {
		a := c.post(t, tb, pathToken, ccForm, "demo-service", "demo-service-secret", nil)
		tok := str(a.body, "access_token")
		if a.status != http.StatusOK || cnfJKT(jwtClaims(t, tok)) != c.jkt(t) {
			t.Fatalf("token: %d %v", a.status, a.body)
		}
		challenged(t, bearer(tok))
		challenged(t, c.userinfo(t, tb, tok, nil))
	})
	t.Run("a revoked bound token", func(t *testing.T) {
		code, verifier := spaCode(t, tb)
		a := c.post(t, tb, pathToken, spaCodeForm(code, verifier), "", "", nil)
		tok := str(a.body, "access_token")
		if a.status != http.StatusOK || tok == "" {
			t.Fatalf("token: %d %v", a.status, a.body)
		}
		if st, out := postForm(t, tb.URL+pathRevoke, url.Values{"token": {tok}, "client_id": {"demo-spa"}}, "", ""); st != http.StatusOK {
			t.Fatalf("revoke: %d %v", st, out)
		}
		challenged(t, bearer(tok))
		challenged(t, c.userinfo(t, tb, tok, nil))
	})
}

// Discovery names exactly the algorithms the proof checker accepts.
func TestDPoPDiscovery(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	_, _, d := getJSON(t, tb.URL+pathDiscovery)
	got, _ := d["dpop_signing_alg_values_supported"].([]any)
	want := tb.dpopAS.Algorithms()
	if len(got) != len(want) || !slices.ContainsFunc(got, func(a any) bool { return a == "ES256" }) {
		t.Fatalf("dpop_signing_alg_values_supported = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("dpop_signing_alg_values_supported = %v, want %v", got, want)
		}
	}
}

// A proof's jti is remembered for as long as the proof could be accepted by any replica (its
// iat plus the accepted age, plus the clock skew between replicas): a shorter record would let
// the proof be replayed before it is too old.
func TestDPoPReplayRecordOutlivesTheProof(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	c := newDPoPClient(t)
	if a := c.post(t, tb, pathToken, ccForm, "demo-service", "demo-service-secret", func(m map[string]any) { m["jti"] = "the-jti" }); a.status != http.StatusOK {
		t.Fatalf("token: %d %v", a.status, a.body)
	}
	sum := sha256.Sum256([]byte(c.jkt(t) + "\x00" + "the-jti"))
	ttl, err := tb.store.TTL(context.Background(), dpopJTIKey(base64.RawURLEncoding.EncodeToString(sum[:])))
	if err != nil {
		t.Fatal(err)
	}
	if ttl < dpop.DefaultMaxAge+dpopClockSkew-5*time.Second {
		t.Fatalf("jti kept %v, want at least the proof's %v of acceptance plus %v", ttl, dpop.DefaultMaxAge, dpopClockSkew)
	}
}

// A token exchange binds the new token to the exchanging service's proof, never to the subject
// token's key: a DPoP-bound subject token exchanged without a proof gives a bearer token.
func TestDPoPTokenExchangeBindsToTheService(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	user := newDPoPClient(t)
	code := codeFor(t, tb, "demo-rp", nil)
	a := user.post(t, tb, pathToken, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {spaRedirect}}, "demo-rp", "demo-secret", nil)
	if a.status != http.StatusOK {
		t.Fatalf("code: %d %v", a.status, a.body)
	}
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"}, "subject_token": {str(a.body, "access_token")},
		"subject_token_type": {"urn:ietf:params:oauth:token-type:access_token"}, "audience": {"inps-pensioni"}, "scope": {"openid fiscal_number"}}
	svc := newDPoPClient(t)
	got := svc.post(t, tb, pathToken, form, "demo-service", "demo-service-secret", nil)
	if got.status != http.StatusOK || str(got.body, "token_type") != "DPoP" || cnfJKT(jwtClaims(t, str(got.body, "access_token"))) != svc.jkt(t) {
		t.Fatalf("exchange with the service's proof: %d %v", got.status, got.body)
	}
	st, out := postForm(t, tb.URL+pathToken, form, "demo-service", "demo-service-secret")
	if st != http.StatusOK || out["token_type"] != "Bearer" || jwtClaims(t, str(out, "access_token"))["cnf"] != nil {
		t.Fatalf("exchange without a proof: %d %v", st, out)
	}
}

// Server nonces rotate (RFC 9449 §8): a nonce is accepted in its window and the next one, so a
// rotation at a window's edge fails no client, and refused after that with use_dpop_nonce and
// the current nonce.
func TestDPoPNoncesRotate(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	defer func() { tb.now = time.Now }()
	c := newDPoPClient(t)
	if a := c.post(t, tb, pathToken, ccForm, "demo-service", "demo-service-secret", nil); a.status != http.StatusOK {
		t.Fatalf("token: %d %v", a.status, a.body)
	}
	old := c.nonce
	at := func(d time.Duration) dpopAnswer {
		tb.now = func() time.Time { return time.Now().Add(d) }
		h := basic("demo-service", "demo-service-secret")
		h.Set("DPoP", c.proof(t, http.MethodPost, tb.issuer+pathToken, func(m map[string]any) {
			m["iat"] = time.Now().Add(d).Unix()
			m["nonce"] = old
		}))
		return send(t, http.MethodPost, tb.URL+pathToken, ccForm, h)
	}
	a := at(dpop.DefaultNonceWindow)
	if a.status != http.StatusOK || a.header.Get("DPoP-Nonce") == old || a.header.Get("DPoP-Nonce") == "" {
		t.Fatalf("the previous window's nonce: %d %v, new nonce %q", a.status, a.body, a.header.Get("DPoP-Nonce"))
	}
	fresh := a.header.Get("DPoP-Nonce")
	a = at(2 * dpop.DefaultNonceWindow)
	if a.status != http.StatusBadRequest || a.err() != "use_dpop_nonce" || a.header.Get("DPoP-Nonce") == old || a.header.Get("DPoP-Nonce") == fresh {
		t.Fatalf("a nonce two windows old: %d %v, nonce %q", a.status, a.body, a.header.Get("DPoP-Nonce"))
	}
}
