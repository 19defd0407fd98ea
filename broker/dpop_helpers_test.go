package broker

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/inps/sportello/broker/verify/dpop"
	"github.com/inps/sportello/config"
)

// dpopClient is a client's DPoP key and the server nonce it last got.
type dpopClient struct {
	key   *ecdsa.PrivateKey
	nonce string
}

func newDPoPClient(t testing.TB) *dpopClient {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &dpopClient{key: k}
}

// jkt is the RFC 7638 thumbprint of the client's key.
func (c *dpopClient) jkt(t testing.TB) string {
	t.Helper()
	s, err := dpop.Thumbprint(jose.JSONWebKey{Key: &c.key.PublicKey})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// proof signs a proof for method and uri with a fresh jti, iat now and the last nonce; edit
// changes the claims before they are signed.
func (c *dpopClient) proof(t testing.TB, method, uri string, edit func(map[string]any)) string {
	t.Helper()
	jti, _ := randomToken(rand.Reader, 12)
	cl := map[string]any{"jti": jti, "htm": method, "htu": uri, "iat": time.Now().Unix()}
	if c.nonce != "" {
		cl["nonce"] = c.nonce
	}
	if edit != nil {
		edit(cl)
	}
	opts := (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt")
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: c.key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(cl)
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// dpopAnswer is an endpoint's answer.
type dpopAnswer struct {
	status int
	header http.Header
	body   map[string]any
}

func (a dpopAnswer) err() string { s, _ := a.body["error"].(string); return s }

// send makes a request with the given headers (DPoP: one value per header line) and form.
func send(t testing.TB, method, target string, form url.Values, header http.Header) dpopAnswer {
	t.Helper()
	return sendVia(t, http.DefaultClient, method, target, form, header)
}

// sendVia is send through the HTTP client c (a TLS client certificate of the mTLS listener).
func sendVia(t testing.TB, c *http.Client, method, target string, form url.Values, header http.Header) dpopAnswer {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return dpopAnswer{status: resp.StatusCode, header: resp.Header, body: out}
}

// basic is the header of HTTP Basic client authentication (none for "").
func basic(user, pass string) http.Header {
	h := http.Header{}
	if user != "" {
		r, _ := http.NewRequest(http.MethodGet, "http://x", nil)
		r.SetBasicAuth(user, pass)
		h.Set("Authorization", r.Header.Get("Authorization"))
	}
	return h
}

// post sends form to the endpoint at path of tb with a proof by c (edit changes its claims)
// and HTTP Basic authentication when user is set; a use_dpop_nonce answer is retried once
// with the nonce it gave, as RFC 9449 §8 has clients do. The nonce of the answer is kept.
func (c *dpopClient) post(t testing.TB, tb *testBroker, path string, form url.Values, user, pass string, edit func(map[string]any)) dpopAnswer {
	t.Helper()
	var a dpopAnswer
	for range 2 {
		h := basic(user, pass)
		h.Set("DPoP", c.proof(t, http.MethodPost, tb.issuer+path, edit))
		a = send(t, http.MethodPost, tb.URL+path, form, h)
		if n := a.header.Get("DPoP-Nonce"); n != "" {
			c.nonce = n
		}
		if a.err() != dpop.CodeUseNonce {
			break
		}
	}
	return a
}

// userinfo calls userinfo with tok in the DPoP scheme and a proof by c for it.
func (c *dpopClient) userinfo(t testing.TB, tb *testBroker, tok string, edit func(map[string]any)) dpopAnswer {
	t.Helper()
	h := http.Header{}
	h.Set("Authorization", "DPoP "+tok)
	h.Set("DPoP", c.proof(t, http.MethodGet, tb.issuer+pathUserinfo, func(m map[string]any) {
		delete(m, "nonce")
		m["ath"] = dpop.TokenHash(tok)
		if edit != nil {
			edit(m)
		}
	}))
	return send(t, http.MethodGet, tb.URL+pathUserinfo, nil, h)
}

// withClient edits the dev configuration's client id.
func withClient(id string, edit func(*config.Client)) brokerOpt {
	return func(c *config.Config) {
		for i := range c.Clients {
			if c.Clients[i].ID == id {
				edit(&c.Clients[i])
			}
		}
	}
}

// str reads a string member of a decoded answer.
func str(m map[string]any, k string) string { s, _ := m[k].(string); return s }

// cnfJKT is cnf.jkt of decoded claims, "" without.
func cnfJKT(m map[string]any) string {
	cnf, _ := m["cnf"].(map[string]any)
	return str(cnf, "jkt")
}

var (
	spaRedirect = "http://127.0.0.1:9000/callback"
	ccForm      = url.Values{"grant_type": {"client_credentials"}}
)

// spaCodeForm is the redemption of a demo-spa code.
func spaCodeForm(code, verifier string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_id": {"demo-spa"},
		"redirect_uri": {spaRedirect}, "code_verifier": {verifier}}
}
