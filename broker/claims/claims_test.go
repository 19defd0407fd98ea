package claims

import (
	"encoding/json"
	"testing"
)

// aud is read as the RFC 7519 allows (a string or an array) and always written as an array.
func TestAudience(t *testing.T) {
	for in, want := range map[string]int{`"a"`: 1, `["a","b"]`: 2, `[]`: 0, `null`: 0} {
		var a Audience
		if err := json.Unmarshal([]byte(in), &a); err != nil || len(a) != want {
			t.Errorf("aud %s: %v %v, want %d audiences", in, a, err, want)
		}
	}
	for _, bad := range []string{`1`, `{"a":1}`, `[1]`, `["a",2]`} {
		var a Audience
		if err := json.Unmarshal([]byte(bad), &a); err == nil {
			t.Errorf("aud %s accepted as %v", bad, a)
		}
	}
	if b, _ := json.Marshal(Audience{"a"}); string(b) != `["a"]` {
		t.Errorf("aud written as %s", b)
	}
}

// A token of a client's own (no Login) carries none of the login's claims; a person's token
// carries acr, amr and auth_method always, amr null when the credential named no method.
func TestLoginClaimsComeTogether(t *testing.T) {
	b, _ := json.Marshal(Access{Subject: "svc", ClientID: "svc"})
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	for _, k := range []string{"acr", "amr", "auth_method", "auth_time", "act", "fiscal_number"} {
		if _, ok := m[k]; ok {
			t.Errorf("a client's own token carries %s", k)
		}
	}
	b, _ = json.Marshal(Access{Person: Person{Login: &Login{ACR: "x", AuthMethod: "spid"}}})
	m = nil
	_ = json.Unmarshal(b, &m)
	if v, ok := m["amr"]; !ok || v != nil {
		t.Errorf("a person's token without methods: amr %v %v, want null", v, ok)
	}
}

// Depth counts the actors of the chain and stops past its limit.
func TestActDepth(t *testing.T) {
	var a *Act
	if a.Depth(8) != 0 {
		t.Fatal("no actor has depth 0")
	}
	for range 20 {
		a = &Act{Subject: "s", Act: a}
	}
	if d := a.Depth(8); d != 9 {
		t.Fatalf("depth of a chain of 20 with limit 8: %d, want 9 (past the limit)", d)
	}
}

// The claims of a verified token decode or fail, never panic; whatever decodes writes back
// as JSON again.
func FuzzAccessClaims(f *testing.F) {
	for _, s := range []string{`{}`, `{"aud":"a","act":{"sub":"s","act":{"sub":"t"}}}`, `{"aud":["a",1]}`, `{"exp":"1"}`,
		`{"act":{"delegation":{"id":"d","expires_at":null}}}`, `{"acr":"x","amr":null}`, `null`, `[]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var c Access
		if json.Unmarshal(b, &c) != nil {
			return
		}
		if _, err := json.Marshal(c); err != nil {
			t.Fatalf("decoded claims do not encode: %v", err)
		}
	})
}
