package broker

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

func getJSON(t *testing.T, target string) (int, []byte, map[string]any) {
	t.Helper()
	resp, err := http.Get(target)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, raw, m
}

// Discovery states what the endpoints do: the client-assertion algorithms of every endpoint
// that authenticates clients are those verifyClientAssertion accepts, userinfo advertises no
// signing algorithm (it answers plain JSON), and RFC 8414's metadata path serves the document.
func TestDiscoveryMetadata(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	st, oidcRaw, d := getJSON(t, tb.URL+pathDiscovery)
	if st != http.StatusOK {
		t.Fatalf("discovery: %d", st)
	}
	want := []any{"ES256", "RS256", "PS256", "EdDSA", "Ed25519"}
	for _, k := range []string{"token_endpoint_auth_signing_alg_values_supported", "introspection_endpoint_auth_signing_alg_values_supported",
		"revocation_endpoint_auth_signing_alg_values_supported"} {
		got, _ := d[k].([]any)
		if !slices.Equal(got, want) {
			t.Errorf("%s = %v, want %v", k, d[k], want)
		}
	}
	for _, a := range want {
		if !slices.Contains(assertionAlgs, assertionAlg(a)) {
			t.Errorf("%v advertised but not accepted", a)
		}
	}
	if v, ok := d["userinfo_signing_alg_values_supported"]; ok {
		t.Errorf("userinfo_signing_alg_values_supported = %v: userinfo answers JSON, not a JWT", v)
	}
	st, asRaw, as := getJSON(t, tb.URL+"/.well-known/oauth-authorization-server")
	if st != http.StatusOK || as["issuer"] != tb.URL || string(asRaw) != string(oidcRaw) {
		t.Fatalf("RFC 8414 metadata: %d %v", st, as["issuer"])
	}
}

func assertionAlg(a any) jose.SignatureAlgorithm {
	s, _ := a.(string)
	return jose.SignatureAlgorithm(s)
}
