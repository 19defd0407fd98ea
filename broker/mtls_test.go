package broker

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/inps/sportello/config"
	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/providers"
)

// certProvider accepts a certificate whose CN is a fiscal code (the real validation lives in
// providers/x509auth and is tested there, and with this listener in cmd/sportello); it records
// what it was shown. cas are the CA ids the identity names, as x509auth sets them from the
// verified chain.
type certProvider struct {
	seen int
	cas  []string
}

func (p *certProvider) Info() providers.Info {
	return providers.Info{ID: "card", Method: "cie", MaxACR: loa.SpidL3}
}

func (p *certProvider) AuthenticateCertificate(_ context.Context, chain []*x509.Certificate) (*providers.Identity, error) {
	p.seen++
	if len(chain) == 0 || chain[0].Subject.CommonName == "" {
		return nil, providers.ErrCredentialRejected
	}
	return &providers.Identity{FiscalNumber: chain[0].Subject.CommonName, Method: "cie", ACR: loa.SpidL3,
		AMR: []string{"sc", "pin", "hwk", "mfa"}, AuthTime: time.Now(), CertAuthorities: p.cas}, nil
}

func selfSigned(t *testing.T, cn string) string {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return url.QueryEscape(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
}

// The reverse-proxy header is taken only from trusted proxies; the hand-back reference to the
// main origin is single use and bound to the browser that started the login, and a foreign
// browser's attempt to redeem it consumes nothing.
func TestCertificateHandBack(t *testing.T) {
	cp := &certProvider{}
	tb := newTestBrokerWith(t, memStore(t), func(o *Options) { o.Providers = append(o.Providers, cp) }, func(c *config.Config) {
		c.Listen.ClientCertHeader = "X-Client-Cert"
		c.Listen.TrustedProxies = []string{"10.1.2.3", "192.168.0.0/16"}
	})
	mtls := tb.MTLSHandler()
	start := func(br *browser) string {
		q := url.Values{"client_id": {"demo-rp"}, "response_type": {"code"}, "scope": {"openid"},
			"redirect_uri": {"http://127.0.0.1:9000/callback"}, "state": {"s"}, "idp": {"card"}}
		resp, err := br.Get(tb.URL + pathAuthorize + "?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		// The mTLS listener is not running here: the redirect to it is the last hop.
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if loc == nil || loc.Path != "/mtls/card" {
			t.Fatalf("not sent to the mTLS listener: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		return loc.Query().Get("step")
	}
	hit := func(step, remote, header string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/mtls/card?step="+url.QueryEscape(step), nil)
		req.RemoteAddr = remote
		if header != "" {
			req.Header.Set("X-Client-Cert", header)
		}
		w := httptest.NewRecorder()
		mtls.ServeHTTP(w, req)
		return w
	}
	noFollow := func(br *browser) *browser {
		c := *br.Client
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		return &browser{Client: &c}
	}

	t.Run("the header from an untrusted address is ignored", func(t *testing.T) {
		br := newBrowser(t)
		id := start(noFollowBrowser(br))
		before := cp.seen
		w := hit(id, "203.0.113.9:4444", selfSigned(t, "RSSMRA80A01H501U"))
		if status, _ := handedBack(t, w); cp.seen != before || status < 400 {
			t.Fatalf("untrusted header used: %d seen=%d", status, cp.seen-before)
		}
	})
	t.Run("from a trusted proxy the certificate goes to the provider; the reference is single use and browser-bound", func(t *testing.T) {
		br := newBrowser(t)
		id := start(noFollowBrowser(br))
		w := hit(id, "192.168.7.7:5555", selfSigned(t, "RSSMRA80A01H501U"))
		loc := w.Header().Get("Location")
		if w.Code != http.StatusSeeOther || !strings.Contains(loc, "/login/done?ref=") {
			t.Fatalf("trusted header: %d %s", w.Code, loc)
		}
		// Another browser cannot complete it, and its attempt consumes nothing.
		other := noFollow(newBrowser(t))
		resp, err := other.Get(loc)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("foreign browser completed the login: %d", resp.StatusCode)
		}
		resp, err = noFollow(br).Get(loc)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if cb, _ := url.Parse(resp.Header.Get("Location")); cb == nil || cb.Query().Get("code") == "" {
			t.Fatalf("the right browser could not complete after a foreign attempt: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		// The reference is single use: a replay fails even in the right browser.
		resp, err = noFollow(br).Get(loc)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Fatalf("replayed reference accepted: %d", resp.StatusCode)
		}
	})
	t.Run("the right browser completes with a fresh reference", func(t *testing.T) {
		br := newBrowser(t)
		id := start(noFollowBrowser(br))
		loc := hit(id, "10.1.2.3:1", selfSigned(t, "RSSMRA80A01H501U")).Header().Get("Location")
		resp, err := noFollow(br).Get(loc)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		cb, _ := url.Parse(resp.Header.Get("Location"))
		if cb == nil || cb.Port() != "9000" || cb.Query().Get("code") == "" {
			t.Fatalf("no code: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
	t.Run("a literal + left unescaped by the proxy is base64, not a space", func(t *testing.T) {
		// nginx's $ssl_client_escaped_cert and others differ on "+": the header parser must
		// keep it (url.QueryUnescape would turn it into a space and corrupt the certificate).
		var hdr string
		for i := 0; i < 20 && !strings.Contains(hdr, "+"); i++ {
			hdr = strings.ReplaceAll(selfSigned(t, "RSSMRA80A01H501U"), "%2B", "+")
		}
		if !strings.Contains(hdr, "+") {
			t.Fatal("no certificate with a + in its base64")
		}
		br := newBrowser(t)
		id := start(noFollowBrowser(br))
		if w := hit(id, "10.1.2.3:1", hdr); !strings.Contains(w.Header().Get("Location"), "/login/done?ref=") {
			t.Fatalf("certificate with a literal + refused: %d %s", w.Code, w.Body.String())
		}
	})
	t.Run("no certificate at all is a page, not a login", func(t *testing.T) {
		br := newBrowser(t)
		id := start(noFollowBrowser(br))
		if status, body := handedBack(t, hit(id, "192.168.1.1:1", "")); status < 400 || !strings.Contains(body, "non ha presentato alcun certificato") {
			t.Fatalf("got %d %s", status, body)
		}
	})
}

// handedBack follows a refusal of the mTLS origin to the page the issuer origin shows (no page
// is drawn on the mTLS listener) and returns its status and body.
func handedBack(t *testing.T, w *httptest.ResponseRecorder) (int, string) {
	t.Helper()
	loc := w.Header().Get("Location")
	if w.Code != http.StatusSeeOther || !strings.Contains(loc, pathLoginError+"?ref=") {
		t.Fatalf("the mTLS origin answered %d %q, not a hand-back to the issuer:\n%s", w.Code, loc, w.Body)
	}
	if strings.Contains(w.Body.String(), "/static/") {
		t.Fatal("the mTLS origin drew a page with assets")
	}
	resp, err := http.Get(loc)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// noFollowBrowser keeps the jar but stops at the first redirect that leaves the main origin.
func noFollowBrowser(br *browser) *browser {
	c := *br.Client
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Path == "/mtls/card" {
			return http.ErrUseLastResponse
		}
		return nil
	}
	return &browser{Client: &c}
}
