package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/inps/sportello/broker"
	"github.com/inps/sportello/broker/keys"
	"github.com/inps/sportello/broker/verify"
	"github.com/inps/sportello/config"
	"github.com/inps/sportello/internal/delegation"
	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/internal/store/memory"
	"github.com/inps/sportello/providers"
)

// instantProvider exists only in tests: its Start finishes the login at once with the person
// named by the hint "<fiscal code>:<level>".
type instantProvider struct{ f providers.Finisher }

func (p *instantProvider) Info() providers.Info {
	return providers.Info{ID: "test", Method: "test", MaxACR: loa.SpidL3, Name: map[string]string{"it": "Prova", "en": "Test"}}
}

func (p *instantProvider) Start(w http.ResponseWriter, r *http.Request, req *providers.LoginRequest) error {
	cf, lvl, _ := strings.Cut(req.Hint, ":")
	level := map[string]int{"1": 1, "3": 3}[lvl]
	if level == 0 {
		level = 2
	}
	p.f.Finish(w, r, req.ID, &providers.Identity{FiscalNumber: cf, GivenName: "Test", FamilyName: "Person",
		Method: "spid", ACR: loa.ACRForLevel(level), AMR: []string{"pwd", "mfa"},
		AuthTime: time.Now().Truncate(time.Second), SPIDIdP: "https://idp.example"})
	return nil
}

func (p *instantProvider) Handler(f providers.Finisher) http.Handler {
	p.f = f
	return http.NotFoundHandler()
}
func (p *instantProvider) Routes() []string { return []string{"/test-provider/"} }
func (p *instantProvider) Options() []providers.Option {
	var out []providers.Option
	for _, cf := range []string{"RSSMRA80A01H501U", delegation.DevDelegateCF} {
		for _, l := range []string{"1", "2", "3"} {
			out = append(out, providers.Option{Hint: cf + ":" + l, Name: cf + " L" + l})
		}
	}
	return out
}

// realBroker is a sportello broker with the dev configuration on a real listener.
type realBroker struct {
	*broker.Broker
	URL  string
	keys keys.Source
	reg  *delegation.Registry
	// Endpoints read from discovery, as a relying party does.
	AuthURL, TokenURL, JWKSURL string
}

func startBroker(t *testing.T, st store.Store, dir string) *realBroker {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.DevConfig(ln.Addr().String(), "127.0.0.1:0", dir, config.Options{Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	secret := func(s config.Secret) []byte {
		k, err := config.DecodeKey(s.Value)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	reg, err := delegation.New(delegation.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	if err := delegation.SeedDev(context.Background(), reg); err != nil {
		t.Fatal(err)
	}
	keys := &keys.StoreSource{Store: st, CryptoKey: secret(cfg.Keys.CryptoKey), Bootstrap: &keys.FileSource{Dir: cfg.Keys.Dir, Generate: true}}
	b, err := broker.New(context.Background(), broker.Options{Config: cfg, Store: st, Providers: []providers.Provider{&instantProvider{}},
		Keys: keys, SubjectKey: secret(cfg.Subject.Key), CryptoKey: secret(cfg.Keys.CryptoKey), Delegations: brokerDelegations(reg)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(b)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	rb := &realBroker{Broker: b, URL: "http://" + ln.Addr().String(), keys: keys, reg: reg}
	resp, err := http.Get(rb.URL + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var disc struct {
		Auth  string `json:"authorization_endpoint"`
		Token string `json:"token_endpoint"`
		JWKS  string `json:"jwks_uri"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&disc); err != nil {
		t.Fatal(err)
	}
	rb.AuthURL, rb.TokenURL, rb.JWKSURL = disc.Auth, disc.Token, disc.JWKS
	return rb
}

// login runs the code flow of demo-rp for the person of hint, answering the delegation
// question with actFor ("" when none is expected), and returns the token response.
func (rb *realBroker) login(t *testing.T, hint, actFor string) *oauth2.Token {
	t.Helper()
	rp := oauth2.Config{ClientID: "demo-rp", ClientSecret: "demo-secret", RedirectURL: "http://127.0.0.1:9000/callback",
		Endpoint: oauth2.Endpoint{AuthURL: rb.AuthURL, TokenURL: rb.TokenURL, AuthStyle: oauth2.AuthStyleInHeader},
		Scopes:   []string{"openid", "profile", "fiscal_number", "offline_access"}}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if req.URL.Port() == "9000" {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	verifier := oauth2.GenerateVerifier()
	resp, err := browser.Get(rp.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", "n"),
		oauth2.SetAuthURLParam("idp", hint)))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if actFor != "" {
		field := func(name string) string {
			m := regexp.MustCompile(`name="` + name + `" value="([^"]*)"`).FindSubmatch(body)
			if m == nil {
				t.Fatalf("no %s in the delegation question: %d %s", name, resp.StatusCode, body)
			}
			return string(m[1])
		}
		resp, err = browser.PostForm(rb.URL+"/login/act", url.Values{"csrf": {field("csrf")}, "login": {field("login")}, "act_for": {actFor}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	code := loc.Query().Get("code")
	if code == "" {
		t.Fatalf("no code: %d %s %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	tok, err := rp.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (rb *realBroker) serviceToken(t *testing.T) string {
	t.Helper()
	cc := clientcredentials.Config{ClientID: "demo-service", ClientSecret: "demo-service-secret", TokenURL: rb.TokenURL}
	tok, err := cc.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

// exchange trades a user's access token for one for audience, as demo-service.
func (rb *realBroker) exchange(t *testing.T, subject, audience string) string {
	t.Helper()
	req, _ := http.NewRequest("POST", rb.TokenURL, strings.NewReader(url.Values{
		"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"}, "subject_token": {subject},
		"subject_token_type": {"urn:ietf:params:oauth:token-type:access_token"}, "audience": {audience}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("demo-service", "demo-service-secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &out); err != nil || out.AccessToken == "" {
		t.Fatalf("exchange: %d %s", resp.StatusCode, b)
	}
	return out.AccessToken
}

// refresh redeems a refresh token as demo-rp and returns the status.
func (rb *realBroker) refresh(t *testing.T, rt string) int {
	t.Helper()
	req, _ := http.NewRequest("POST", rb.TokenURL, strings.NewReader(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("demo-rp", "demo-secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// clock is a clock the test moves by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// offsetClock reads real time plus an offset the test moves.
type offsetClock struct{ clock }

func newOffsetClock() *offsetClock { return &offsetClock{clock{now: time.Time{}}} }
func (c *offsetClock) Now() time.Time {
	return time.Now().Add(c.clock.Now().Sub(time.Time{}))
}

func memStore(t *testing.T) store.Store {
	st := memory.New(memory.Options{})
	t.Cleanup(func() { st.Close() })
	return st
}

func TestAgainstARealBroker(t *testing.T) {
	ctx := context.Background()
	st := memStore(t)
	dir := t.TempDir()
	rb := startBroker(t, st, dir)
	c := newOffsetClock()
	// Access tokens name the resource (tokens.access_audience, by default <issuer>/api), never
	// the relying party: a client's ID-token check cannot accept them (RFC 9068 §5).
	forAPI, err := verify.New(ctx, verify.Options{Issuer: rb.URL, Audience: rb.URL + "/api", Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	forRP, err := verify.New(ctx, verify.Options{Issuer: rb.URL, Audience: "demo-rp", Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	forPensions, err := verify.New(ctx, verify.Options{Issuer: rb.URL, Audience: "inps-pensioni", Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}

	mario := rb.login(t, "RSSMRA80A01H501U:2", "")
	t.Run("a code-flow access token", func(t *testing.T) {
		tok, err := forAPI.Verify(ctx, mario.AccessToken)
		if err != nil {
			t.Fatal(err)
		}
		a := tok.Assurance
		if tok.FiscalNumber != "RSSMRA80A01H501U" || tok.Subject == "" || tok.Subject == tok.FiscalNumber || a.Level != 2 ||
			a.Method != "spid" || a.SPIDIdP != "https://idp.example" || a.AuthTime.IsZero() || tok.Delegated() || !tok.HasScope("fiscal_number") {
			t.Fatalf("%+v", tok)
		}
	})
	t.Run("a client_credentials access token", func(t *testing.T) {
		tok, err := forAPI.Verify(ctx, rb.serviceToken(t))
		if err != nil || tok.Subject != "demo-service" || tok.Assurance.Level != 0 {
			t.Fatalf("%v %+v", err, tok)
		}
	})
	laura := rb.login(t, delegation.DevDelegateCF+":2", delegation.DevDelegatorCF)
	t.Run("a delegate acting for the delegator", func(t *testing.T) {
		tok, err := forAPI.Verify(ctx, laura.AccessToken)
		if err != nil {
			t.Fatal(err)
		}
		d := tok.Delegation
		if tok.FiscalNumber != delegation.DevDelegatorCF || d == nil || d.Actor.FiscalNumber != delegation.DevDelegateCF ||
			d.ID != delegation.DevDelegationID || d.Type != "office_aa08" || !d.ExpiresAt.IsZero() || tok.Assurance.Level != 2 {
			t.Fatalf("%+v %+v", tok, d)
		}
	})
	t.Run("a delegated token exchanged by a service keeps the chain", func(t *testing.T) {
		tok, err := forPensions.Verify(ctx, rb.exchange(t, laura.AccessToken, "inps-pensioni"))
		if err != nil {
			t.Fatal(err)
		}
		chain := tok.ActorChain()
		if len(chain) != 2 || chain[0].Sub != "demo-service" || chain[1].FiscalNumber != delegation.DevDelegateCF ||
			tok.Delegation == nil || tok.Delegation.ID != delegation.DevDelegationID || tok.FiscalNumber != delegation.DevDelegatorCF {
			t.Fatalf("%+v", chain)
		}
	})
	t.Run("revoking the delegation stops the delegate's refresh token", func(t *testing.T) {
		if laura.RefreshToken == "" {
			t.Skip("no refresh token issued")
		}
		if err := rb.reg.Revoke(ctx, delegation.DevDelegationID, delegation.Operator("op-test")); err != nil {
			t.Fatal(err)
		}
		if status := rb.refresh(t, laura.RefreshToken); status != http.StatusBadRequest {
			t.Fatalf("refresh after revocation: %d", status)
		}
		if status := rb.refresh(t, mario.RefreshToken); status != http.StatusOK {
			t.Fatalf("an undelegated refresh: %d", status)
		}
	})

	t.Run("keys rotated in the middle: old and new tokens keep verifying", func(t *testing.T) {
		// Two rotations: the second makes active a key the verifier has never seen.
		for range 2 {
			if _, err := rb.keys.Rotate(ctx, time.Now(), time.Hour); err != nil {
				t.Fatal(err)
			}
		}
		if err := rb.ReloadKeys(ctx); err != nil {
			t.Fatal(err)
		}
		c.Advance(verify.DefaultMinRefreshInterval)
		fresh := rb.login(t, "RSSMRA80A01H501U:3", "")
		if kid(t, fresh.AccessToken) == kid(t, mario.AccessToken) {
			t.Fatal("the rotation did not change the signing key")
		}
		for name, raw := range map[string]string{"new": fresh.AccessToken, "old": mario.AccessToken} {
			if tok, err := forAPI.Verify(ctx, raw); err != nil {
				t.Fatalf("%s token: %v", name, err)
			} else if name == "new" && tok.Assurance.Level != 3 {
				t.Fatalf("%+v", tok.Assurance)
			}
		}
		if _, err := forAPI.Verify(ctx, rb.serviceToken(t)); err != nil {
			t.Fatalf("service token after rotation: %v", err)
		}
	})

	t.Run("refusals", func(t *testing.T) {
		other := startBroker(t, st, dir) // same keys (same store and secrets), another issuer
		fromOther := other.login(t, "RSSMRA80A01H501U:2", "")
		idToken, _ := mario.Extra("id_token").(string)
		h, payload := splitJWT(t, mario.AccessToken)
		h["alg"] = "none"
		none := enc(h) + "." + payload + "."
		tests := []struct {
			name string
			v    *verify.Verifier
			raw  string
			want error
		}{
			{"a token of another issuer", forAPI, fromOther.AccessToken, verify.ErrIssuer},
			{"a token for another audience", forAPI, rb.exchange(t, mario.AccessToken, "inps-pensioni"), verify.ErrAudience},
			{"an access token checked as the relying party's", forRP, mario.AccessToken, verify.ErrAudience},
			{"an ID token", forRP, idToken, verify.ErrType},
			{"a signature by an unknown key", forAPI, forge(t, rb.URL, kid(t, mario.AccessToken), payload), verify.ErrSignature},
			{"a key id nobody published", forAPI, forge(t, rb.URL, "made-up", payload), verify.ErrUnknownKey},
			{"alg none", forAPI, none, verify.ErrAlgorithm},
			{"HS256 keyed with the public JWKS", forAPI, hsWithJWKS(t, rb.JWKSURL, kid(t, mario.AccessToken), payload), verify.ErrAlgorithm},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if _, err := tt.v.Verify(ctx, tt.raw); !errors.Is(err, tt.want) {
					t.Fatalf("err = %v, want %v", err, tt.want)
				}
			})
		}
		t.Run("an expired token", func(t *testing.T) {
			c.Advance(time.Hour)
			if _, err := forAPI.Verify(ctx, mario.AccessToken); !errors.Is(err, verify.ErrExpired) {
				t.Fatalf("err = %v", err)
			}
		})
	})
}

func splitJWT(t *testing.T, raw string) (map[string]any, string) {
	t.Helper()
	p := strings.Split(raw, ".")
	b, err := base64.RawURLEncoding.DecodeString(p[0])
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	return h, p[1]
}

func enc(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func kid(t *testing.T, raw string) string {
	h, _ := splitJWT(t, raw)
	s, _ := h["kid"].(string)
	return s
}

// forge signs payload (base64url) with a fresh ES256 key under the header kid.
func forge(t *testing.T, _ string, kid, payload string) string {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	b, _ := base64.RawURLEncoding.DecodeString(payload)
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: k, KeyID: kid}}, (&jose.SignerOptions{}).WithType("at+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	jws, _ := s.Sign(b)
	out, _ := jws.CompactSerialize()
	return out
}

// hsWithJWKS is the key-confusion attack: HS256 keyed with the issuer's published JWKS.
func hsWithJWKS(t *testing.T, jwksURL, kid, payload string) string {
	t.Helper()
	resp, err := http.Get(jwksURL)
	if err != nil {
		t.Fatal(err)
	}
	secret, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	b, _ := base64.RawURLEncoding.DecodeString(payload)
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: secret}, (&jose.SignerOptions{}).WithType("at+jwt").WithHeader("kid", kid))
	if err != nil {
		t.Fatal(err)
	}
	jws, _ := s.Sign(b)
	out, _ := jws.CompactSerialize()
	return out
}
