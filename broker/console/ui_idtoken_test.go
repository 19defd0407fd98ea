package console

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

var tokNow = time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)

func jwt(claims map[string]any) string {
	p, _ := json.Marshal(claims)
	return "eyJhbGciOiJFUzI1NiJ9." + base64.RawURLEncoding.EncodeToString(p) + ".c2ln"
}

func goodClaims() map[string]any {
	return map[string]any{"iss": "https://login.example.it", "sub": "s", "aud": []string{"sportello-console"},
		"exp": tokNow.Add(time.Minute).Unix(), "nonce": "n", "acr": LoginACR, "amr": []string{"sc", "pin", "hwk", "mfa"},
		"fiscal_number": "CNTLNE75E52L736Y"}
}

// TestIDTokenChecks: each check of the console's ID token refuses a token that breaks it.
func TestIDTokenChecks(t *testing.T) {
	u := &UI{c: UIConfig{Issuer: "https://login.example.it", ClientID: "sportello-console", Now: func() time.Time { return tokNow }}}
	if _, err := u.checkIDToken(jwt(goodClaims()), "n"); err != nil {
		t.Fatalf("a good token is refused: %v", err)
	}
	for name, mutate := range map[string]func(m map[string]any){
		"another issuer":           func(m map[string]any) { m["iss"] = "https://evil.example" },
		"another audience":         func(m map[string]any) { m["aud"] = "demo-rp" },
		"another authorized party": func(m map[string]any) { m["azp"] = "demo-rp" },
		"expired":                  func(m map[string]any) { m["exp"] = tokNow.Unix() },
		"another nonce":            func(m map[string]any) { m["nonce"] = "m" },
		"no nonce":                 func(m map[string]any) { delete(m, "nonce") },
		"SpidL2":                   func(m map[string]any) { m["acr"] = "https://www.spid.gov.it/SpidL2" },
		"unknown acr":              func(m map[string]any) { m["acr"] = "urn:high" },
		"no second factor":         func(m map[string]any) { m["amr"] = []string{"pwd", "hwk"} },
		"no hardware key":          func(m map[string]any) { m["amr"] = []string{"pwd", "mfa"} },
		"a delegate's login":       func(m map[string]any) { m["act"] = map[string]any{"sub": "d"} },
		"no fiscal number":         func(m map[string]any) { delete(m, "fiscal_number") },
		"a bad fiscal number":      func(m map[string]any) { m["fiscal_number"] = "CNTLNE75E52L736X" },
		"no sub":                   func(m map[string]any) { delete(m, "sub") },
	} {
		t.Run(name, func(t *testing.T) {
			m := goodClaims()
			mutate(m)
			if _, err := u.checkIDToken(jwt(m), "n"); err == nil {
				t.Error("accepted")
			}
		})
	}
	for _, bad := range []string{"", "a.b", "a.b.c.d", "a.!!!.c", "a." + base64.RawURLEncoding.EncodeToString([]byte("[1]")) + ".c", strings.Repeat("a", maxIDToken+1)} {
		if _, err := parseIDToken(bad); err == nil {
			t.Errorf("parseIDToken(%.20q) accepted", bad)
		}
	}
}

// FuzzParseIDToken: any token string is decoded or refused, never a panic, and a token the
// checks accept always names the console's client, this issuer and a SpidL3 login.
func FuzzParseIDToken(f *testing.F) {
	f.Add(jwt(goodClaims()))
	f.Add("a.b.c")
	f.Add("..")
	f.Add("eyJ9." + base64.RawURLEncoding.EncodeToString([]byte(`{"aud":["x","sportello-console"],"amr":null}`)) + ".")
	u := &UI{c: UIConfig{Issuer: "https://login.example.it", ClientID: "sportello-console", Now: func() time.Time { return tokNow }}}
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := u.checkIDToken(tok, "n")
		if err != nil {
			return
		}
		if c.Issuer != u.c.Issuer || !audienceHas(c.Audience, u.c.ClientID) || c.ACR != LoginACR || c.Nonce != "n" {
			t.Fatalf("accepted %+v", c)
		}
	})
}

func TestAuditFieldsAreCut(t *testing.T) {
	long := strings.Repeat("x", 10_000)
	got := fieldsText(map[string]any{"b": long, "a": 1})
	if !strings.HasPrefix(got, "a=1, b=xxx") || len([]rune(got)) > 200 || !strings.HasSuffix(got, "…") {
		t.Errorf("fields %.80q (%d runes): want sorted and cut", got, len([]rune(got)))
	}
}
