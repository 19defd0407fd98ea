package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/inps/sportello/internal/store/storetest"
	"github.com/inps/sportello/pin"
)

// A failed login keeps the credential it was tried with and the level it reached: a person verified
// below the level asked is counted in sportello_logins_total with their method and the level
// reached, and the login.failure record names the level asked and the level reached, with the
// person's pseudonymous sub as actor. A refused certificate names its credential, nobody verified.
func TestFailedLoginsKeepTheirCredentialAndLevel(t *testing.T) {
	out := &storetest.Buffer{}
	issuer, _ := devBrokerLogging(t, out)
	for _, tt := range []struct {
		rule       string
		login      func() *http.Response
		method     string
		level      string // the metric label
		outcome    string
		acr        string // the level reached in the audit record, "" for none
		acrAsked   string
		verifiedAs bool // the record's actor is the person's sub
	}{
		{"SPID at L1 for an L2 request", func() *http.Response {
			resp, _ := spidLogin(t, issuer, "demo", "https://www.spid.gov.it/SpidL2", "1", "login")
			return resp
		}, "spid", "L1", "unmet_authentication_requirements", "https://www.spid.gov.it/SpidL1", "https://www.spid.gov.it/SpidL2", false},
		{"PIN ordinario for an L2 request", func() *http.Response {
			c := client(t, "", "")
			form, err := c.Get(authURL(issuer, "pin", "https://www.spid.gov.it/SpidL2", oauth2.GenerateVerifier()))
			if err != nil {
				t.Fatal(err)
			}
			return submit(t, c, form, url.Values{"fiscal_code": {pin.DevMarcoColombo}, "pin": {"Z9Y8X7W6"}})
		}, "pin", "L1", "unmet_authentication_requirements", "https://www.spid.gov.it/SpidL1", "https://www.spid.gov.it/SpidL2", true},
		{"a revoked CIE", func() *http.Response {
			resp, err := client(t, "../../testdata/pki/revoked-crl.crt", "../../testdata/pki/revoked-crl.key").
				Get(authURL(issuer, "cie", "https://www.spid.gov.it/SpidL3", oauth2.GenerateVerifier()))
			if err != nil {
				t.Fatal(err)
			}
			return resp
		}, "cie", "none", "access_denied", "", "https://www.spid.gov.it/SpidL3", false},
	} {
		t.Run(tt.rule, func(t *testing.T) {
			before := len(failureRecords(out.String()))
			resp := tt.login()
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.Header.Get("Location") != "" || !strings.Contains(string(body), tt.outcome) {
				t.Fatalf("want the failure page with %s, got %d %s", tt.outcome, resp.StatusCode, resp.Header.Get("Location"))
			}
			recs := failureRecords(out.String())
			if len(recs) != before+1 {
				t.Fatalf("%d new login.failure records, want 1", len(recs)-before)
			}
			rec := recs[len(recs)-1]
			if rec.Fields["method"] != tt.method || rec.Fields["acr_asked"] != tt.acrAsked || rec.Fields["error"] != tt.outcome {
				t.Errorf("login.failure %+v, want method %s, acr_asked %s", rec, tt.method, tt.acrAsked)
			}
			if got, _ := rec.Fields["acr"].(string); got != tt.acr {
				t.Errorf("login.failure acr %q, want the level reached %q", got, tt.acr)
			}
			if (rec.Actor != "") != tt.verifiedAs || strings.Contains(rec.Actor, pin.DevMarcoColombo) {
				t.Errorf("login.failure actor %q (verified person: %v; never the fiscal code)", rec.Actor, tt.verifiedAs)
			}
			metric := `sportello_logins_total{level="` + tt.level + `",method="` + tt.method + `",outcome="` + tt.outcome + `"} 1`
			if m := metrics(t, issuer); !strings.Contains(m, metric) {
				t.Errorf("/metrics lacks %s:\n%s", metric, grep(m, "sportello_logins_total"))
			}
		})
	}
	if m := metrics(t, issuer); strings.Contains(m, `method="unknown"`) {
		t.Errorf("a failure counted without its credential:\n%s", grep(m, "sportello_logins_total"))
	}
}

type auditLine struct {
	Type   string         `json:"type"`
	Actor  string         `json:"actor"`
	Fields map[string]any `json:"fields"`
}

// failureRecords are the login.failure records of a dev broker's output.
func failureRecords(output string) []auditLine {
	var recs []auditLine
	for _, line := range strings.Split(output, "\n") {
		i := strings.Index(line, "{")
		if i < 0 || !strings.Contains(line, `"login.failure"`) {
			continue
		}
		var rec auditLine
		if json.Unmarshal([]byte(line[i:]), &rec) == nil && rec.Type == "login.failure" {
			recs = append(recs, rec)
		}
	}
	return recs
}

func metrics(t *testing.T, issuer string) string {
	t.Helper()
	resp, err := http.Get(issuer + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// grep returns the lines of s containing sub.
func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// A refused PIN is a failed login like any other, though the PIN form answers it: a wrong PIN
// and then an attempt on the locked account each write one login.failure record (method pin,
// nobody verified, never the PIN) and count in sportello_logins_total with method="pin".
func TestPINRefusalsAreRecordedLikeEveryFailedLogin(t *testing.T) {
	out := &storetest.Buffer{}
	issuer, _ := devBrokerLogging(t, out)
	c := client(t, "", "")
	form, err := c.Get(authURL(issuer, "pin", "https://www.spid.gov.it/SpidL1", oauth2.GenerateVerifier()))
	if err != nil {
		t.Fatal(err)
	}
	const wrongPIN = "Q7W3E9R2"
	for i, tt := range []struct {
		rule, pin, reason string
	}{
		{"a wrong PIN", wrongPIN, ""},
		{"the right PIN on the locked account", "A1B2C3D4", "login.locked"},
	} {
		t.Run(tt.rule, func(t *testing.T) {
			resp := submit(t, c, form, url.Values{"fiscal_code": {pin.DevGiovannaFerrari}, "pin": {tt.pin}})
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.Header.Get("Location") != "" || !strings.Contains(string(body), `name="pin"`) {
				t.Fatalf("want the PIN form again, got %d %s", resp.StatusCode, resp.Header.Get("Location"))
			}
			// The next attempt is made on the form this one answered.
			form = &http.Response{Body: io.NopCloser(strings.NewReader(string(body))), Request: resp.Request}
			recs := failureRecords(out.String())
			if len(recs) != i+1 {
				t.Fatalf("%d login.failure records after %d refusals, want one each", len(recs), i+1)
			}
			rec := recs[i]
			if rec.Fields["method"] != "pin" || rec.Fields["error"] != "access_denied" || rec.Fields["client_id"] != "demo-rp" ||
				rec.Fields["acr_asked"] != "https://www.spid.gov.it/SpidL1" || rec.Actor != "" || rec.Fields["acr"] != nil {
				t.Errorf("login.failure %+v, want method pin, access_denied, nobody verified", rec)
			}
			if tt.reason != "" && rec.Fields["reason"] != tt.reason {
				t.Errorf("login.failure reason %v, want %s", rec.Fields["reason"], tt.reason)
			}
			metric := `sportello_logins_total{level="none",method="pin",outcome="access_denied"} ` + strconv.Itoa(i+1)
			if m := metrics(t, issuer); !strings.Contains(m, metric) {
				t.Errorf("/metrics lacks %s:\n%s", metric, grep(m, "sportello_logins_total"))
			}
		})
	}
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.Contains(line, wrongPIN) || strings.Contains(line, "A1B2C3D4") {
			t.Errorf("a PIN in the output: %s", line)
		}
	}
}
