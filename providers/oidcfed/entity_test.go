package oidcfed

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/inps/sportello/internal/store/memory"
	"github.com/inps/sportello/providers"
)

const testIssuer = "https://login.example.it"

// testProvider opens a provider with generated keys in a temporary directory.
func testProvider(t *testing.T, mod func(*Config)) *Provider {
	t.Helper()
	c := &Config{AuthorityHints: []string{ta}, Contacts: []string{"ops@example.it"}, OrganizationName: "Example",
		KeysDir: t.TempDir(), generate: true}
	c.ApplyDefaults()
	c.keys = &FileKeySource{Dir: c.KeysDir, Generate: true, Bits: 2048}
	if mod != nil {
		mod(c)
	}
	p, err := Open(providers.Host{ID: "oidcfed", Issuer: testIssuer, Store: memory.New(memory.Options{})}, c, Options{Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEntityConfiguration(t *testing.T) {
	p := testProvider(t, func(c *Config) {
		c.WithTrustMark("https://registry.example.it/openid_relying_party/public", "eyJ.tm.x")
	})
	rec := httptest.NewRecorder()
	p.Handler(nil).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, WellKnown, nil))
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != ContentTypeEntityStatement {
		t.Fatalf("status %d, content type %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	s, err := ParseStatement(rec.Body.String(), testNow, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.VerifySelf(); err != nil {
		t.Fatal(err)
	}
	if s.Issuer != testIssuer || !slices.Equal(s.AuthorityHints, []string{ta}) {
		t.Fatalf("iss %s, authority_hints %v", s.Issuer, s.AuthorityHints)
	}
	rp := s.Metadata[EntityRP]
	for k, want := range map[string]any{
		"client_id": testIssuer, "token_endpoint_auth_method": "private_key_jwt",
		"userinfo_encrypted_response_alg": "RSA-OAEP-256", "userinfo_encrypted_response_enc": "A256CBC-HS512",
		"id_token_signed_response_alg": "RS256",
	} {
		if rp[k] != want {
			t.Errorf("%s = %v, want %v", k, rp[k], want)
		}
	}
	if got := rp["redirect_uris"]; len(got.([]any)) != 1 || got.([]any)[0] != testIssuer+CallbackPath {
		t.Errorf("redirect_uris = %v", got)
	}
	if got := rp["client_registration_types"].([]any); len(got) != 1 || got[0] != "automatic" {
		t.Errorf("client_registration_types = %v", got)
	}
	// The RP's jwks has its signing and encryption keys (active and next), never the
	// federation keys, which sign the statement.
	uses := map[string]int{}
	for _, k := range rp["jwks"].(map[string]any)["keys"].([]any) {
		m := k.(map[string]any)
		uses[m["use"].(string)]++
		for _, fk := range s.JWKS.Keys {
			if fk.KeyID == m["kid"] {
				t.Errorf("federation key %s also in the RP jwks", fk.KeyID)
			}
		}
		if _, private := m["d"]; private {
			t.Fatal("private key material published")
		}
	}
	if uses["sig"] != 2 || uses["enc"] != 2 || len(s.JWKS.Keys) != 2 {
		t.Errorf("rp keys by use %v, federation keys %d; want 2 sig, 2 enc (active and next), 2 federation", uses, len(s.JWKS.Keys))
	}
	if len(s.TrustMarks) != 1 || s.Metadata[EntityFederated]["organization_name"] != "Example" {
		t.Errorf("trust marks %v, federation_entity %v", s.TrustMarks, s.Metadata[EntityFederated])
	}
}
