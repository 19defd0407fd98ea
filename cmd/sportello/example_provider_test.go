package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
	"golang.org/x/oauth2"

	"github.com/inps/sportello/broker"
	"github.com/inps/sportello/config"
	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/providers/example"
)

// The README's smallest provider, wired by its one line in providerTypes: a dev configuration
// with an example section logs the fixed person in at L1 through the provider's form, and the
// tokens carry its auth_method. Outside dev mode the same section is refused, with its line.
func TestExampleProviderEndToEnd(t *testing.T) {
	var section config.Provider
	if err := yaml.Unmarshal([]byte("type: example\n"), &section); err != nil {
		t.Fatal(err)
	}
	if _, errs := typeByName["example"].Decode("hello", &section, false); len(errs) != 1 ||
		!strings.Contains(errs[0].Error(), "providers.hello.type: the example provider works in dev mode only (line 1") {
		t.Fatalf("outside dev mode: %v", errs)
	}

	_, base := serveBroker(t, func(c *config.Config) {
		c.Providers = map[string]config.Provider{"hello": section}
	}, func(o *broker.Options) {
		res, err := buildProviders(o.Config, deps{logger: slog.New(slog.DiscardHandler), dev: true})
		if err != nil {
			t.Fatal(err)
		}
		o.Open, o.Messages = res.open, res.messages
	})
	rp := oauth2.Config{ClientID: "demo-rp", ClientSecret: "demo-secret", RedirectURL: "http://127.0.0.1:9000/callback",
		Endpoint: oauth2.Endpoint{AuthURL: base + "/authorize", TokenURL: base + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader},
		Scopes:   []string{"openid", "profile", "fiscal_number"}}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if req.URL.Port() == "9000" {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	verifier := oauth2.GenerateVerifier()
	resp, err := browser.Get(rp.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", "n"),
		oauth2.SetAuthURLParam("idp", "hello"), oauth2.SetAuthURLParam("acr_values", loa.SpidL1)))
	if err != nil {
		t.Fatal(err)
	}
	form, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Request.URL.Path != "/example/hello/login" {
		t.Fatalf("not the example form: %d %s\n%s", resp.StatusCode, resp.Request.URL, form)
	}
	field := func(name string) string {
		m := regexp.MustCompile(`name="` + name + `" value="([^"]*)"`).FindSubmatch(form)
		if m == nil {
			t.Fatalf("no %s in the form: %s", name, form)
		}
		return string(m[1])
	}
	resp, err = browser.PostForm(resp.Request.URL.String(), url.Values{"login": {field("login")}, "csrf": {field("csrf")}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	code := loc.Query().Get("code")
	if code == "" {
		t.Fatalf("no code: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	tok, err := rp.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if strings.Count(raw, ".") != 2 {
		t.Fatalf("no ID token: %q", raw)
	}
	_, payload := splitJWT(t, raw)
	body, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(body, &claims); err != nil {
		t.Fatal(err)
	}
	if claims["auth_method"] != "example" || claims["acr"] != loa.SpidL1 || claims["fiscal_number"] != example.Person {
		t.Fatalf("ID token claims %v", claims)
	}
}
