package broker

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/inps/sportello/broker/verify/dpop"
	"github.com/inps/sportello/config"
)

// withMTLSAlias gives the mutual-TLS listener a public URL of its own (listen.mtls_url), the
// base of mtls_endpoint_aliases.
func withMTLSAlias(c *config.Config) { c.Listen.MTLSURL = "https://mtls.sportello.test:8443" }

// postVia posts form to target through hc with a proof by c whose htu is htu, and HTTP Basic
// when user is set; a use_dpop_nonce answer is retried once with its nonce (RFC 9449 §8).
func (c *dpopClient) postVia(t testing.TB, hc *http.Client, target, htu string, form url.Values, user, pass string) dpopAnswer {
	t.Helper()
	var a dpopAnswer
	for range 2 {
		h := basic(user, pass)
		h.Set("DPoP", c.proof(t, http.MethodPost, htu, nil))
		a = sendVia(t, hc, http.MethodPost, target, form, h)
		if n := a.header.Get("DPoP-Nonce"); n != "" {
			c.nonce = n
		}
		if a.err() != dpop.CodeUseNonce {
			break
		}
	}
	return a
}

// userinfoVia calls userinfo at target through hc with tok in the DPoP scheme and a proof by c
// whose htu is htu.
func (c *dpopClient) userinfoVia(t testing.TB, hc *http.Client, target, htu, tok string) dpopAnswer {
	t.Helper()
	h := http.Header{}
	h.Set("Authorization", "DPoP "+tok)
	h.Set("DPoP", c.proof(t, http.MethodGet, htu, func(m map[string]any) {
		delete(m, "nonce")
		m["ath"] = dpop.TokenHash(tok)
	}))
	return sendVia(t, hc, http.MethodGet, target, nil, h)
}

// tokenCnf is the cnf claim of an access token (unverified: the tests' own token; jwtClaims).
func tokenCnf(t *testing.T, tok string) map[string]any {
	t.Helper()
	if strings.Count(tok, ".") != 2 {
		t.Fatalf("not a JWT: %q", tok)
	}
	cnf, _ := jwtClaims(t, tok)["cnf"].(map[string]any)
	return cnf
}

// TestDPoPOnTheMutualTLSAliases: RFC 9449 §4.3 — a proof's htu is the URL of the endpoint
// called, so on the mutual-TLS listener it is the mtls_endpoint_aliases URL (RFC 8705 §5), and
// a proof for one listener's URL is refused on the other, at the token endpoint, PAR and
// userinfo.
func TestDPoPOnTheMutualTLSAliases(t *testing.T) {
	pki := newMTLSPKI(t)
	tb := newTestBroker(t, memStore(t), withMTLSClients(t, pki), withMTLSAlias)
	listener := mtlsListener(t, tb) // where the listener is reached; tb.mtlsURL() is its public URL
	alias := tb.mtlsURL()
	if alias == tb.issuer {
		t.Fatal("the test needs an mTLS alias base other than the issuer")
	}
	certClient := mtlsClient(&pki.client)
	cc := url.Values{"grant_type": {"client_credentials"}, "client_id": {"svc-mtls"}}

	t.Run("a proof for the alias URL is accepted on the mTLS listener", func(t *testing.T) {
		a := newDPoPClient(t).postVia(t, certClient, listener+pathToken, alias+pathToken, cc, "", "")
		if a.status != http.StatusOK || str(a.body, "token_type") != tokenTypeDPoP {
			t.Fatalf("got %d %v", a.status, a.body)
		}
	})
	for _, path := range []string{pathToken, pathPAR} {
		t.Run("a proof for the issuer's URL is refused on the mTLS listener at "+path, func(t *testing.T) {
			a := newDPoPClient(t).postVia(t, certClient, listener+path, tb.issuer+path, cc, "", "")
			if a.status != http.StatusBadRequest || a.err() != dpop.CodeInvalidProof {
				t.Fatalf("got %d %v", a.status, a.body)
			}
		})
		t.Run("a proof for the alias URL is refused on the main listener at "+path, func(t *testing.T) {
			a := newDPoPClient(t).postVia(t, http.DefaultClient, tb.URL+path, alias+path, ccForm, "demo-service", "demo-service-secret")
			if a.status != http.StatusBadRequest || a.err() != dpop.CodeInvalidProof {
				t.Fatalf("got %d %v", a.status, a.body)
			}
		})
	}
	t.Run("userinfo on the main listener refuses a proof for the alias URL", func(t *testing.T) {
		c := newDPoPClient(t)
		code, verifier := spaCode(t, tb)
		a := c.post(t, tb, pathToken, spaCodeForm(code, verifier), "", "", nil)
		tok := str(a.body, "access_token")
		if a.status != http.StatusOK || tok == "" {
			t.Fatalf("token: %d %v", a.status, a.body)
		}
		if got := c.userinfoVia(t, http.DefaultClient, tb.URL+pathUserinfo, alias+pathUserinfo, tok); got.status != http.StatusUnauthorized || got.err() != dpop.CodeInvalidProof {
			t.Fatalf("got %d %v", got.status, got.body)
		}
		if got := c.userinfoVia(t, http.DefaultClient, tb.URL+pathUserinfo, tb.issuer+pathUserinfo, tok); got.status != http.StatusOK {
			t.Fatalf("with the issuer's URL: %d %v", got.status, got.body)
		}
	})
}

// TestTokenBoundByDPoPAndCertificate: a token bound to a DPoP key (cnf.jkt, RFC 9449 §6.1)
// and to a certificate (cnf.x5t#S256, RFC 8705 §3) answers at userinfo only with both the
// certificate and a proof by the key for the alias URL; either one missing is 401.
func TestTokenBoundByDPoPAndCertificate(t *testing.T) {
	pki := newMTLSPKI(t)
	tb := newTestBroker(t, memStore(t), withMTLSClients(t, pki), withBoundClients, withMTLSAlias)
	listener := mtlsListener(t, tb)
	alias := tb.mtlsURL()
	certA, certB := mtlsClient(&pki.selfSigned), mtlsClient(&pki.stranger)
	key := newDPoPClient(t)

	code := codeFor(t, tb, "rp-bound", nil)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"http://127.0.0.1:9000/callback"}}
	a := key.postVia(t, certA, listener+pathToken, alias+pathToken, form, "rp-bound", "rp-bound-secret")
	tok := str(a.body, "access_token")
	if a.status != http.StatusOK || tok == "" || str(a.body, "token_type") != tokenTypeDPoP {
		t.Fatalf("code exchange: %d %v", a.status, a.body)
	}
	cnf := tokenCnf(t, tok)
	if str(cnf, "jkt") != key.jkt(t) || str(cnf, "x5t#S256") != certThumbprint(pki.selfSigned.Leaf) {
		t.Fatalf("cnf = %v", cnf)
	}
	endpoint, htu := listener+pathUserinfo, alias+pathUserinfo

	t.Run("with its certificate and a proof by its key it is answered", func(t *testing.T) {
		if got := key.userinfoVia(t, certA, endpoint, htu, tok); got.status != http.StatusOK || str(got.body, "sub") == "" {
			t.Fatalf("got %d %v", got.status, got.body)
		}
	})
	refused := []struct {
		name string
		call func(t *testing.T) dpopAnswer
	}{
		{"without a certificate it is refused", func(t *testing.T) dpopAnswer {
			return key.userinfoVia(t, mtlsClient(nil), endpoint, htu, tok)
		}},
		{"with another certificate it is refused", func(t *testing.T) dpopAnswer {
			return key.userinfoVia(t, certB, endpoint, htu, tok)
		}},
		{"with its certificate and no proof it is refused", func(t *testing.T) dpopAnswer {
			h := http.Header{}
			h.Set("Authorization", "DPoP "+tok)
			return sendVia(t, certA, http.MethodGet, endpoint, nil, h)
		}},
		{"with its certificate as a Bearer token it is refused", func(t *testing.T) dpopAnswer {
			h := http.Header{}
			h.Set("Authorization", "Bearer "+tok)
			return sendVia(t, certA, http.MethodGet, endpoint, nil, h)
		}},
		{"with its certificate and a proof by another key it is refused", func(t *testing.T) dpopAnswer {
			return newDPoPClient(t).userinfoVia(t, certA, endpoint, htu, tok)
		}},
		{"with its certificate and a proof for the issuer's URL it is refused", func(t *testing.T) dpopAnswer {
			return key.userinfoVia(t, certA, endpoint, tb.issuer+pathUserinfo, tok)
		}},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.call(t)
			if got.status != http.StatusUnauthorized || got.err() == "" || !strings.HasPrefix(got.header.Get("WWW-Authenticate"), "DPoP ") {
				t.Fatalf("got %d %v %q, want 401 with a DPoP challenge", got.status, got.body, got.header.Get("WWW-Authenticate"))
			}
		})
	}
}
