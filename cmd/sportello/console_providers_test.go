package main

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/saml"
	"github.com/inps/sportello/providers/x509auth"
)

// Every IdP carries the state of the source that lists it: a source whose last refresh
// failed is stale and names the error, while the IdPs of its last good copy stay listed.
func TestConsoleIdPsCarryTheirMetadataSourceState(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	idps := []*saml.IdP{{EntityID: "https://a.example/idp", Name: "A"}, {EntityID: "https://b.example/idp", Name: "B"}}
	sources := []saml.SourceStatus{
		{Location: "https://registry.example/idps", LoadedAt: t0, Tried: t0.Add(time.Hour), LastError: errors.New("HTTP 503"),
			EntityIDs: []string{"https://a.example/idp"}},
		{Location: "/etc/sportello/b.xml", File: true, LoadedAt: t0, Tried: t0, EntityIDs: []string{"https://b.example/idp"}},
	}
	got := samlIdPs(idps, sources, providers.Info{ID: "spid", Method: "spid"})
	if len(got) != 2 {
		t.Fatalf("%d IdPs", len(got))
	}
	a, b := got[0], got[1]
	if a.Metadata == nil || a.Metadata.Source != "https://registry.example/idps" || a.Metadata.SourceType != "url" || !a.Metadata.Stale ||
		!a.Metadata.LastRefresh.Equal(t0) || !a.Metadata.LastAttempt.Equal(t0.Add(time.Hour)) || a.LastError != "HTTP 503" || a.Parent != "spid" {
		t.Fatalf("IdP of a failing source: %+v %+v", a, a.Metadata)
	}
	if b.Metadata == nil || b.Metadata.SourceType != "file" || b.Metadata.Stale || b.LastError != "" {
		t.Fatalf("IdP of a good file source: %+v %+v", b, b.Metadata)
	}
}

// The console counts the last hour's logins by outcome for the provider (its method) and for
// the dev IdP the logins went to: a completed login, a cancelled one and one refused for its
// level; the other IdP counts nothing.
func TestDevModeConsoleCountsTheLastHoursLogins(t *testing.T) {
	issuer, _ := devBroker(t)
	resp, v := spidLogin(t, issuer, "demo", "https://www.spid.gov.it/SpidL2", "2", "login")
	tokenClaims(t, issuer, callbackCode(t, resp), v)
	resp, _ = spidLogin(t, issuer, "demo", "https://www.spid.gov.it/SpidL2", "2", "cancel")
	resp.Body.Close()
	resp, _ = spidLogin(t, issuer, "demo", "https://www.spid.gov.it/SpidL2", "1", "login")
	resp.Body.Close()

	reader := serviceToken(t, issuer, "demo-operator", "demo-operator-secret", "console:read")
	st, out := consoleCall(t, "GET", issuer+"/console/api/providers", reader, "")
	if st != http.StatusOK {
		t.Fatalf("providers: %d %v", st, out)
	}
	got := map[string]map[string]any{}
	for _, p := range out["providers"].([]any) {
		p := p.(map[string]any)
		counts, _ := p["logins_last_hour"].(map[string]any)
		got[p["kind"].(string)+" "+p["id"].(string)] = counts
	}
	want := map[string]float64{"started": 3, "ok": 1, "cancelled": 1, "failed": 1, "unavailable": 0}
	for _, entry := range []string{"provider spid", "idp " + issuer + "/dev/spid/demo"} {
		for o, n := range want {
			if entry != "provider spid" && o == "started" {
				n = 0 // a login is counted for its IdP once the IdP has answered
			}
			if got[entry][o] != n {
				t.Errorf("%s: %s = %v, want %v (all: %v)", entry, o, got[entry][o], n, got[entry])
			}
		}
	}
	if c := got["idp "+issuer+"/dev/spid/test"]; c == nil || c["ok"] != 0.0 || c["failed"] != 0.0 {
		t.Errorf("the other IdP: %v", c)
	}
	if c := got["provider pin"]; c == nil || c["started"] != 0.0 {
		t.Errorf("pin: %v", c)
	}
}

// In dev mode the console lists each CA the CIE and CNS logins trust (kind idp, id the
// certificate's SHA-256) with its certificate and, once a card it issued logged in, its CRL
// (source, last fetch, nextUpdate, not stale) and OCSP responder (last success), served by the
// dev PKI.
func TestDevModeConsoleShowsTheCardCAsRevocationHealth(t *testing.T) {
	issuer, _ := devBroker(t)
	v := oauth2.GenerateVerifier()
	resp, err := client(t, "../../testdata/pki/mario-rossi-cie.crt", "../../testdata/pki/mario-rossi-cie.key").Get(authURL(issuer, "cie", "", v))
	if err != nil {
		t.Fatal(err)
	}
	tokenClaims(t, issuer, callbackCode(t, resp), v)

	reader := serviceToken(t, issuer, "demo-operator", "demo-operator-secret", "console:read")
	st, out := consoleCall(t, "GET", issuer+"/console/api/providers", reader, "")
	if st != http.StatusOK {
		t.Fatalf("providers: %d %v", st, out)
	}
	sub := certs(t, "cie-sub")
	sum := sha256.Sum256(sub.Raw)
	var cas []string
	var found map[string]any
	for _, p := range out["providers"].([]any) {
		p := p.(map[string]any)
		if p["kind"] == "idp" && (p["parent"] == "cie" || p["parent"] == "cns") {
			cas = append(cas, p["parent"].(string)+":"+p["name"].(string))
			if p["id"] == hex.EncodeToString(sum[:]) && p["parent"] == "cie" {
				found = p
			}
		}
	}
	if len(cas) < 3 || found == nil {
		t.Fatalf("CAs listed: %v; cie-sub found: %v", cas, found != nil)
	}
	if c := found["certificates"].([]any); len(c) != 1 || c[0].(map[string]any)["expired"] != false {
		t.Fatalf("cie-sub certificate: %v", c)
	}
	rev := found["revocation"].(map[string]any)
	crls, ocsp := rev["crls"].([]any), rev["ocsp"].([]any)
	if len(crls) != 1 || len(ocsp) != 1 {
		t.Fatalf("cie-sub revocation: %v", rev)
	}
	crl := crls[0].(map[string]any)
	if !strings.Contains(crl["source"].(string), "/dev/pki/") || crl["last_fetch"] == nil || crl["next_update"] == nil || crl["stale"] != false || crl["last_error"] != nil {
		t.Fatalf("cie-sub CRL: %v", crl)
	}
	if o := ocsp[0].(map[string]any); o["last_success"] == nil || o["last_error"] != nil {
		t.Fatalf("cie-sub OCSP: %v", o)
	}
}

// certs reads one certificate of the dev PKI.
func certs(t *testing.T, name string) *x509.Certificate {
	t.Helper()
	c, err := x509auth.LoadCertificates([]string{"../../testdata/pki/" + name + ".crt"})
	if err != nil || len(c) != 1 {
		t.Fatal(name, err)
	}
	return c[0]
}
