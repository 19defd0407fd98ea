package broker

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// With Redis down every store-backed path refuses cleanly (readiness 503, token endpoint 503
// temporarily_unavailable, the login page "temporarily unavailable"), nothing is consumed
// half-way (the code and the refresh token tried during the outage still work afterwards),
// and service resumes by itself when Redis is back, without restarting the broker.
func TestSurvivalRedisUnreachable(t *testing.T) {
	p, st := survivalRedis(t, "--appendonly", "yes", "--appendfsync", "always")
	tb := newTestBroker(t, st)
	tok := survivalLogin(t, tb.URL)
	rp := survivalRP(tb.URL)
	cb, _ := newBrowser(t).authorize(t, rp.AuthCodeURL("s", oauth2.SetAuthURLParam("idp", "RSSMRA80A01H501U:2")))
	if cb == nil {
		t.Fatal("no code")
	}
	codeForm := url.Values{"grant_type": {"authorization_code"}, "code": {cb.Get("code")}, "redirect_uri": {rp.RedirectURL}}

	p.Stop()

	t.Run("/readyz answers 503, /healthz stays up", func(t *testing.T) {
		if got, body := status(t, tb.URL, "/readyz"); got != 503 {
			t.Fatalf("/readyz = %d %s", got, body)
		}
		if got, _ := status(t, tb.URL, "/healthz"); got != 200 {
			t.Fatalf("/healthz = %d", got)
		}
	})
	t.Run("the token endpoint answers 503 temporarily_unavailable", func(t *testing.T) {
		for name, form := range map[string]url.Values{"refresh_token": refreshForm(tok.RefreshToken), "authorization_code": codeForm} {
			if code, e, _ := tokenPost(t, tb.URL, form); code != 503 || e != "temporarily_unavailable" {
				t.Errorf("%s grant: %d %q, want 503 temporarily_unavailable", name, code, e)
			}
		}
	})
	t.Run("every other store-backed API answers 503 temporarily_unavailable; what needs no store keeps working", func(t *testing.T) {
		cases := []struct {
			path, user, pass, bearer string
			form                     url.Values
			want                     int
		}{
			{pathIntrospect, "demo-service", "demo-service-secret", "", url.Values{"token": {tok.AccessToken}}, 503},
			{pathUserinfo, "", "", tok.AccessToken, url.Values{}, 503},
			{pathRevoke, "demo-rp", "demo-secret", "", url.Values{"token": {tok.AccessToken}}, 503},
			{pathToken, "demo-service", "demo-service-secret", "", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"},
				"subject_token": {tok.AccessToken}, "subject_token_type": {"urn:ietf:params:oauth:token-type:access_token"}, "audience": {"inps-pensioni"}}, 503},
			// client_credentials signs a JWT from the key ring in memory: no store round trip.
			{pathToken, "demo-service", "demo-service-secret", "", url.Values{"grant_type": {"client_credentials"}, "scope": {"inps:services"}}, 200},
		}
		for _, c := range cases {
			req, _ := http.NewRequest(http.MethodPost, tb.URL+c.path, strings.NewReader(c.form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if c.user != "" {
				req.SetBasicAuth(c.user, c.pass)
			}
			if c.bearer != "" {
				req.Header.Set("Authorization", "Bearer "+c.bearer)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var body map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if resp.StatusCode != c.want || (c.want == 503 && body["error"] != "temporarily_unavailable") {
				t.Errorf("%s %s: %d %v, want %d", c.path, c.form.Get("grant_type"), resp.StatusCode, body["error"], c.want)
			}
			// A client knows when to try again (RFC 9110 §10.2.3): as long as a failover.
			if retry := resp.Header.Get("Retry-After"); c.want == 503 && retry != "30" {
				t.Errorf("%s %s: Retry-After %q, want 30", c.path, c.form.Get("grant_type"), retry)
			}
		}
		for _, path := range []string{"/.well-known/openid-configuration", pathJWKS} {
			if got, _ := status(t, tb.URL, path); got != 200 {
				t.Errorf("GET %s = %d, want 200 (served from memory)", path, got)
			}
		}
	})
	t.Run("the login page says the service is temporarily unavailable", func(t *testing.T) {
		got, body := status(t, tb.URL, strings.TrimPrefix(rp.AuthCodeURL("s2"), tb.URL), "Accept", "text/html", "Accept-Language", "en")
		if got != 503 || !strings.Contains(body, "temporarily unavailable") {
			t.Fatalf("/authorize = %d %.200s", got, body)
		}
	})

	p.Restart()
	var got int
	if !eventually(15*time.Second, func() bool { got, _ = status(t, tb.URL, "/readyz"); return got == 200 }) {
		t.Fatalf("/readyz = %d after Redis came back", got)
	}
	t.Run("after recovery the code and the refresh token tried during the outage still work", func(t *testing.T) {
		if code, e, _ := tokenPost(t, tb.URL, codeForm); code != 200 {
			t.Errorf("code exchange after recovery: %d %s", code, e)
		}
		if code, e, _ := tokenPost(t, tb.URL, refreshForm(tok.RefreshToken)); code != 200 {
			t.Errorf("refresh after recovery: %d %s", code, e)
		}
		if _, err := rp.Exchange(context.Background(), "unknown"); err == nil {
			t.Error("an unknown code was accepted")
		}
	})
}
