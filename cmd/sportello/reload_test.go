package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/inps/sportello/providers/spid/devidp"
)

// serve reloads the file on SIGHUP where that is safe: the portal's new redirect URI is
// accepted and the old one refused at once; a change of a section a running broker cannot
// take over (the token lifetimes) is logged as needing a restart and left as is; the console's
// own client survives the reload; a file that fails validation keeps the running configuration,
// and says so.
func TestServeReloadsTheClientsOnSIGHUP(t *testing.T) {
	const old, moved = "https://www.inps.example.it/oidc/callback", "https://www.inps.example.it/oidc/new-callback"
	path := exampleDeployment(t, func(y string) string {
		return strings.Replace(y, "  type: redis\n", "  type: memory\n", 1) +
			"\nconsole:\n  operators:\n    - {fiscal_code: CNTLNE75E52L736Y, role: admin}\n"
	})
	for _, k := range []string{"SPORTELLO_HTTP_ADDR", "SPORTELLO_MTLS_ADDR", "SPORTELLO_DEBUG_ADDR"} {
		t.Setenv(k, "127.0.0.1:0")
	}
	t.Setenv("SPORTELLO_OTLP_ENDPOINT", "")
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"keys", "init", "--config", path}, &out, &errb); code != 0 {
		t.Fatalf("keys init: %d\n%s%s", code, out.String(), errb.String())
	}
	p := startMain(t, "serve", "--config", path)
	base := "http://" + p.waitLine(t, "sportello listening")["http"].(string)
	authorize := func(redirect string) int { return authorizeAs(t, base, "portale-inps", redirect) }
	console := func() int {
		return authorizeAs(t, base, "sportello-console", "https://login.inps.example.it/console/callback")
	}
	if st := console(); st == http.StatusBadRequest {
		t.Fatalf("the console's client refused before the reload: %d", st)
	}
	if st := authorize(old); st == http.StatusBadRequest {
		t.Fatalf("the registered URI refused: %d", st)
	}
	if st := authorize(moved); st != http.StatusBadRequest {
		t.Fatalf("an unregistered URI: %d", st)
	}
	yaml := string(mustRead(t, path))
	write := func(y string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(y), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	hup := func(msg string) {
		t.Helper()
		if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		p.waitLine(t, msg)
	}

	// The SPID registry out of reach: its provider is not ready.
	var ready readyBody
	_, body := get(t, base+"/readyz")
	_ = json.Unmarshal(body, &ready)
	if ready.Checks["provider:spid"].Status != "fail" {
		t.Fatalf("provider:spid before the reload: %s", body)
	}

	// The new URI, SPID's IdPs from a file, and a token lifetime that needs a restart.
	idp, err := devidp.New(devidp.Options{Name: "demo", BaseURL: "https://idp.example",
		KeyFile: "../../testdata/spid/dev-idp-demo.key", CertFile: "../../testdata/spid/dev-idp-demo.crt",
		SPMetadata: func(context.Context) ([]byte, error) { return nil, nil }})
	if err != nil {
		t.Fatal(err)
	}
	md, err := idp.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(filepath.Dir(path), "spid", "idp.xml"), md, 0o600); err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(yaml, "      - "+old+"\n", "      - "+moved+"\n", 1)
	edited = strings.Replace(edited, "      - metadata_url: https://registry.spid.gov.it/entities-idp?&output=xml\n", "      - metadata_file: spid/idp.xml\n", 1)
	edited = strings.Replace(edited, "  access_ttl: 5m ", "  access_ttl: 4m ", 1)
	write(edited)
	hup("configuration reload: clients and policy reloaded")
	if st := console(); st == http.StatusBadRequest {
		t.Fatalf("the console's client removed by the reload: %d", st)
	}
	if st := authorize(moved); st == http.StatusBadRequest {
		t.Fatalf("the new URI refused after SIGHUP: %d", st)
	}
	if st := authorize(old); st != http.StatusBadRequest {
		t.Fatalf("the old URI accepted after SIGHUP: %d", st)
	}
	p.waitLine(t, "configuration reload: metadata sources reloaded")
	ready = readyBody{}
	_, body = get(t, base+"/readyz")
	_ = json.Unmarshal(body, &ready)
	if ready.Checks["provider:spid"].Status != "ok" {
		t.Errorf("provider:spid after its sources were reloaded: %s", body)
	}
	if !strings.Contains(p.stderr.String(), `"section":"tokens"`) {
		t.Errorf("the tokens change was not reported as needing a restart:\n%s", p.stderr.String())
	}

	// A file that fails validation changes nothing.
	write(strings.Replace(edited, "      - "+moved+"\n", "      - "+old+"\n", 1) + "\nnot_a_key: true\n")
	hup("configuration reload refused: the running configuration stays (sportello check-config FILE lists every error)")
	if st := authorize(moved); st == http.StatusBadRequest {
		t.Fatalf("a refused reload dropped the URI in force: %d", st)
	}
	if st := authorize(old); st != http.StatusBadRequest {
		t.Fatalf("a refused reload took effect: %d", st)
	}
	if code := p.stop(t); code != 0 {
		t.Fatalf("serve exited %d\n%s", code, p.stderr.String())
	}
}

// authorizeAs is the status of an authorization request of client with redirect: 400 when
// the client or its redirect URI is refused.
func authorizeAs(t *testing.T, base, client, redirect string) int {
	t.Helper()
	q := url.Values{"client_id": {client}, "response_type": {"code"}, "scope": {"openid"}, "state": {"s"},
		"redirect_uri": {redirect}, "code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(base + "/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
