package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"github.com/inps/sportello/internal/store/storetest"
	"github.com/inps/sportello/pin"
	"github.com/inps/sportello/providers/x509auth"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// devBroker runs "sportello dev" in-process on free ports until the test ends.
func devBroker(t *testing.T, extra ...string) (issuer, mtls string) {
	t.Helper()
	return devBrokerLogging(t, io.Discard, extra...)
}

// devBrokerLogging is devBroker with its output — the log and, with --audit-stderr, the audit
// trail — to out.
func devBrokerLogging(t *testing.T, out io.Writer, extra ...string) (issuer, mtls string) {
	t.Helper()
	httpAddr, mtlsAddr := freeAddr(t), freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	args := append([]string{"dev", "--http", httpAddr, "--mtls", mtlsAddr, "--data", t.TempDir(), "--testdata", "../../testdata", "--audit-stderr"}, extra...)
	go func() { done <- run(ctx, args, out, out) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Error("dev mode did not shut down")
		}
	})
	issuer = "http://" + httpAddr
	for i := 0; i < 600; i++ { // up to a minute: a loaded CI machine generates the dev keys slowly
		if resp, err := http.Get(issuer + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return issuer, "https://" + mtlsAddr
			}
		}
		select {
		case code := <-done:
			t.Fatalf("dev mode exited with %d", code)
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatal("dev mode did not become ready")
	return "", ""
}

// client is a browser: cookie jar, stops at the relying party's callback, optional client
// certificate for the mTLS listener (which the dev PKI's server CA signs).
func client(t *testing.T, certFile, keyFile string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	roots := x509.NewCertPool()
	ca, err := os.ReadFile("../../testdata/pki/server-ca.crt")
	if err != nil {
		t.Fatal(err)
	}
	roots.AppendCertsFromPEM(ca)
	tlsCfg := &tls.Config{RootCAs: roots}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			t.Fatal(err)
		}
		tlsCfg.Certificates = []tls.Certificate{cert}
	}
	return &http.Client{Jar: jar, Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsCfg},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Port() == "9000" {
				return http.ErrUseLastResponse
			}
			return nil
		}}
}

var hiddenField = regexp.MustCompile(`<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"`)

// submit posts the form of page to action with the hidden fields as found plus values.
func submit(t *testing.T, c *http.Client, page *http.Response, values url.Values) *http.Response {
	t.Helper()
	body, _ := io.ReadAll(page.Body)
	page.Body.Close()
	form := url.Values{}
	for _, m := range hiddenField.FindAllStringSubmatch(string(body), -1) {
		form.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	for k, v := range values {
		form[k] = v
	}
	action := page.Request.URL
	if m := regexp.MustCompile(`<form[^>]*action="([^"]+)"`).FindStringSubmatch(string(body)); m != nil {
		u, err := page.Request.URL.Parse(html.UnescapeString(m[1]))
		if err == nil {
			action = u
		}
	}
	resp, err := c.PostForm(action.String(), form)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func callbackCode(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc == nil || loc.Port() != "9000" || loc.Query().Get("code") == "" {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("no code at the callback: %d %s %s %s", resp.StatusCode, resp.Request.URL, resp.Header.Get("Location"), body)
	}
	return loc.Query().Get("code")
}

func tokenClaims(t *testing.T, issuer, code, verifier string) map[string]any {
	t.Helper()
	ctx := context.Background()
	prov, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatal(err)
	}
	rp := oauth2.Config{ClientID: "demo-rp", ClientSecret: "demo-secret", Endpoint: prov.Endpoint(), RedirectURL: "http://127.0.0.1:9000/callback"}
	tok, err := rp.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	idt, err := prov.Verifier(&oidc.Config{ClientID: "demo-rp"}).Verify(ctx, tok.Extra("id_token").(string))
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	_ = idt.Claims(&c)
	return c
}

func authURL(issuer, idp, acr, verifier string) string {
	rp := oauth2.Config{ClientID: "demo-rp", Endpoint: oauth2.Endpoint{AuthURL: issuer + "/authorize"},
		RedirectURL: "http://127.0.0.1:9000/callback", Scopes: []string{"openid", "profile", "fiscal_number"}}
	return rp.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("idp", idp),
		oauth2.SetAuthURLParam("acr_values", acr))
}

// The dev mode of testdata/dev/README.md, driven from outside with the relying-party library: a PIN
// login (dispositivo → SpidL2), an official's PIN with entitlements, and a CIE login over real
// mutual TLS with the dev client certificate (SpidL3).
func TestDevModeLogins(t *testing.T) {
	issuer, _ := devBroker(t)
	t.Run("PIN dispositivo of Giovanna Ferrari", func(t *testing.T) {
		c := client(t, "", "")
		v := oauth2.GenerateVerifier()
		form, err := c.Get(authURL(issuer, "pin", "https://www.spid.gov.it/SpidL2", v))
		if err != nil || form.StatusCode != http.StatusOK {
			t.Fatalf("PIN form: %v %v", err, form)
		}
		code := callbackCode(t, submit(t, c, form, url.Values{"fiscal_code": {"FRRGNN55T50Z600A"}, "pin": {"A1B2C3D4"}}))
		claims := tokenClaims(t, issuer, code, v)
		if claims["auth_method"] != "pin" || claims["pin_type"] != "dispositivo" || claims["acr"] != "https://www.spid.gov.it/SpidL2" ||
			claims["fiscal_number"] != "FRRGNN55T50Z600A" || !slices.Equal(toStrings(claims["amr"]), []string{"pwd"}) {
			t.Fatalf("claims = %v", claims)
		}
	})
	t.Run("official's PIN carries entitlements", func(t *testing.T) {
		c := client(t, "", "")
		v := oauth2.GenerateVerifier()
		form, err := c.Get(authURL(issuer, "pin", "https://www.spid.gov.it/SpidL1", v))
		if err != nil {
			t.Fatal(err)
		}
		code := callbackCode(t, submit(t, c, form, url.Values{"fiscal_code": {"CLMMRC70B10G273W"}, "pin": {"Z9Y8X7W6"}}))
		claims := tokenClaims(t, issuer, code, v)
		if claims["pin_type"] != "ordinario" || claims["acr"] != "https://www.spid.gov.it/SpidL1" || len(toStrings(claims["entitlements"])) == 0 {
			t.Fatalf("claims = %v", claims)
		}
	})
	t.Run("CIE of Mario Rossi over mutual TLS", func(t *testing.T) {
		c := client(t, "../../testdata/pki/mario-rossi-cie.crt", "../../testdata/pki/mario-rossi-cie.key")
		v := oauth2.GenerateVerifier()
		resp, err := c.Get(authURL(issuer, "cie", "https://www.spid.gov.it/SpidL3", v))
		if err != nil {
			t.Fatal(err)
		}
		claims := tokenClaims(t, issuer, callbackCode(t, resp), v)
		if claims["auth_method"] != "cie" || claims["acr"] != "https://www.spid.gov.it/SpidL3" || claims["fiscal_number"] != "RSSMRA80A01H501U" ||
			!slices.Equal(toStrings(claims["amr"]), []string{"sc", "pin", "hwk", "mfa"}) {
			t.Fatalf("claims = %v", claims)
		}
	})
	t.Run("CNS of Giuseppe Verdi over mutual TLS", func(t *testing.T) {
		c := client(t, "../../testdata/pki/giuseppe-verdi-cns.crt", "../../testdata/pki/giuseppe-verdi-cns.key")
		v := oauth2.GenerateVerifier()
		resp, err := c.Get(authURL(issuer, "cns", "https://www.spid.gov.it/SpidL3", v))
		if err != nil {
			t.Fatal(err)
		}
		claims := tokenClaims(t, issuer, callbackCode(t, resp), v)
		if claims["auth_method"] != "cns" || claims["acr"] != "https://www.spid.gov.it/SpidL3" || claims["fiscal_number"] != "VRDGPP40C15L219U" {
			t.Fatalf("claims = %v", claims)
		}
	})
	t.Run("PIN first access: the 16-character PIN forces a new 8-character one, then tokens", func(t *testing.T) {
		c := client(t, "", "")
		v := oauth2.GenerateVerifier()
		form, err := c.Get(authURL(issuer, "pin", "https://www.spid.gov.it/SpidL1", v))
		if err != nil {
			t.Fatal(err)
		}
		change := submit(t, c, form, url.Values{"fiscal_code": {"ESPLCU90D45Z404Y"}, "pin": {"1A2B3C4D5E6F7089"}})
		if change.StatusCode != http.StatusOK || change.Request.URL.Path != "/pin/login" {
			t.Fatalf("no first-access form: %d %s", change.StatusCode, change.Request.URL)
		}
		resp := submit(t, c, change, url.Values{"fiscal_code": {"ESPLCU90D45Z404Y"}, "current_pin": {"1A2B3C4D5E6F7089"},
			"new_pin": {"Q7W3E9R2"}, "new_pin2": {"Q7W3E9R2"}})
		claims := tokenClaims(t, issuer, callbackCode(t, resp), v)
		if claims["auth_method"] != "pin" || claims["fiscal_number"] != "ESPLCU90D45Z404Y" {
			t.Fatalf("claims = %v", claims)
		}
		// The 16-character PIN no longer works (a new browser: no SSO session to answer).
		c2 := client(t, "", "")
		form, _ = c2.Get(authURL(issuer, "pin", "https://www.spid.gov.it/SpidL1", oauth2.GenerateVerifier()))
		again := submit(t, c2, form, url.Values{"fiscal_code": {"ESPLCU90D45Z404Y"}, "pin": {"1A2B3C4D5E6F7089"}})
		body, _ := io.ReadAll(again.Body)
		again.Body.Close()
		if again.Header.Get("Location") != "" || strings.Contains(string(body), "new_pin") {
			t.Fatalf("the 16-character PIN still works after first access: %d", again.StatusCode)
		}
	})
	t.Run("a revoked CIE is refused with a page", func(t *testing.T) {
		c := client(t, "../../testdata/pki/revoked-crl.crt", "../../testdata/pki/revoked-crl.key")
		resp, err := c.Get(authURL(issuer, "cie", "", oauth2.GenerateVerifier()))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.Header.Get("Location") != "" || resp.StatusCode < 400 || !strings.Contains(string(body), "access_denied") {
			t.Fatalf("revoked certificate: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
	// What the logins above leave in /metrics: one registry for the broker, the store, the
	// audit trail and the smart-card providers.
	t.Run("metrics of every part", func(t *testing.T) {
		resp, err := http.Get(issuer + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, want := range []string{
			`sportello_logins_total{level="L3",method="cie",outcome="success"}`,
			`sportello_logins_total{level="L2",method="pin",outcome="success"}`,
			`sportello_revocation_checks_total{provider="cie",result="good",source="crl"}`,
			`sportello_audit_events_total{type="login.success"}`,
			`sportello_audit_events_total{type="cert.rejected"}`,
			`sportello_audit_events_total{type="pin.locked"}`,
			`sportello_store_operation_duration_seconds_count{op="take"}`,
			`sportello_http_request_duration_seconds_count{endpoint="token"}`,
			`sportello_http_requests_total{endpoint="token",status="200"}`,
			`sportello_tokens_issued_total{grant="authorization_code"}`,
			`go_goroutines`, `process_resident_memory_bytes`,
		} {
			if !strings.Contains(string(body), want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
	})
}

func toStrings(v any) []string {
	var out []string
	if l, ok := v.([]any); ok {
		for _, x := range l {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

func TestCheckConfig(t *testing.T) {
	var out, errb bytes.Buffer
	bad := t.TempDir() + "/bad.yaml"
	if err := os.WriteFile(bad, []byte("issuer: http://x\nlisten: {http: ':1'}\nbogus: 1\nclients: [{id: a}, {id: a}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code := run(context.Background(), []string{"check-config", bad}, &out, &errb); code != 1 {
		t.Fatalf("check-config of a bad file exited %d", code)
	}
	for _, want := range []string{"bogus", "clients[1].id"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("check-config output lacks %q:\n%s", want, errb.String())
		}
	}
}

// The operators' APIs take bearer tokens of this issuer with their scope: the dev back office
// (demo-operator) checks Mario Rossi's PIN telefonico; a token without the scope is refused.
func TestDevModeOperatorAPI(t *testing.T) {
	issuer, _ := devBroker(t)
	token := func(id, secret, scope string) string { return serviceToken(t, issuer, id, secret, scope) }
	check := func(tok, pinValue string) (int, map[string]any) {
		body := `{"fiscal_code":"RSSMRA80A01H501U","pin":"` + pinValue + `"}`
		req, _ := http.NewRequest(http.MethodPost, issuer+"/admin/pin/phone/check", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	op := token("demo-operator", "demo-operator-secret", "pin:contact_center")
	if st, out := check(op, "12345678"); st != http.StatusOK || out["valid"] != true {
		t.Fatalf("PIN telefonico check: %d %v", st, out)
	}
	svc := token("demo-service", "demo-service-secret", "inps:services")
	if st, _ := check(svc, "12345678"); st != http.StatusUnauthorized && st != http.StatusForbidden {
		t.Fatalf("a token without the operator scope was accepted: %d", st)
	}
}

// The lost-PIN flow in dev mode: the recovery link lands in /dev/outbox, rooted at the issuer
// (a relative link in an e-mail is useless), and following it reaches the recovery page.
func TestDevModeLostPINLink(t *testing.T) {
	issuer, _ := devBroker(t)
	c := client(t, "", "")
	page, err := c.Get(issuer + "/pin/lost")
	if err != nil {
		t.Fatal(err)
	}
	resp := submit(t, c, page, url.Values{"fiscal_code": {pin.DevGiovannaFerrari},
		"mobile": {"+390000000" + pin.DevGiovannaFerrari[13:15]}, "email": {"giovanna.ferrari@example.org"}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("lost PIN form: %d", resp.StatusCode)
	}
	out, err := c.Get(issuer + "/dev/outbox")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(out.Body)
	out.Body.Close()
	m := regexp.MustCompile(`https?://[^\s"<]*/pin/lost/complete\?[^\s"<]+`).FindString(html.UnescapeString(string(body)))
	if !strings.HasPrefix(m, issuer+"/pin/lost/complete?") {
		t.Fatalf("no absolute recovery link in the outbox (%q):\n%s", m, body)
	}
	rec, err := c.Get(m)
	if err != nil {
		t.Fatal(err)
	}
	rec.Body.Close()
	if rec.StatusCode != http.StatusOK {
		t.Fatalf("recovery link: %d", rec.StatusCode)
	}
}

// Every dev certificate through the broker's real mutual-TLS listener (the serve.go TLS
// settings, the dev trust anchors, CRL and OCSP): the good cards log in with their fiscal
// code, each broken one is refused with the page that names its own reason.
func TestDevModeEveryCertificateOverTheRealListener(t *testing.T) {
	issuer, _ := devBroker(t)
	msgs := x509auth.Messages()
	tests := []struct{ cert, idp, reason, cf string }{
		{"mario-rossi-cie", "cie", "", "RSSMRA80A01H501U"},
		{"giuseppe-verdi-cns", "cns", "", "VRDGPP40C15L219U"},
		{"cns-hash-with-slash", "cns", "", "RCCMNL83S18D969H"},
		{"", "cie", x509auth.ReasonMissing, ""},
		{"expired", "cie", x509auth.ReasonExpired, ""},
		{"not-yet-valid", "cns", x509auth.ReasonNotYetValid, ""},
		{"revoked-crl", "cns", x509auth.ReasonRevoked, ""},
		{"revoked-ocsp", "cie", x509auth.ReasonRevoked, ""},
		{"wrong-policy", "cie", x509auth.ReasonWrongPolicy, ""},
		{"no-clientauth-eku", "cns", x509auth.ReasonNoClientAuth, ""},
		{"wrong-key-usage", "cns", x509auth.ReasonKeyUsage, ""},
		{"unknown-ca", "cie", x509auth.ReasonUnknownCA, ""},
		{"invalid-fiscal-code", "cns", x509auth.ReasonInvalidFiscalCode, ""},
		{"no-fiscal-code", "cie", x509auth.ReasonNoFiscalCode, ""},
		{"mario-rossi-cie", "cns", x509auth.ReasonUnknownCA, ""}, // a CIE is no CNS
	}
	for _, tt := range tests {
		t.Run(tt.idp+" "+tt.cert, func(t *testing.T) {
			certFile, keyFile := "", ""
			if tt.cert != "" {
				certFile, keyFile = "../../testdata/pki/"+tt.cert+".crt", "../../testdata/pki/"+tt.cert+".key"
			}
			v := oauth2.GenerateVerifier()
			resp, err := client(t, certFile, keyFile).Get(authURL(issuer, tt.idp, "", v))
			if err != nil {
				t.Fatal(err)
			}
			if tt.reason == "" {
				if c := tokenClaims(t, issuer, callbackCode(t, resp), v); c["fiscal_number"] != tt.cf || c["auth_method"] != tt.idp {
					t.Fatalf("claims = %v", c)
				}
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if msgs[tt.reason]["it"] == "" {
				t.Fatalf("no message for %s", tt.reason)
			}
			if resp.StatusCode < 400 || resp.Header.Get("Location") != "" || !strings.Contains(html.UnescapeString(string(body)), msgs[tt.reason]["it"]) {
				t.Fatalf("want the %s page, got %d %s:\n%.2000s", tt.reason, resp.StatusCode, resp.Header.Get("Location"), body)
			}
		})
	}
}

// No PIN ever reaches a log line or an audit record: the PIN flows (right and wrong PINs, the
// 16-character first-access PIN and the new 8-character one, the PIN telefonico check) run
// with debug logging and the audit trail on the same output, which is then searched for each
// PIN typed.
func TestDevModeNoPINInLogsOrAudit(t *testing.T) {
	out := &storetest.Buffer{}
	issuer, _ := devBrokerLogging(t, out, "-v")
	pins := []string{"A1B2C3D4", "WRONG999", "1A2B3C4D5E6F7089", "K7M2Q9X4"}
	login := func(cf, pinValue string) *http.Response {
		c := client(t, "", "")
		form, err := c.Get(authURL(issuer, "pin", "https://www.spid.gov.it/SpidL1", oauth2.GenerateVerifier()))
		if err != nil {
			t.Fatal(err)
		}
		return submit(t, c, form, url.Values{"fiscal_code": {cf}, "pin": {pinValue}})
	}
	login(pin.DevGiovannaFerrari, "WRONG999").Body.Close()
	login(pin.DevMarcoColombo, "a1b2c3d4").Body.Close()
	// First access: the 16-character PIN, then the new 8-character one on the page it leads to.
	first := login(pin.DevLuciaEsposito, "1A2B3C4D5E6F7089")
	body, _ := io.ReadAll(first.Body)
	first.Body.Close()
	if !strings.Contains(string(body), "new_pin") {
		t.Fatalf("no first-access form: %d %.500s", first.StatusCode, body)
	}
	first.Body = io.NopCloser(strings.NewReader(string(body)))
	// The page carries the login; the same browser is not needed for the PIN change itself.
	resp := submit(t, client(t, "", ""), first, url.Values{"fiscal_code": {pin.DevLuciaEsposito}, "current_pin": {"1A2B3C4D5E6F7089"},
		"new_pin": {"K7M2Q9X4"}, "new_pin2": {"K7M2Q9X4"}})
	resp.Body.Close()
	// The Contact Center's PIN telefonico check.
	check, _ := http.NewRequest(http.MethodPost, issuer+"/admin/pin/phone/check", strings.NewReader(`{"fiscal_code":"RSSMRA80A01H501U","pin":"87654321"}`))
	check.Header.Set("Authorization", "Bearer "+serviceToken(t, issuer, "demo-operator", "demo-operator-secret", "pin:contact_center"))
	check.Header.Set("Content-Type", "application/json")
	if cr, err := http.DefaultClient.Do(check); err == nil {
		cr.Body.Close()
	}
	pins = append(pins, "87654321")
	logs := out.String()
	if !strings.Contains(logs, "pin.") || len(logs) < 1000 {
		t.Fatalf("the flows left almost no log or audit (%d bytes): the check would prove nothing", len(logs))
	}
	for _, p := range pins {
		if strings.Contains(strings.ToUpper(logs), p) {
			i := strings.Index(strings.ToUpper(logs), p)
			t.Errorf("PIN %s appears in the output: …%s…", p, logs[max(0, i-200):min(len(logs), i+50)])
		}
	}
}

// What dev mode prints and keeps: the banner with the issuer and the demo clients, a request
// id on every request log line (the same one the response carries), and the signing keys and
// secrets of --data kept across a restart (tokens of the last run still verify).
func TestDevModeBannerLogsAndRestart(t *testing.T) {
	data := t.TempDir()
	out := &storetest.Buffer{}
	httpAddr := freeAddr(t)
	start := func(w io.Writer) (stop func()) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan int, 1)
		go func() {
			done <- run(ctx, []string{"dev", "-v", "--http", httpAddr, "--mtls", freeAddr(t), "--data", data, "--testdata", "../../testdata"}, w, w)
		}()
		for i := 0; i < 600; i++ {
			if resp, err := http.Get("http://" + httpAddr + "/readyz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return func() {
						cancel()
						select {
						case code := <-done:
							if code != 0 {
								t.Errorf("dev mode exited with %d on shutdown", code)
							}
						case <-time.After(20 * time.Second):
							t.Fatal("dev mode did not shut down")
						}
					}
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
		cancel()
		t.Fatal("dev mode did not become ready")
		return nil
	}
	issuer := "http://" + httpAddr
	stop := start(out)
	resp, err := http.Get(issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	rid := resp.Header.Get("X-Request-Id")
	accessToken := serviceToken(t, issuer, "demo-service", "demo-service-secret", "inps:services")
	stop()
	logs := out.String()
	for _, want := range []string{issuer + "/.well-known/openid-configuration", "demo-rp / demo-secret", "demo-service / demo-service-secret", "testdata/dev/README.md"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the banner lacks %q", want)
		}
	}
	if rid == "" || !regexp.MustCompile(`request_id=`+regexp.QuoteMeta(rid)+`\b.*endpoint=discovery|endpoint=discovery.*request_id=`+regexp.QuoteMeta(rid)).MatchString(logs) {
		t.Errorf("no log line names request %q of the discovery call", rid)
	}
	// Restart on the same --data: the same keys, so the token of the first run verifies.
	stop = start(io.Discard)
	defer stop()
	intro := url.Values{"token": {accessToken}}
	req, _ := http.NewRequest(http.MethodPost, issuer+"/oauth/introspect", strings.NewReader(intro.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("demo-service", "demo-service-secret")
	ir, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var active struct {
		Active bool `json:"active"`
	}
	_ = json.NewDecoder(ir.Body).Decode(&active)
	ir.Body.Close()
	if !active.Active {
		t.Fatal("a token of the previous run does not verify after a restart on the same --data")
	}
}

// serviceToken gets an access token by client_credentials from the dev broker.
func serviceToken(t *testing.T, issuer, id, secret, scope string) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}
	req, _ := http.NewRequest(http.MethodPost, issuer+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if out.AccessToken == "" {
		t.Fatalf("no token for %s (%d)", id, resp.StatusCode)
	}
	return out.AccessToken
}
