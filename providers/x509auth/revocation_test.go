package x509auth_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/x509auth"
)

func TestRevocation(t *testing.T) {
	clk := newClock()
	ps := startPKI(t, clk.Now)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close() // connection refused from now on
	unreachable := map[string]string{devBase: closed.URL + "/dev/pki/"}

	tests := []struct {
		rule      string
		crl, ocsp bool
		rewrite   map[string]string
		allow     bool
		cert      string
		reason    string
		seen      string // the first answers OnRevocationCheck is told (the leaf's)
	}{
		{"revoked in the CRL is refused by CRL alone", true, false, nil, false, "revoked-crl", x509auth.ReasonRevoked, "crl:revoked"},
		{"a revocation the CRL has not published passes CRL alone", true, false, nil, false, "revoked-ocsp", "", "crl:good"},
		{"revoked by OCSP is refused by OCSP alone", false, true, nil, false, "revoked-ocsp", x509auth.ReasonRevoked, "ocsp:revoked"},
		{"revoked in the CRL is refused by OCSP alone too", false, true, nil, false, "revoked-crl", x509auth.ReasonRevoked, "ocsp:revoked"},
		{"good certificate passes CRL and OCSP", true, true, nil, false, "mario-rossi-cie", "", "crl:good ocsp:good"},
		{"unreachable sources fail closed by default", true, true, unreachable, false, "mario-rossi-cie", x509auth.ReasonRevocationUnavailable, "crl:unknown ocsp:unknown"},
		{"unreachable sources are allowed when configured", true, true, unreachable, true, "mario-rossi-cie", "", "crl:unknown ocsp:unknown"},
		{"revocation switched off checks nothing", false, false, unreachable, false, "revoked-crl", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			p := policy(t, ps, clk.Now)
			p.Revocation.CRL, p.Revocation.OCSP = tt.crl, tt.ocsp
			if tt.rewrite != nil {
				p.Revocation.URLRewrite = tt.rewrite
			}
			if tt.allow {
				p.Revocation.OnUnreachable = x509auth.OnUnreachableAllow
			}
			var seen []string
			p.OnRevocationCheck = func(source, result string) { seen = append(seen, source+":"+result) }
			_, err := validator(t, p).Validate(context.Background(), leaf(t, tt.cert))
			if got := x509auth.Reason(err); got != tt.reason {
				t.Fatalf("reason %q (%v), want %q", got, err, tt.reason)
			}
			if got := strings.Join(seen, " "); !strings.HasPrefix(got, tt.seen) || (tt.seen == "") != (got == "") {
				t.Errorf("revocation answers %q, want %q first", got, tt.seen)
			}
			if tt.reason == x509auth.ReasonRevocationUnavailable &&
				!(errors.Is(err, providers.ErrUnavailable) && errors.Is(err, providers.ErrCredentialRejected)) {
				t.Errorf("%v should wrap ErrUnavailable and ErrCredentialRejected", err)
			}
		})
	}
}

func TestCRLFetchedOnceUntilNextUpdate(t *testing.T) {
	clk := newClock()
	ps := startPKI(t, clk.Now)
	p := policy(t, ps, clk.Now)
	p.Revocation.OCSP = false
	v := validator(t, p)
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := v.Validate(context.Background(), leaf(t, "mario-rossi-cie")); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	// One CRL for the leaf (cie-sub) and one for the intermediate (cie-root).
	if n := ps.crlFetches.Load(); n != 2 {
		t.Errorf("CRL fetches after 20 concurrent logins = %d, want 2", n)
	}
}

// freshCRLs serves CRLs for the dev CIE CAs signed on demand with nextUpdate one hour after
// the clock, counting downloads.
func freshCRLs(t *testing.T, clk *clock, fetches *atomic.Int64) *httptest.Server {
	t.Helper()
	load := func(name string) (*x509.Certificate, crypto.Signer) {
		c := certs(t, name)[0]
		data, err := os.ReadFile(filepath.Join(pkiDir, name+".key"))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := pem.Decode(data)
		k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		return c, k.(crypto.Signer)
	}
	cas := map[string]func() (*x509.Certificate, crypto.Signer){
		"cie-sub":  func() (*x509.Certificate, crypto.Signer) { return load("cie-sub") },
		"cie-root": func() (*x509.Certificate, crypto.Signer) { return load("cie-root") },
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimSuffix(filepath.Base(r.URL.Path), ".crl")
		ca, ok := cas[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		fetches.Add(1)
		cert, key := ca()
		now := clk.Now()
		der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
			Number: big.NewInt(now.Unix()), ThisUpdate: now.Add(-time.Minute), NextUpdate: now.Add(time.Hour),
		}, cert, key)
		if err != nil {
			t.Error(err)
		}
		w.Write(der)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestCRLFetchedAgainAfterNextUpdate(t *testing.T) {
	clk := newClock()
	var fetches atomic.Int64
	srv := freshCRLs(t, clk, &fetches)
	p := x509auth.Policy{
		Anchors: certs(t, "cie-root"), Intermediates: certs(t, "cie-sub"),
		RequiredPolicies: []string{x509auth.PolicyCIE},
		Revocation:       x509auth.Revocation{CRL: true, URLRewrite: map[string]string{devBase + "crl/": srv.URL + "/"}},
		Now:              clk.Now,
	}
	v := validator(t, p)
	steps := []struct {
		advance time.Duration
		want    int64
	}{{0, 2}, {30 * time.Minute, 2}, {29 * time.Minute, 2}, {0, 2}, {2 * time.Minute, 4}, {10 * time.Minute, 4}}
	for i, s := range steps {
		clk.Advance(s.advance)
		if _, err := v.Validate(context.Background(), leaf(t, "mario-rossi-cie")); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if got := fetches.Load(); got != s.want {
			t.Fatalf("step %d (+%s): %d CRL downloads, want %d", i, s.advance, got, s.want)
		}
	}
}

func TestOCSPCachedUntilNextUpdate(t *testing.T) {
	clk := newClock()
	ps := startPKI(t, clk.Now)
	p := policy(t, ps, clk.Now)
	p.Revocation.CRL = false
	v := validator(t, p)
	steps := []struct {
		advance time.Duration
		want    int64
	}{{0, 2}, {0, 2}, {50 * time.Minute, 2}, {20 * time.Minute, 4}, {time.Minute, 4}}
	for i, s := range steps {
		clk.Advance(s.advance)
		if _, err := v.Validate(context.Background(), leaf(t, "mario-rossi-cie")); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if got := ps.ocspFetches.Load(); got != s.want {
			t.Fatalf("step %d (+%s): %d OCSP requests, want %d", i, s.advance, got, s.want)
		}
	}
}

func TestBadRevocationAnswersAreNotTrusted(t *testing.T) {
	ps := startPKI(t, nil)
	// replay answers the first OCSP response it saw for a path to every later request.
	var mu sync.Mutex
	seen := map[string][]byte{}
	replay := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if body, ok := seen[r.URL.Path]; ok {
			w.Write(body)
			return
		}
		resp, err := http.Post(ps.URL+r.URL.Path, "application/ocsp-request", r.Body)
		if err != nil {
			t.Error(err)
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		seen[r.URL.Path] = body
		w.Write(body)
	}))
	t.Cleanup(replay.Close)
	otherCA := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(mustRead(t, filepath.Join(pkiDir, "cns-ca.crl")))
	}))
	t.Cleanup(otherCA.Close)

	tests := []struct {
		rule   string
		adjust func(*x509auth.Policy)
	}{
		{"a replayed OCSP response (old nonce) is refused", func(p *x509auth.Policy) {
			p.Revocation.CRL = false
			p.Revocation.URLRewrite = map[string]string{devBase: replay.URL + "/dev/pki/"}
		}},
		{"a CRL larger than the limit is refused", func(p *x509auth.Policy) {
			p.Revocation.OCSP, p.Revocation.MaxCRLSize = false, 100
		}},
		{"a CRL signed by another CA is refused", func(p *x509auth.Policy) {
			p.Revocation.OCSP = false
			p.Revocation.URLRewrite = map[string]string{devBase: otherCA.URL + "/"}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			if strings.Contains(tt.rule, "replayed") {
				// Prime the replay cache with a first, genuine exchange.
				p := policy(t, ps, nil)
				tt.adjust(&p)
				if _, err := validator(t, p).Validate(context.Background(), leaf(t, "mario-rossi-cie")); err != nil {
					t.Fatalf("first exchange: %v", err)
				}
			}
			p := policy(t, ps, nil)
			tt.adjust(&p)
			_, err := validator(t, p).Validate(context.Background(), leaf(t, "mario-rossi-cie"))
			if x509auth.Reason(err) != x509auth.ReasonRevocationUnavailable {
				t.Fatalf("err = %v, want %s", err, x509auth.ReasonRevocationUnavailable)
			}
		})
	}
}

func TestConfiguredOCSPResponderOverridesAIA(t *testing.T) {
	ps := startPKI(t, nil)
	p := policy(t, ps, nil)
	p.Revocation.OCSPResponder = ps.URL + "/dev/pki/ocsp/cie-sub"
	before := ps.ocspFetches.Load()
	_, err := validator(t, p).Validate(context.Background(), leaf(t, "revoked-ocsp"))
	if x509auth.Reason(err) != x509auth.ReasonRevoked {
		t.Fatalf("err = %v, want %s", err, x509auth.ReasonRevoked)
	}
	if ps.ocspFetches.Load() == before {
		t.Error("configured responder not asked")
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// A CRL or OCSP responder that accepts the connection and never answers is cut at
// revocation.fetch_timeout and handled as unreachable (fail closed by default): a login never
// hangs on it.
func TestHangingResponderIsCutAtFetchTimeout(t *testing.T) {
	clk := newClock()
	ps := startPKI(t, clk.Now)
	release := make(chan struct{})
	var hits atomic.Int32
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); hang.Close() })
	p := policy(t, ps, clk.Now)
	p.Revocation.URLRewrite = map[string]string{devBase: hang.URL + "/dev/pki/"}
	p.Revocation.FetchTimeout = 200 * time.Millisecond
	v, chain := validator(t, p), leaf(t, "mario-rossi-cie")
	done := make(chan error, 1)
	go func() {
		_, err := v.Validate(context.Background(), chain)
		done <- err
	}()
	select {
	case err := <-done:
		if x509auth.Reason(err) != x509auth.ReasonRevocationUnavailable || hits.Load() == 0 {
			t.Fatalf("hanging responder: %v (%d requests), want %s", err, hits.Load(), x509auth.ReasonRevocationUnavailable)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the validation is still waiting on a responder that never answers")
	}
}
