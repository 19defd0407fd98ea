package broker

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/inps/sportello/broker/keys"
	"github.com/inps/sportello/broker/verify/dpop"
)

// The operators' APIs take a sender-constrained token only from its holder: a DPoP-bound token
// only in the DPoP scheme with a proof by its key for the call (RFC 9449 §7.1), never as a
// plain bearer token; a bearer token only in the Bearer scheme.
func TestOperatorAPIsHonourTheDPoPBinding(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	c := newDPoPClient(t)
	a := c.post(t, tb, pathToken, url.Values{"grant_type": {"client_credentials"}, "scope": {"pin:office"}}, "demo-operator", "demo-operator-secret", nil)
	tok := str(a.body, "access_token")
	if a.status != http.StatusOK || cnfJKT(jwtClaims(t, tok)) != c.jkt(t) {
		t.Fatalf("token: %d %v", a.status, a.body)
	}
	const path = "/admin/pin/RSSMRA80A01H501U"
	call := func(method, auth, proof string) bool {
		r := httptestRequest(method, path)
		r.Header.Set("Authorization", auth)
		if proof != "" {
			r.Header.Set("DPoP", proof)
		}
		who, ok := tb.AuthorizeBearer(r, "pin:office")
		return ok && who == "demo-operator"
	}
	proof := func(by *dpopClient, edit func(map[string]any)) string {
		return by.proof(t, http.MethodGet, tb.issuer+path, func(m map[string]any) {
			delete(m, "nonce")
			m["ath"] = dpop.TokenHash(tok)
			if edit != nil {
				edit(m)
			}
		})
	}
	if !call(http.MethodGet, "DPoP "+tok, proof(c, nil)) {
		t.Error("the bound token with a proof for the call was refused")
	}
	for _, tc := range []struct {
		name, method, auth, proof string
	}{
		{"as a bearer token", http.MethodGet, "Bearer " + tok, ""},
		{"as a bearer token, a proof beside it", http.MethodGet, "Bearer " + tok, proof(c, nil)},
		{"in the DPoP scheme without a proof", http.MethodGet, "DPoP " + tok, ""},
		{"with a proof by another key", http.MethodGet, "DPoP " + tok, proof(newDPoPClient(t), nil)},
		{"with a proof for another URL", http.MethodGet, "DPoP " + tok, proof(c, func(m map[string]any) { m["htu"] = tb.issuer + "/admin/delegations" })},
		{"with a proof for another method", http.MethodPost, "DPoP " + tok, proof(c, nil)},
		{"with a proof for another token", http.MethodGet, "DPoP " + tok, proof(c, func(m map[string]any) { m["ath"] = dpop.TokenHash(tok + "x") })},
	} {
		t.Run("refused "+tc.name, func(t *testing.T) {
			if call(tc.method, tc.auth, tc.proof) {
				t.Fatal("accepted")
			}
		})
	}
	t.Run("a replayed proof is refused", func(t *testing.T) {
		p := proof(c, nil)
		if !call(http.MethodGet, "DPoP "+tok, p) {
			t.Fatal("first use refused")
		}
		if call(http.MethodGet, "DPoP "+tok, p) {
			t.Fatal("replay accepted")
		}
	})
	t.Run("a bearer token in the DPoP scheme is refused, in the Bearer scheme accepted", func(t *testing.T) {
		_, out := postForm(t, tb.URL+pathToken, url.Values{"grant_type": {"client_credentials"}, "scope": {"pin:office"}}, "demo-operator", "demo-operator-secret")
		plain := str(out, "access_token")
		if plain == "" || cnfJKT(jwtClaims(t, plain)) != "" {
			t.Fatalf("bearer token: %v", out)
		}
		if call(http.MethodGet, "DPoP "+plain, proof(c, nil)) {
			t.Fatal("a bearer token accepted in the DPoP scheme")
		}
		if !call(http.MethodGet, "Bearer "+plain, "") || !call(http.MethodGet, "bearer "+plain, "") {
			t.Fatal("a bearer token refused in the Bearer scheme")
		}
	})
}

// A certificate-bound token reaches the operators' APIs only over a connection with its
// certificate (RFC 8705 §3): on the main listener, where no client certificate is seen, never.
func TestOperatorAPIsHonourTheCertificateBinding(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	mine, other := testCert(t, "mine"), testCert(t, "other")
	now := time.Now()
	tok, err := tb.signJWT("ES256", keys.TypAccessToken, map[string]any{"iss": tb.URL, "client_id": "demo-operator",
		"aud": []string{tb.accessAud}, "scope": "pin:office", "jti": "bound", "iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
		"cnf": map[string]any{"x5t#S256": certThumbprint(mine)}})
	if err != nil {
		t.Fatal(err)
	}
	call := func(chain ...*x509.Certificate) bool {
		r := httptestRequest(http.MethodGet, "/admin/pin/RSSMRA80A01H501U")
		r.Header.Set("Authorization", "Bearer "+tok)
		if chain != nil {
			r = r.WithContext(context.WithValue(r.Context(), ctxClientCert{}, chain))
		}
		_, ok := tb.AuthorizeBearer(r, "pin:office")
		return ok
	}
	if call() {
		t.Fatal("a certificate-bound token accepted without a certificate (the main listener)")
	}
	if call(other) {
		t.Fatal("a certificate-bound token accepted with another certificate")
	}
	if !call(mine) {
		t.Fatal("a certificate-bound token refused with its certificate")
	}
}

// testCert is a throwaway self-signed certificate.
func testCert(t *testing.T, cn string) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// The Authorization header of an operator API call is outside input: only the Bearer or DPoP
// scheme (any letter case) followed by a space and a token yields a token.
func TestOperatorCredentials(t *testing.T) {
	for _, tt := range []struct {
		header, tok string
		dpop, ok    bool
	}{
		{"Bearer tok", "tok", false, true},
		{"bearer tok", "tok", false, true},
		{"DPoP tok", "tok", true, true},
		{"dpop   tok", "tok", true, true},
		{"Bearer", "", false, false},
		{"Bearer ", "", false, false},
		{"Bearertok", "", false, false},
		{"Basic dXNlcjpwYXNz", "", false, false},
		{"DPoPx tok", "", false, false},
		{" Bearer tok", "", false, false},
		{"", "", false, false},
	} {
		tok, dpop, ok := operatorCredentials(tt.header)
		if tok != tt.tok || dpop != tt.dpop || ok != tt.ok {
			t.Errorf("%q: %q %v %v, want %q %v %v", tt.header, tok, dpop, ok, tt.tok, tt.dpop, tt.ok)
		}
	}
}

func FuzzOperatorCredentials(f *testing.F) {
	for _, s := range []string{"Bearer tok", "DPoP x.y.z", "dpop  t", "Basic x", "Bearer", "DPoP\x00 t", "Bearer \r\n t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		tok, dpop, ok := operatorCredentials(header)
		if !ok {
			if tok != "" || dpop {
				t.Fatalf("%q refused but gave %q %v", header, tok, dpop)
			}
			return
		}
		scheme, rest, _ := strings.Cut(header, " ")
		if tok == "" || strings.HasPrefix(tok, " ") || !strings.HasSuffix(rest, tok) ||
			dpop != strings.EqualFold(scheme, "DPoP") || !dpop && !strings.EqualFold(scheme, "Bearer") {
			t.Fatalf("%q gave %q dpop=%v", header, tok, dpop)
		}
	})
}
