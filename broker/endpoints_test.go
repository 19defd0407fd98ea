package broker

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/inps/sportello/broker/keys"
	"github.com/inps/sportello/config"
	"github.com/inps/sportello/internal/store/storetest"
)

const grantExchange = "urn:ietf:params:oauth:grant-type:token-exchange"

func introspect(t *testing.T, tb *testBroker, tok, id, secret string) map[string]any {
	t.Helper()
	_, out := postForm(t, tb.URL+pathIntrospect, url.Values{"token": {tok}}, id, secret)
	return out
}

func exchangeFor(t *testing.T, tb *testBroker, subject, audience string) (int, map[string]any) {
	t.Helper()
	return postForm(t, tb.URL+pathToken, url.Values{"grant_type": {grantExchange}, "subject_token": {subject},
		"subject_token_type": {"urn:ietf:params:oauth:token-type:access_token"}, "audience": {audience}}, "demo-service", "demo-service-secret")
}

func refreshAs(t *testing.T, tb *testBroker, rt string) map[string]any {
	t.Helper()
	_, out := postForm(t, tb.URL+pathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, "demo-rp", "demo-secret")
	return out
}

// RFC 7009 §2.1: the hint only orders the search. A refresh token sent as an access token
// (and the other way round) is revoked all the same.
func TestRevocationSearchesEveryTokenType(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	out := loginTokens(t, tb, "openid offline_access")
	rt := out["refresh_token"].(string)
	if st, body := postForm(t, tb.URL+pathRevoke, url.Values{"token": {rt}, "token_type_hint": {"access_token"}}, "demo-rp", "demo-secret"); st != 200 {
		t.Fatalf("revocation: %d %v", st, body)
	}
	if got := refreshAs(t, tb, rt); got["error"] != "invalid_grant" {
		t.Fatalf("a refresh token revoked with hint access_token still works: %v", got)
	}
	other := loginTokens(t, tb, "openid offline_access")
	at2 := other["access_token"].(string)
	postForm(t, tb.URL+pathRevoke, url.Values{"token": {at2}, "token_type_hint": {"refresh_token"}}, "demo-rp", "demo-secret")
	if got := introspect(t, tb, at2, "demo-service", "demo-service-secret"); got["active"] != false {
		t.Fatalf("an access token revoked with hint refresh_token is still active: %v", got)
	}
}

// Revoking a refresh token, or reuse revoking its family, stops the family's access tokens at
// introspection, userinfo and token exchange, not only at their exp; other families live on.
func TestRevokedFamilyStopsItsAccessTokens(t *testing.T) {
	cases := []struct {
		name   string
		revoke func(t *testing.T, tb *testBroker, first, second map[string]any)
	}{
		{"the client revokes the refresh token", func(t *testing.T, tb *testBroker, _, second map[string]any) {
			if st, _ := postForm(t, tb.URL+pathRevoke, url.Values{"token": {second["refresh_token"].(string)}}, "demo-rp", "demo-secret"); st != 200 {
				t.Fatalf("revocation: %d", st)
			}
		}},
		{"a rotated refresh token is reused", func(t *testing.T, tb *testBroker, first, _ map[string]any) {
			if got := refreshAs(t, tb, first["refresh_token"].(string)); got["error"] != "invalid_grant" {
				t.Fatalf("reuse: %v", got)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tb := newTestBroker(t, memStore(t), withReuseGrace(0))
			first := loginTokens(t, tb, "openid fiscal_number offline_access")
			second := refreshAs(t, tb, first["refresh_token"].(string))
			unrelated := loginTokens(t, tb, "openid fiscal_number offline_access")["access_token"].(string)
			_, ex := exchangeFor(t, tb, second["access_token"].(string), "inps-pensioni")
			exchanged, _ := ex["access_token"].(string)
			if exchanged == "" {
				t.Fatalf("exchange: %v", ex)
			}
			c.revoke(t, tb, first, second)
			for name, tok := range map[string]string{"first": first["access_token"].(string), "second": second["access_token"].(string), "exchanged": exchanged} {
				if got := introspect(t, tb, tok, "demo-service", "demo-service-secret"); got["active"] != false {
					t.Errorf("%s access token still active at introspection: %v", name, got)
				}
			}
			if out, st := userinfo(t, tb, second["access_token"].(string)); st != http.StatusUnauthorized || out["error_description"] != "access token revoked" {
				t.Errorf("userinfo: %d %v", st, out)
			}
			if _, out := exchangeFor(t, tb, second["access_token"].(string), "inps-pensioni"); out["error"] != "invalid_grant" {
				t.Errorf("token exchange of a revoked family's token: %v", out)
			}
			if got := introspect(t, tb, unrelated, "demo-service", "demo-service-secret"); got["active"] != true {
				t.Errorf("another family's token was revoked too: %v", got)
			}
		})
	}
}

// A revocation the store did not record answers 503 temporarily_unavailable, never a 200 that
// revoked nothing.
func TestRevocationThatCannotBeRecordedIs503(t *testing.T) {
	for _, prefix := range []string{"atrev:", "rtf:"} {
		t.Run(prefix, func(t *testing.T) {
			st := storetest.NewCutStore(memStore(t))
			tb := newTestBroker(t, st)
			out := loginTokens(t, tb, "openid offline_access")
			tok := out["access_token"].(string)
			if prefix == "rtf:" {
				tok = out["refresh_token"].(string)
			}
			st.Before(func(op, key string) bool { return op == "Put" && strings.HasPrefix(key, prefix) })
			if code, body := postForm(t, tb.URL+pathRevoke, url.Values{"token": {tok}}, "demo-rp", "demo-secret"); code != 503 || body["error"] != "temporarily_unavailable" {
				t.Fatalf("got %d %v, want 503 temporarily_unavailable", code, body)
			}
		})
	}
}

// An access token's aud is the resource, never the client: a relying-party library that
// checks only aud (not typ) refuses it as an ID token (RFC 9068 §5).
func TestAccessTokenAudienceIsTheResource(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	out := loginTokens(t, tb, "openid fiscal_number")
	at := jwtClaims(t, out["access_token"].(string))
	if aud := audiences(at); !slices.Equal(aud, []string{tb.URL + "/api"}) || at["client_id"] != "demo-rp" {
		t.Fatalf("access token aud %v client_id %v, want [%s/api] demo-rp", at["aud"], at["client_id"], tb.URL)
	}
	prov, err := oidc.NewProvider(context.Background(), tb.URL)
	if err != nil {
		t.Fatal(err)
	}
	idVerifier := prov.Verifier(&oidc.Config{ClientID: "demo-rp"})
	if _, err := idVerifier.Verify(context.Background(), out["id_token"].(string)); err != nil {
		t.Fatalf("the ID token: %v", err)
	}
	if _, err := idVerifier.Verify(context.Background(), out["access_token"].(string)); err == nil || !strings.Contains(err.Error(), "audience") {
		t.Fatalf("the access token passed go-oidc's ID-token check: %v", err)
	}
	_, cc := postForm(t, tb.URL+pathToken, url.Values{"grant_type": {"client_credentials"}}, "demo-service", "demo-service-secret")
	if aud := audiences(jwtClaims(t, cc["access_token"].(string))); !slices.Equal(aud, []string{tb.URL + "/api"}) {
		t.Fatalf("client_credentials aud %v", aud)
	}
	_, ex := exchangeFor(t, tb, out["access_token"].(string), "inps-pensioni")
	if aud := audiences(jwtClaims(t, ex["access_token"].(string))); !slices.Equal(aud, []string{"inps-pensioni"}) {
		t.Fatalf("exchanged token aud %v", aud)
	}
	t.Run("tokens.access_audience", func(t *testing.T) {
		tb := newTestBroker(t, memStore(t), func(c *config.Config) { c.Tokens.AccessAudience = "https://api.inps.example.it" })
		at := jwtClaims(t, loginTokens(t, tb, "openid")["access_token"].(string))
		if aud := audiences(at); !slices.Equal(aud, []string{"https://api.inps.example.it"}) {
			t.Fatalf("aud %v", aud)
		}
	})
}

// A client's own token (client_credentials, even with scope openid) names no person: no
// userinfo.
func TestClientCredentialsTokenGetsNoUserinfo(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	_, cc := postForm(t, tb.URL+pathToken, url.Values{"grant_type": {"client_credentials"}, "scope": {"openid inps:services"}}, "demo-service", "demo-service-secret")
	tok, _ := cc["access_token"].(string)
	if tok == "" {
		t.Fatalf("client_credentials: %v", cc)
	}
	if out, st := userinfo(t, tb, tok); st != http.StatusUnauthorized || out["error"] != "invalid_token" || out["error_description"] != "the access token does not name a person" {
		t.Fatalf("userinfo with a client_credentials token: %d %v", st, out)
	}
}

// A service introspects its own tokens, those of its introspect_clients and those naming it in
// aud; anything else is {"active": false}, refresh tokens included.
func TestIntrospectionSeesOnlyAllowedClients(t *testing.T) {
	tb := newTestBroker(t, memStore(t), func(c *config.Config) {
		for i := range c.Clients {
			if c.Clients[i].ID == "demo-service" {
				c.Clients[i].IntrospectClients = []string{"demo-spa"}
			}
		}
		c.Clients = append(c.Clients, config.Client{ID: "inps-pensioni", Secret: config.Secret{Value: "pensioni-secret"},
			GrantTypes: []string{"client_credentials"}, Scopes: []string{"inps:services"}, Introspect: true})
	})
	rp := loginTokens(t, tb, "openid fiscal_number offline_access")
	_, ex := exchangeFor(t, tb, rp["access_token"].(string), "inps-pensioni")
	_, own := postForm(t, tb.URL+pathToken, url.Values{"grant_type": {"client_credentials"}}, "demo-service", "demo-service-secret")
	cases := []struct {
		name, tok, id, secret string
		active                bool
	}{
		{"another client's access token", rp["access_token"].(string), "demo-service", "demo-service-secret", false},
		{"another client's refresh token", rp["refresh_token"].(string), "demo-service", "demo-service-secret", false},
		{"its own client_credentials token", own["access_token"].(string), "demo-service", "demo-service-secret", true},
		{"the token it exchanged", ex["access_token"].(string), "demo-service", "demo-service-secret", true},
		{"a token naming the resource server in aud", ex["access_token"].(string), "inps-pensioni", "pensioni-secret", true},
		{"a user's token for another resource", rp["access_token"].(string), "inps-pensioni", "pensioni-secret", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := introspect(t, tb, c.tok, c.id, c.secret); got["active"] != c.active || (!c.active && len(got) != 1) {
				t.Fatalf("got %v, want active %v (and nothing else when inactive)", got, c.active)
			}
		})
	}
	t.Run("a listed client's tokens", func(t *testing.T) {
		dev := newTestBroker(t, memStore(t)) // dev mode: demo-service may introspect demo-rp's tokens
		out := loginTokens(t, dev, "openid offline_access")
		for _, tok := range []string{out["access_token"].(string), out["refresh_token"].(string)} {
			if got := introspect(t, dev, tok, "demo-service", "demo-service-secret"); got["active"] != true {
				t.Fatalf("got %v", got)
			}
		}
	})
}

// The operators' APIs take access tokens of this issuer for its own APIs only: a token for
// another resource (a token exchange's audience) is refused even with the right scope.
func TestOperatorBearerNeedsTheAccessAudience(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	now := time.Now()
	bearer := func(aud string) *http.Request {
		tok, err := tb.signJWT("ES256", keys.TypAccessToken, map[string]any{"iss": tb.URL, "sub": "demo-operator", "client_id": "demo-operator",
			"aud": []string{aud}, "scope": "pin:office", "jti": aud, "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()})
		if err != nil {
			t.Fatal(err)
		}
		r := httptestRequest(http.MethodGet, "/admin/pin/x")
		r.Header.Set("Authorization", "Bearer "+tok)
		return r
	}
	if who, ok := tb.AuthorizeBearer(bearer(tb.URL+"/api"), "pin:office"); !ok || who != "demo-operator" {
		t.Fatalf("a token for the broker's APIs: %q %v", who, ok)
	}
	if _, ok := tb.AuthorizeBearer(bearer("inps-pensioni"), "pin:office"); ok {
		t.Fatal("a token for another resource was accepted by the operators' API")
	}
}
