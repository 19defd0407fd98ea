package broker

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/inps/sportello/broker/grants"
	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/internal/store/redistest"
	"github.com/inps/sportello/providers"
)

// BenchmarkRawES256Sign is the reference: one ES256 JWS of an access-token-sized payload.
func BenchmarkRawES256Sign(b *testing.B) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	s, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithType("at+jwt"))
	payload := []byte(`{"iss":"http://127.0.0.1:8080","sub":"demo-service","aud":["demo-service"],"client_id":"demo-service","iat":1700000000,"exp":1700000300,"jti":"abcdefghijklmnopqrstuv","scope":"inps:services"}`)
	b.ReportAllocs()
	for b.Loop() {
		jws, err := s.Sign(payload)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := jws.CompactSerialize(); err != nil {
			b.Fatal(err)
		}
	}
}

func benchStores(b *testing.B, fn func(b *testing.B, st store.Store)) {
	b.Run("memory", func(b *testing.B) { fn(b, memStore(b)) })
	b.Run("redis", func(b *testing.B) { fn(b, redisStore(b, redistest.Start(b))) })
}

// BenchmarkTokenClientCredentials is a full token-endpoint request (client authentication,
// form decoding, ES256 JWT access token) through the HTTP handler, no network.
func BenchmarkTokenClientCredentials(b *testing.B) {
	benchStores(b, func(b *testing.B, st store.Store) {
		tb := newTestBroker(b, st)
		body := url.Values{"grant_type": {"client_credentials"}, "scope": {"inps:services"}}.Encode()
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			req := httptest.NewRequest(http.MethodPost, pathToken, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth("demo-service", "demo-service-secret")
			w := httptest.NewRecorder()
			tb.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
	})
}

// BenchmarkTokenCodeExchange redeems authorization codes (take from the store, PKCE-less
// confidential client, ID token + access token + refresh token written to the store).
func BenchmarkTokenCodeExchange(b *testing.B) {
	benchStores(b, func(b *testing.B, st store.Store) {
		tb := newTestBroker(b, st)
		ctx := context.Background()
		id := &providers.Identity{FiscalNumber: "RSSMRA80A01H501U", Method: "spid", ACR: loa.SpidL2,
			AMR: []string{"pwd", "mfa"}, AuthTime: time.Now()}
		codes := make([]string, 0, 1024)
		mint := func(n int) {
			codes = codes[:0]
			for i := 0; i < n; i++ {
				code := "bench-code-" + strconv.Itoa(i) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
				rec := grants.Code{Grant: grants.Grant{ClientID: "demo-rp", Scopes: []string{"openid", "fiscal_number", "offline_access"},
					Subject: subjectFor(tb.subjectKey, id.FiscalNumber), Identity: id},
					RedirectURI: "http://127.0.0.1:9000/callback", ExpiresAt: time.Now().Add(time.Hour)}
				if err := tb.grants.PutCode(ctx, code, &rec, time.Hour); err != nil {
					b.Fatal(err)
				}
				codes = append(codes, code)
			}
		}
		b.ReportAllocs()
		i := 0
		mint(1024)
		b.ResetTimer()
		for b.Loop() {
			if i == len(codes) {
				b.StopTimer()
				mint(1024)
				i = 0
				b.StartTimer()
			}
			body := url.Values{"grant_type": {"authorization_code"}, "code": {codes[i]}, "redirect_uri": {"http://127.0.0.1:9000/callback"}}.Encode()
			i++
			req := httptest.NewRequest(http.MethodPost, pathToken, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth("demo-rp", "demo-secret")
			w := httptest.NewRecorder()
			tb.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
	})
}

// BenchmarkDiscoveryAndJWKS serves the pre-serialised documents.
func BenchmarkDiscoveryAndJWKS(b *testing.B) {
	tb := newTestBroker(b, memStore(b))
	for _, p := range []string{pathDiscovery, pathJWKS} {
		b.Run(strings.Trim(p, "/."), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				tb.ServeHTTP(w, httptest.NewRequest(http.MethodGet, p, nil))
				if w.Code != http.StatusOK {
					b.Fatal(w.Code)
				}
			}
		})
	}
}

// dpopProofs signs n proofs by c for POST at uri with the broker's current nonce, outside
// the timed loop: a benchmark measures the server's checks, not the client's signatures.
func dpopProofs(b *testing.B, tb *testBroker, c *dpopClient, uri string, n int) []string {
	c.nonce = tb.dpopAS.Nonce()
	out := make([]string, n)
	for i := range out {
		out[i] = c.proof(b, http.MethodPost, uri, nil)
	}
	return out
}

// BenchmarkTokenClientCredentialsDPoP is BenchmarkTokenClientCredentials with a DPoP proof:
// the proof's signature checked, its jti recorded in the store (put-if-absent), the nonce
// checked, and a DPoP-bound (cnf.jkt) access token.
func BenchmarkTokenClientCredentialsDPoP(b *testing.B) {
	benchStores(b, func(b *testing.B, st store.Store) {
		tb := newTestBroker(b, st)
		c := newDPoPClient(b)
		body := url.Values{"grant_type": {"client_credentials"}, "scope": {"inps:services"}}.Encode()
		proofs := dpopProofs(b, tb, c, tb.issuer+pathToken, 512)
		i := 0
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if i == len(proofs) {
				b.StopTimer()
				proofs, i = dpopProofs(b, tb, c, tb.issuer+pathToken, 512), 0
				b.StartTimer()
			}
			req := httptest.NewRequest(http.MethodPost, pathToken, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("DPoP", proofs[i])
			i++
			req.SetBasicAuth("demo-service", "demo-service-secret")
			w := httptest.NewRecorder()
			tb.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
	})
}

// BenchmarkPARAndCodeDPoP is the back channel of a DPoP-bound FAPI login, without the front
// channel: a push to /oauth/par with a proof (demo-rp, HTTP Basic; the request validated and
// stored, bound to the key), then the redemption of a code bound to that key with a second
// proof (ID, access and refresh tokens). The code is minted as a completed login would.
func BenchmarkPARAndCodeDPoP(b *testing.B) {
	benchStores(b, func(b *testing.B, st store.Store) {
		tb := newTestBroker(b, st)
		ctx := context.Background()
		c := newDPoPClient(b)
		jkt := c.jkt(b)
		id := &providers.Identity{FiscalNumber: "RSSMRA80A01H501U", Method: "spid", ACR: loa.SpidL2,
			AMR: []string{"pwd", "mfa"}, AuthTime: time.Now()}
		push := url.Values{"response_type": {"code"}, "scope": {"openid fiscal_number offline_access"},
			"redirect_uri": {"http://127.0.0.1:9000/callback"}, "state": {"s"}, "nonce": {"n"}}.Encode()
		const batch = 256
		var pars, toks, codes []string
		mint := func() {
			pars = dpopProofs(b, tb, c, tb.issuer+pathPAR, batch)
			toks = dpopProofs(b, tb, c, tb.issuer+pathToken, batch)
			codes = codes[:0]
			for i := range batch {
				code := "bench-dpop-code-" + strconv.Itoa(i) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
				rec := grants.Code{Grant: grants.Grant{ClientID: "demo-rp", Scopes: []string{"openid", "fiscal_number", "offline_access"},
					Subject: subjectFor(tb.subjectKey, id.FiscalNumber), Identity: id, Nonce: "n"},
					RedirectURI: "http://127.0.0.1:9000/callback", DPoPJKT: jkt, ExpiresAt: time.Now().Add(time.Hour)}
				if err := tb.grants.PutCode(ctx, code, &rec, time.Hour); err != nil {
					b.Fatal(err)
				}
				codes = append(codes, code)
			}
		}
		post := func(path, body, proof string, want int) {
			req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("DPoP", proof)
			req.SetBasicAuth("demo-rp", "demo-secret")
			w := httptest.NewRecorder()
			tb.ServeHTTP(w, req)
			if w.Code != want {
				b.Fatalf("%s: status %d: %s", path, w.Code, w.Body)
			}
		}
		i := 0
		mint()
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if i == batch {
				b.StopTimer()
				mint()
				i = 0
				b.StartTimer()
			}
			post(pathPAR, push, pars[i], http.StatusCreated)
			body := url.Values{"grant_type": {"authorization_code"}, "code": {codes[i]}, "redirect_uri": {"http://127.0.0.1:9000/callback"}}.Encode()
			post(pathToken, body, toks[i], http.StatusOK)
			i++
		}
	})
}
