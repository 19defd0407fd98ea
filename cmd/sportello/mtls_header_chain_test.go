package main

import (
	"crypto/x509"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/inps/sportello/broker"
	"github.com/inps/sportello/config"
	"github.com/inps/sportello/internal/audit"
	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/x509auth"
	"github.com/inps/sportello/providers/x509auth/cardtest"
)

// Behind a reverse proxy (listen.client_cert_header) the header carries a whole PEM chain: with
// the real certificate validator behind the mTLS route, only the leaf counts there too. A leaf a
// card signed in someone else's name, sent with that card and the anchor, gets the unknown-CA
// page and no login; the audit trail records the validator's reason for that leaf.
func TestProxyHeaderChainCountsOnlyTheLeaf(t *testing.T) {
	const pki = "../../testdata/pki"
	h := cardtest.MintHostile(t, pki)
	v, err := x509auth.NewValidator(x509auth.Policy{
		Anchors:          []*x509.Certificate{h.Anchor},
		RequiredPolicies: []string{x509auth.PolicyCNS},
		// Revocation is not what this test is about: the chain alone must refuse the leaf.
		Revocation: x509auth.Revocation{CRL: false, OCSP: false},
		Logger:     slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := &audit.Recorder{}
	card, err := x509auth.NewAuthenticator(x509auth.Authenticator{
		ProviderInfo: providers.Info{ID: "card", Method: providers.MethodCNS, MaxACR: loa.SpidL3},
		ACR:          loa.SpidL3, Validator: v, Auditor: rec, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	b, base := serveBroker(t, func(c *config.Config) {
		c.Listen.ClientCertHeader = "X-Client-Cert"
		c.Listen.TrustedProxies = []string{"10.1.2.3"}
	}, func(o *broker.Options) { o.Providers, o.Messages = []providers.Provider{card}, x509auth.Messages() })
	mtls := b.MTLSHandler()
	login := func(header string) *httptest.ResponseRecorder {
		jar, _ := cookiejar.New(nil)
		br := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
			if req.URL.Path == "/mtls/card" {
				return http.ErrUseLastResponse
			}
			return nil
		}}
		q := url.Values{"client_id": {"demo-rp"}, "response_type": {"code"}, "scope": {"openid"},
			"redirect_uri": {"http://127.0.0.1:9000/callback"}, "state": {"s"}, "idp": {"card"}}
		resp, err := br.Get(base + "/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if loc == nil || loc.Path != "/mtls/card" {
			t.Fatalf("not sent to the mTLS listener: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		req := httptest.NewRequest(http.MethodGet, loc.RequestURI(), nil) // the step token as issued
		req.RemoteAddr = "10.1.2.3:4444"
		req.Header.Set("X-Client-Cert", header)
		w := httptest.NewRecorder()
		mtls.ServeHTTP(w, req)
		return w
	}

	if w := login(cardtest.EscapedPEM(h.Plain)); !strings.Contains(w.Header().Get("Location"), "/login/done?ref=") {
		t.Fatalf("the genuine card from the proxy was refused: %d %s", w.Code, w.Body.String())
	}
	w := login(cardtest.EscapedPEM(h.Victim, h.CA, h.Anchor))
	// The refusal is shown on the issuer origin (no page is drawn on the mTLS origin).
	status, body := handedBack(t, w)
	if status < 400 {
		t.Fatalf("a card-signed leaf from the proxy header logged in: %d", status)
	}
	if page := html.UnescapeString(body); !strings.Contains(page, x509auth.Messages()[x509auth.ReasonUnknownCA]["it"]) {
		t.Fatalf("not the %s page:\n%.2000s", x509auth.ReasonUnknownCA, page)
	}
	ev := rec.Last(x509auth.AuditRejected)
	if ev == nil || ev.Fields["reason"] != x509auth.ReasonUnknownCA || ev.Fields["serial"] != h.Victim.SerialNumber.Text(16) {
		t.Fatalf("audit record %+v, want %s for the leaf's serial", ev, x509auth.ReasonUnknownCA)
	}
}

// handedBack follows a refusal of the mTLS origin to the page the issuer origin shows (no page
// is drawn on the mTLS listener) and returns its status and body.
func handedBack(t *testing.T, w *httptest.ResponseRecorder) (int, string) {
	t.Helper()
	loc := w.Header().Get("Location")
	if w.Code != http.StatusSeeOther || !strings.Contains(loc, "/login/error?ref=") {
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
