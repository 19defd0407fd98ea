package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/inps/sportello/internal/store/storetest"
)

// consoleCall calls the console API with a bearer token (none when tok is "").
func consoleCall(t *testing.T, method, target, tok, body string) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, target, rd)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// In dev mode the demo-operator client reads the state of every upstream through the console
// API, switches a dev SPID IdP off (a login through it is then refused with the clear page)
// and back on; a read-only token cannot change anything, a token without the console scopes
// reads nothing.
func TestDevModeConsoleSwitchesADevIdPOffAndOn(t *testing.T) {
	issuer, _ := devBroker(t)
	admin := serviceToken(t, issuer, "demo-operator", "demo-operator-secret", "console:read console:admin")
	reader := serviceToken(t, issuer, "demo-operator", "demo-operator-secret", "console:read")
	other := serviceToken(t, issuer, "demo-service", "demo-service-secret", "inps:services")
	api := issuer + "/console/api"

	st, provs := consoleCall(t, "GET", api+"/providers", reader, "")
	if st != http.StatusOK {
		t.Fatalf("providers: %d %v", st, provs)
	}
	var entityID string
	kinds := map[string]bool{}
	for _, p := range provs["providers"].([]any) {
		p := p.(map[string]any)
		kinds[p["kind"].(string)+":"+p["id"].(string)] = true
		if p["kind"] == "idp" && entityID == "" {
			entityID = p["id"].(string)
			if certs, _ := p["certificates"].([]any); len(certs) == 0 {
				t.Fatalf("a dev IdP without its signing certificates: %v", p)
			}
			// Its metadata source is the dev IdP's metadata URL, loaded once without error.
			md, _ := p["metadata"].(map[string]any)
			if src, _ := md["source"].(string); md["source_type"] != "url" || !strings.HasSuffix(src, "/metadata") ||
				md["last_refresh"] == nil || md["last_attempt"] == nil || md["stale"] != nil || p["last_error"] != nil {
				t.Fatalf("a dev IdP's metadata state: %v", p)
			}
		}
	}
	if entityID == "" || !kinds["provider:spid"] || !kinds["provider:pin"] {
		t.Fatalf("providers listed: %v", kinds)
	}
	// The dev federation's OPs are entries too, their trust chain resolved.
	opListed := false
	for _, p := range provs["providers"].([]any) {
		p := p.(map[string]any)
		if p["kind"] != "idp" || p["id"] != issuer+"/dev/oidcfed/spid-op" {
			continue
		}
		md, _ := p["metadata"].(map[string]any)
		if p["parent"] != "oidcfed" || md["last_refresh"] == nil || p["last_error"] != nil || md["source"] != issuer+"/dev/oidcfed/spid-op/.well-known/openid-federation" {
			t.Fatalf("the dev SPID OP: %v", p)
		}
		opListed = true
	}
	if !opListed {
		t.Fatalf("the dev SPID OP is not listed: %v", kinds)
	}
	for _, p := range []string{"/clients", "/keys", "/switches"} {
		if st, out := consoleCall(t, "GET", api+p, reader, ""); st != http.StatusOK {
			t.Fatalf("GET %s: %d %v", p, st, out)
		}
		if st, _ := consoleCall(t, "GET", api+p, other, ""); st != http.StatusForbidden {
			t.Fatalf("GET %s without the console scopes: %d", p, st)
		}
		if st, _ := consoleCall(t, "GET", api+p, "", ""); st != http.StatusUnauthorized {
			t.Fatalf("GET %s without a token: %d", p, st)
		}
	}
	// The heartbeat is written in the background: the replica shows up shortly.
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, out := consoleCall(t, "GET", api+"/replicas", reader, "")
		if rs, _ := out["replicas"].([]any); len(rs) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no replica listed: %v", out)
		}
		time.Sleep(50 * time.Millisecond)
	}

	switchURL := api + "/switches/idp/" + url.PathEscape(entityID)
	if st, out := consoleCall(t, "PUT", switchURL, reader, `{"enabled":false,"reason":"drill"}`); st != http.StatusForbidden || out["error"] != "insufficient_scope" {
		t.Fatalf("a read-only operator switched an IdP: %d %v", st, out)
	}
	login := func() (int, string) {
		q := url.Values{"client_id": {"demo-rp"}, "response_type": {"code"}, "scope": {"openid"}, "state": {"s"},
			"redirect_uri": {"http://127.0.0.1:9000/callback"}, "idp": {entityID}}
		c := client(t, "", "")
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		resp, err := c.Get(issuer + "/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if st, body := login(); st != http.StatusFound && st != http.StatusOK {
		t.Fatalf("login through the dev IdP before the switch: %d %s", st, body)
	}
	if st, out := consoleCall(t, "PUT", switchURL, admin, `{"enabled":false,"reason":"drill: IdP compromised"}`); st != http.StatusOK || out["actor"] != "demo-operator" {
		t.Fatalf("switch off: %d %v", st, out)
	}
	if st, body := login(); !strings.Contains(body, "sospeso temporaneamente per motivi di sicurezza") {
		t.Fatalf("a login through a switched-off IdP: %d %s", st, body)
	}
	if st, out := consoleCall(t, "PUT", switchURL, admin, `{"enabled":true}`); st != http.StatusOK {
		t.Fatalf("switch on: %d %v", st, out)
	}
	if st, body := login(); strings.Contains(body, "sospeso temporaneamente") {
		t.Fatalf("still refused after the switch-on: %d", st)
	}
	if st, out := consoleCall(t, "POST", api+"/actions/refresh-metadata", admin, `{"provider":"spid"}`); st != http.StatusOK {
		t.Fatalf("refresh metadata: %d %v", st, out)
	}
	if st, out := consoleCall(t, "POST", api+"/actions/unlock-pin", admin, `{"fiscal_code":"FRRGNN55T50Z600A"}`); st != http.StatusOK {
		t.Fatalf("unlock PIN: %d %v", st, out)
	}
	// Mario logged in above (the switch-on login): revoke-person ends that session.
	if st, out := consoleCall(t, "POST", api+"/actions/revoke-person", admin, `{"fiscal_code":"RSSMRA80A01H501U"}`); st != http.StatusOK || out["status"] != "ok" || out["revoked"] == nil {
		t.Fatalf("revoke person: %d %v", st, out)
	}
}

// A PIN lockout lifted through the console is recorded by the PIN service in the operator's
// name: the pin.unlocked record's actor is the operator of the console token, never a
// generic "console" (the admin API's unlock does the same).
func TestDevModeConsoleUnlockPINRecordsTheOperator(t *testing.T) {
	out := &storetest.Buffer{}
	issuer, _ := devBrokerLogging(t, out)
	admin := serviceToken(t, issuer, "demo-operator", "demo-operator-secret", "console:read console:admin")
	if st, ans := consoleCall(t, "POST", issuer+"/console/api/actions/unlock-pin", admin, `{"fiscal_code":"FRRGNN55T50Z600A"}`); st != http.StatusOK {
		t.Fatalf("unlock PIN: %d %v", st, ans)
	}
	var found bool
	for _, line := range strings.Split(out.String(), "\n") {
		if !strings.Contains(line, `"type":"pin.unlocked"`) {
			continue
		}
		found = true
		if !strings.Contains(line, `"actor":"demo-operator"`) {
			t.Errorf("pin.unlocked not in the operator's name: %s", line)
		}
	}
	if !found {
		t.Fatalf("no pin.unlocked record:\n%s", out.String())
	}
}
