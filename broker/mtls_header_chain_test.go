package broker

import (
	"crypto/x509"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

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
	const pki = "../testdata/pki"
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
	tb := newTestBrokerWith(t, memStore(t), func(o *Options) {
		o.Providers = append(o.Providers, card)
		o.Messages = x509auth.Messages()
	}, func(c *config.Config) {
		c.Listen.ClientCertHeader = "X-Client-Cert"
		c.Listen.TrustedProxies = []string{"10.1.2.3"}
	})
	mtls := tb.MTLSHandler()
	login := func(header string) *httptest.ResponseRecorder {
		br := noFollowBrowser(newBrowser(t))
		q := url.Values{"client_id": {"demo-rp"}, "response_type": {"code"}, "scope": {"openid"},
			"redirect_uri": {"http://127.0.0.1:9000/callback"}, "state": {"s"}, "idp": {"card"}}
		resp, err := br.Get(tb.URL + pathAuthorize + "?" + q.Encode())
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
