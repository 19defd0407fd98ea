package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/inps/sportello/broker/console"
	"github.com/inps/sportello/config"
	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/providers"
)

// consoleClient is the console's internal relying party at this issuer: a public client
// (PKCE S256, no secret), its one redirect URI the console's callback, SpidL3 at least.
func consoleClient(cfg *config.Config) config.Client {
	return config.Client{ID: config.ConsoleClientID, Public: true, AuthMethod: "none",
		RedirectURIs: []string{strings.TrimRight(cfg.Issuer, "/") + "/console/callback"},
		Scopes:       []string{"openid", "profile", "fiscal_number"},
		GrantTypes:   []string{"authorization_code"}, MinACR: loa.SpidL3,
		DisplayName: config.Text{"it": "Console di sicurezza", "en": "Security console"}}
}

// withConsoleClient is the configuration the broker runs with: the configured clients and,
// when console.operators lists anyone, the console's own client.
func withConsoleClient(cfg *config.Config) *config.Config {
	if len(cfg.Console.Operators) == 0 {
		return cfg
	}
	c := *cfg
	c.Clients = append(slices.Clone(cfg.Clients), consoleClient(cfg))
	return &c
}

// consoleOperators are the console's entitlements by fiscal code (console.operators): a
// providers.Entitler, as the officials' registry is for the tokens.
type consoleOperators config.Console

var _ providers.Entitler = consoleOperators{}

// Entitlements implements providers.Entitler: console:admin or console:read, or none.
func (o consoleOperators) Entitlements(_ context.Context, cf string) ([]string, error) {
	switch config.Console(o).ConsoleRole(cf) {
	case config.ConsoleAdmin:
		return []string{console.ScopeAdmin}, nil
	case config.ConsoleRead:
		return []string{console.ScopeRead}, nil
	}
	return nil, nil
}

// consoleToken sends the console's token request to this broker's token endpoint in process:
// the code never leaves the process, and no replica needs to reach the issuer's public
// address.
func (w *consoleWiring) consoleToken(ctx context.Context, form url.Values) (int, []byte, error) {
	b, err := w.broker()
	if err != nil {
		return 0, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(w.cfg.Issuer, "/")+"/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = "127.0.0.1:0"
	rec := httptest.NewRecorder()
	b.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes(), nil
}

// personRevokedSince is the console's check of its operators' sessions against a
// revoke-person (Broker.PersonRevokedSince).
func (w *consoleWiring) personRevokedSince(ctx context.Context, fiscalCode string, since time.Time) (bool, error) {
	b, err := w.broker()
	if err != nil {
		return false, err
	}
	return b.PersonRevokedSince(ctx, fiscalCode, since)
}

// consoleUI is the console's pages over the API, or nil when no operator is configured.
func (w *consoleWiring) consoleUI(api *console.API, s providers.Services) (http.Handler, error) {
	if len(w.cfg.Console.Operators) == 0 {
		return nil, nil
	}
	return console.NewUI(console.UIConfig{
		API: api, Store: w.store, Issuer: strings.TrimRight(w.cfg.Issuer, "/"), ClientID: config.ConsoleClientID,
		Token: w.consoleToken, Operators: consoleOperators(w.cfg.Console), Lang: s.Lang,
		Revoked: w.personRevokedSince,
		Secure:  !w.cfg.Dev, IdleTimeout: w.cfg.Console.IdleTimeout, MaxAge: w.cfg.Console.MaxAge,
		Log: w.log,
	})
}
