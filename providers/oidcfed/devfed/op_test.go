package devfed_test

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/providers/oidcfed"
	"github.com/inps/sportello/providers/oidcfed/devfed"
)

// fakeRP is a relying party enrolled in the dev federation, signing its own request objects.
type fakeRP struct {
	srv      *httptest.Server
	fed      *devfed.Federation
	entity   *devfed.Entity
	sig      jose.JSONWebKey
	redirect string
}

func newFakeRP(t *testing.T) *fakeRP {
	f := &fakeRP{}
	var h http.Handler
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(f.srv.Close)
	var err error
	if f.fed, err = devfed.New(f.srv.URL, devfed.Options{Client: f.srv.Client()}); err != nil {
		t.Fatal(err)
	}
	fedKey, err := devfed.Key(2048)
	if err != nil {
		t.Fatal(err)
	}
	if f.sig, err = devfed.Key(2048); err != nil {
		t.Fatal(err)
	}
	f.redirect = f.srv.URL + "/rp/callback"
	f.entity = &devfed.Entity{ID: f.srv.URL + "/rp", Key: fedKey, AuthorityHints: []string{f.fed.TA.ID},
		Metadata: map[string]map[string]any{oidcfed.EntityRP: {
			"client_id": f.srv.URL + "/rp", "redirect_uris": []string{f.redirect}, "jwks": devfed.Public(f.sig),
			"client_registration_types": []string{"automatic"}, "grant_types": []string{"authorization_code"},
			"response_types": []string{"code"}, "token_endpoint_auth_method": "private_key_jwt",
		}}}
	if _, err := f.fed.Enroll(f.entity.ID, devfed.Public(fedKey)); err != nil {
		t.Fatal(err)
	}
	fh := f.fed.Handler()
	h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !f.entity.ServeFederation(w, r) {
			fh.ServeHTTP(w, r)
		}
	})
	return f
}

// authorize sends a request object signed with key, changed by mod, to op.
func (f *fakeRP) authorize(t *testing.T, op *devfed.OP, key jose.JSONWebKey, mod func(map[string]any)) (int, string) {
	t.Helper()
	sum := sha256.Sum256([]byte("verifier"))
	c := map[string]any{"iss": f.entity.ID, "client_id": f.entity.ID, "aud": op.Entity.ID, "response_type": "code",
		"scope": "openid", "redirect_uri": f.redirect, "state": strings.Repeat("s", 32), "nonce": strings.Repeat("n", 32),
		"code_challenge": base64.RawURLEncoding.EncodeToString(sum[:]), "code_challenge_method": "S256",
		"acr_values": loa.SpidL2, "iat": time.Now().Unix(), "exp": time.Now().Add(time.Minute).Unix()}
	if mod != nil {
		mod(c)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, nil)
	if err != nil {
		t.Fatal(err)
	}
	req, err := oidcfed.SignJWT(s, c)
	if err != nil {
		t.Fatal(err)
	}
	q := url.Values{"client_id": {f.entity.ID}, "response_type": {"code"}, "scope": {"openid"}, "request": {req}}
	resp, err := f.srv.Client().Get(op.Entity.ID + "/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestDevOPChecksTheRequestObject(t *testing.T) {
	f := newFakeRP(t)
	op := f.fed.OPs[0]
	if code, body := f.authorize(t, op, f.sig, nil); code != http.StatusOK || !strings.Contains(body, `name="username"`) {
		t.Fatalf("a good request: %d %s", code, body)
	}
	stranger, err := devfed.Key(2048)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		key  jose.JSONWebKey
		mod  func(map[string]any)
		want string
	}{
		{"a redirect URI the RP never registered", f.sig, func(c map[string]any) { c["redirect_uri"] = "https://evil.example/cb" }, "not registered"},
		{"a request object signed by a key not in the RP's metadata", stranger, nil, "invalid_request_object"},
		{"a request object for another OP", f.sig, func(c map[string]any) { c["aud"] = f.fed.OPs[1].Entity.ID }, "aud must be the OP"},
		{"no PKCE S256", f.sig, func(c map[string]any) { c["code_challenge_method"] = "plain" }, "PKCE"},
		{"a short state", f.sig, func(c map[string]any) { c["state"] = "short" }, "32 characters"},
		{"an expired request object", f.sig, func(c map[string]any) { c["exp"] = time.Now().Add(-time.Minute).Unix() }, "expired"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body := f.authorize(t, op, c.key, c.mod)
			if code != http.StatusBadRequest || !strings.Contains(body, c.want) {
				t.Fatalf("%d %s, want 400 with %q", code, body, c.want)
			}
		})
	}
	t.Run("a client with no trust chain", func(t *testing.T) {
		f.fed.TA.Add(f.entity.ID, devfed.Subordinate{JWKS: devfed.Public(stranger)})
		if code, body := f.authorize(t, op, f.sig, nil); code != http.StatusBadRequest || !strings.Contains(body, "invalid_client") {
			t.Fatalf("%d %s", code, body)
		}
	})
}

func TestDevFederationList(t *testing.T) {
	f := newFakeRP(t)
	resp, err := f.srv.Client().Get(f.srv.URL + devfed.Route)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	want := `[{"name":"SPID OIDC (dev)","entity_id":"` + f.srv.URL + `/dev/oidcfed/spid-op","profile":"spid"},{"name":"CIE OIDC (dev)","entity_id":"` + f.srv.URL + `/dev/oidcfed/cie-op","profile":"cie"}]`
	if strings.TrimSpace(string(body)) != want {
		t.Fatalf("list %s", body)
	}
	// The SPID userinfo endpoint takes GET only; CIE's takes POST as well.
	for _, c := range []struct {
		op   *devfed.OP
		want int
	}{{f.fed.OPs[0], http.StatusMethodNotAllowed}, {f.fed.OPs[1], http.StatusUnauthorized}} {
		resp, err := f.srv.Client().Post(c.op.Entity.ID+"/userinfo", "text/plain", nil)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%s POST userinfo: %d, want %d", c.op.Profile, resp.StatusCode, c.want)
		}
	}
}
